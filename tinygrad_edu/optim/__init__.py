"""Optimizers and learning-rate schedules, laid out as ``torch.optim``.

First order: ``SGD`` (with momentum and Nesterov), ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``.
Quasi-second order ("1.5th order"): ``LBFGS``, which builds a curvature model from the last few
gradient differences. Second order: ``Newton``, which asks the engine for the exact Hessian.

Every optimizer has PyTorch's names, defaults and update rules (``torch.optim`` 2.x, the
single-tensor ``foreach=False`` code, operation for operation), so the same problem from the same
start follows the same trajectory to about 1e-12. The difference: here a parameter is one scalar
``Value``, so each rule is written on plain Python floats, element by element, exactly as it reads
on the board. Each class docstring gives its rule in math.

Not bit for bit, though: torch's CPU kernels for ``lerp``, ``addcmul`` and ``add(..., alpha=)``
use fused multiply-adds (a * b + c rounded once), where Python rounds the product and then the sum.
Single steps then differ by at most an ulp or so, and trajectories stay within ~1e-12 on the tests'
problems (Rosenbrock, a logistic regression); on a chaotic run (a long L-BFGS run without line
search on a non-convex function) those last-bit differences can grow, as between two CPUs.

The protocol, as in PyTorch::

    opt = Adam(model.parameters(), lr=1e-2)
    for x, y in data:
        opt.zero_grad()               # .grad accumulates across backward() calls: reset it
        loss = loss_fn(model(x), y)
        loss.backward()               # fills p.grad for every parameter p
        opt.step()                    # reads p.grad, writes p.data

``LBFGS`` and ``Newton`` need to evaluate the function more than once (or need its graph), so their
``step`` takes a *closure*: a function that zeroes the gradients, computes the loss from the
parameters, calls ``loss.backward()`` and returns the loss. The first-order optimizers accept one
too.

The modules, as in PyTorch:

- ``optimizer``: the base ``Optimizer`` and the shared hyperparameter checks
- ``sgd``, ``adagrad``, ``rmsprop``, ``adam`` (``Adam``, ``AdamW``), ``lbfgs`` (with its
  strong-Wolfe line search), ``newton``: one optimizer per file
- ``lr_scheduler``: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` change
  ``param_group['lr']`` of any optimizer, with PyTorch's semantics (call ``scheduler.step()``
  after ``optimizer.step()``)
- ``projections``: for a constraint x in C, ``Projected(optimizer, project)`` puts the parameters
  back into C after every step (projected gradient descent), with ``project_onto_box``,
  ``project_onto_ball`` and ``project_onto_hyperplane``

Also importable from here, where they lived before: the 2-D test functions (``rosenbrock``, ...)
and ``minimize`` from ``tinygrad_edu.problems``, and ``ridge_regression`` from
``tinygrad_edu.linalg``.
"""

from tinygrad_edu.linalg import _cholesky, _cholesky_solve, ridge_regression
from tinygrad_edu.optim.adagrad import Adagrad
from tinygrad_edu.optim.adam import Adam, AdamW
from tinygrad_edu.optim.lbfgs import LBFGS, _cubic_interpolate, _strong_wolfe
from tinygrad_edu.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    StepLR,
)
from tinygrad_edu.optim.newton import Newton
from tinygrad_edu.optim.optimizer import (
    Closure,
    Optimizer,
    _check_betas,
    _check_nonnegative,
    _check_number,
    _check_positive_int,
    _dot,
    _lerp,
    _max_abs,
)
from tinygrad_edu.optim.projections import (
    Projected,
    _check_point,
    _check_vector,
    project_onto_ball,
    project_onto_box,
    project_onto_hyperplane,
)
from tinygrad_edu.optim.rmsprop import RMSprop
from tinygrad_edu.optim.sgd import SGD
from tinygrad_edu.problems import (
    TEST_FUNCTION_MINIMA,
    beale,
    ill_conditioned_bowl,
    minimize,
    rosenbrock,
    saddle,
    tilted_double_well,
)

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "LBFGS",
    "Newton",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "rosenbrock",
    "beale",
    "saddle",
    "ill_conditioned_bowl",
    "tilted_double_well",
    "TEST_FUNCTION_MINIMA",
    "project_onto_box",
    "project_onto_ball",
    "project_onto_hyperplane",
    "Projected",
    "minimize",
    "ridge_regression",
]

# The module's private helpers, still reachable as optim._name as before the split.
_PRIVATE_REEXPORTS = (
    _check_betas,
    _check_nonnegative,
    _check_number,
    _check_point,
    _check_positive_int,
    _check_vector,
    _cholesky,
    _cholesky_solve,
    _cubic_interpolate,
    _dot,
    _lerp,
    _max_abs,
    _strong_wolfe,
    Closure,
)
