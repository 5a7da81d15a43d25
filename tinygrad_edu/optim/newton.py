"""Damped Newton's method (second order), with the exact Hessian from the engine."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tinygrad_edu.autodiff import grad
from tinygrad_edu.engine import Value, enable_grad
from tinygrad_edu.linalg import _cholesky, _cholesky_solve
from tinygrad_edu.optim.optimizer import (
    Closure,
    Optimizer,
    _check_nonnegative,
    _check_positive_int,
    _SavedState,
)


class Newton(Optimizer):
    r"""Damped Newton's method with the exact Hessian from the engine (for small problems).

    At each ``step(closure)``, with g = grad f(theta) and H the Hessian d^2 f / dtheta^2::

        solve (H + lambda I) d = g                (Cholesky; lambda = damping)
        theta <- theta - lr * d

    With lambda = 0 and lr = 1 this is the pure Newton step to the minimum of the quadratic
    model f(theta) + g.(dtheta) + 1/2 dtheta.H.dtheta, which lands exactly on the minimum of a
    quadratic in one step and converges quadratically near a minimum of anything smooth.

    Levenberg-style safeguard: if H + lambda I is not positive definite (a saddle, a concave
    region, or just rounding), the Newton step would not be a descent direction, or would not
    exist. Then lambda is multiplied by 10 (starting from at least 1e-4 if damping is 0) and the
    factorisation retried until it succeeds. A large lambda makes d ~ g / lambda: a short
    gradient-descent step. The lambda used last is ``state[first parameter]['damping_used']``.

    The Hessian comes from ``autodiff.grad(loss, params, create_graph=True)`` (the gradient as a
    graph) and one more backward pass per row; it is symmetrised, (H + H^T) / 2, against
    rounding. That is n backward passes and n^2 numbers per step, so ``max_params`` (default 500)
    guards against problems too large for it: use ``LBFGS`` there.

    State (under the first parameter): ``hessian_evals`` (one per step), ``n_iter``,
    ``damping_used``.

    Raises:
        ValueError: more than ``max_params`` parameters; negative lr or damping; more than one
            parameter group.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        damping: float = 1e-4,
        max_params: int = 500,
    ) -> None:
        _check_positive_int("Newton", "max_params", max_params)
        self.max_params = int(max_params)
        defaults = {"lr": lr, "damping": damping}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("Newton doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("Newton doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)
        n = len(self.param_groups[0]["params"])
        if n > self.max_params:
            self.param_groups.clear()
            raise ValueError(
                f"Newton: {n} parameters exceed max_params={self.max_params}. The exact "
                f"Hessian has n^2 = {n * n} entries and costs n backward passes per step; "
                f"use LBFGS for a problem this size (or raise max_params knowingly)"
            )

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_nonnegative("Newton", "damping", group["damping"])

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        if saved is None:
            return
        if index != 0:
            raise ValueError(
                f"{owner}: {saved.where} is for parameter {index}; Newton keeps its state "
                f"under the first parameter (index 0)"
            )
        saved.keys((), ("hessian_evals", "n_iter", "damping_used"))
        saved.count("hessian_evals")
        saved.count("n_iter")
        saved.number("damping_used", nonnegative=True)

    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """One damped Newton step; returns the loss before the step.

        Args:
            closure: required. Computes the loss *as a Value built from the parameters* and
                returns it (it may zero the grads and call ``backward()`` too, as for any
                optimizer): the Hessian is obtained by differentiating that graph.
        """
        if closure is None:
            raise TypeError(
                "Newton.step: a closure is required (the Hessian is computed from the graph "
                "of the loss it returns): opt.step(closure)"
            )
        group = self.param_groups[0]
        params = group["params"]
        lr, damping = group["lr"], float(group["damping"])
        with enable_grad():
            loss = closure()
        if not isinstance(loss, Value):
            raise TypeError(
                f"Newton.step: the closure must return the loss as a Value built from the "
                f"parameters, got {type(loss).__name__!r}"
            )
        n = len(params)
        gradient = grad(loss, params, create_graph=True)  # Values: differentiable once more
        g = [gi.data for gi in gradient]
        rows = [list(grad(gi, params)) for gi in gradient]  # row i: d g_i / d theta
        hess = [[0.5 * (rows[i][j] + rows[j][i]) for j in range(n)] for i in range(n)]
        for i, row in enumerate(hess):
            if not all(math.isfinite(h) for h in row) or not math.isfinite(g[i]):
                raise ValueError(
                    f"Newton.step: the gradient or Hessian has a non-finite entry in row {i} "
                    f"(gradient {g[i]!r}); the loss is {loss.data!r} at this point"
                )

        lam = damping
        for _ in range(100):
            shifted = [
                [h + (lam if i == j else 0.0) for j, h in enumerate(row)]
                for i, row in enumerate(hess)
            ]
            low = _cholesky(shifted)
            if low is not None:
                break
            lam = max(10.0 * lam, 1e-4)
        else:  # unreachable for finite H: lambda > max |eigenvalue| is positive definite
            raise ValueError("Newton.step: could not make H + damping * I positive definite")
        direction = _cholesky_solve(low, g)
        for p, di in zip(params, direction):
            p.data = p.data - lr * di

        state = self.state.setdefault(params[0], {})
        state["hessian_evals"] = state.get("hessian_evals", 0) + 1
        state["n_iter"] = state.get("n_iter", 0) + 1
        state["damping_used"] = lam
        return loss
