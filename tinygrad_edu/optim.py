"""Optimizers, learning-rate schedules and 2-D test functions.

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

Schedules (``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``) change ``param_group['lr']`` of
any optimizer, with PyTorch's semantics (call ``scheduler.step()`` after ``optimizer.step()``).

The 2-D test functions (``rosenbrock``, ``beale``, ``saddle``, ``ill_conditioned_bowl``,
``tilted_double_well``) take floats or Values, and ``minimize`` runs any optimizer on any function
and returns its path. For a constraint x in C, ``Projected(optimizer, project)`` puts the
parameters back into C after every step (projected gradient descent), with the projections
``project_onto_box``, ``project_onto_ball`` and ``project_onto_hyperplane``.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tinygrad_edu.autodiff import grad
from tinygrad_edu.engine import Parameter, Value, enable_grad

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

Closure = Callable[[], Any]


# ----------------------------------------------------------------------------------------------
# Small helpers: hyperparameter checks and PyTorch's arithmetic on floats
# ----------------------------------------------------------------------------------------------


def _check_number(owner: str, name: str, value: object) -> float:
    """A real number (not a bool, not a string), or TypeError naming owner and argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    return float(value)


def _check_nonnegative(owner: str, name: str, value: object) -> None:
    # `not 0 <= x` is also True for NaN, so NaN is rejected too.
    if not 0.0 <= _check_number(owner, name, value):
        raise ValueError(f"{owner}: invalid {name} {value!r} (must be >= 0)")


def _check_positive_int(owner: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{owner}: invalid {name} {value!r} (must be an integer >= 1)")


def _check_betas(owner: str, betas: object) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= _check_number(owner, f"beta{i + 1}", beta) < 1.0:
            raise ValueError(
                f"{owner}: invalid beta parameter at index {i}: {beta!r} (must be in [0, 1))"
            )
    return (float(betas[0]), float(betas[1]))


def _lerp(start: float, end: float, weight: float) -> float:
    """start + weight (end - start), computed as ``torch.lerp`` does.

    Algebraically ``(1 - weight) start + weight end``; PyTorch picks one of two equal forms by the
    size of ``weight`` (the accurate one at each end), and so do we. (Its CPU kernel also fuses
    each multiply-add, so about one result in eight differs from this one in the last bit.)
    """
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def _max_abs(a: Sequence[float]) -> float:
    return max(abs(x) for x in a)


# ----------------------------------------------------------------------------------------------
# The base class
# ----------------------------------------------------------------------------------------------


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``.

    Args:
        params: an iterable of Values (leaves with ``requires_grad=True``, usually Parameters), or
            an iterable of dicts ``{"params": [...], "lr": ..., ...}`` (parameter groups, each with
            its own hyperparameters; those it leaves out come from ``defaults``).
        defaults: the optimizer's hyperparameters.

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (a list of Values) and the
            hyperparameters (``'lr'``, ...). Schedules change ``'lr'`` here.
        state: dict from a parameter (Value) to its dict of running quantities (momentum
            buffers, moment estimates, step counts). Optimizers with a global state (L-BFGS,
            Newton) keep it under the first parameter, as PyTorch's L-BFGS does.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self._name = type(self).__name__
        self.defaults = dict(defaults)
        self.state: dict[Value, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Value):
            raise TypeError(
                f"{self._name}: params must be an iterable of Values (e.g. [x, y] or "
                f"model.parameters()), got a single Value"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self._name}: params must be an ordered collection (a list), not a set: "
                f"the order of a set changes between runs"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (the rest from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a param group must be a dict, got {param_group!r}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Value):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: a group's params must be a list, not a set")
        elif params is None:
            raise ValueError(f"{self._name}: a param group needs a 'params' entry")
        params = list(params)
        if not params:
            raise ValueError(f"{self._name}: got an empty parameter list")
        seen = {p for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            where = f"parameter {i}" + (f" ({p.label!r})" if getattr(p, "label", None) else "")
            if not isinstance(p, Value):
                raise TypeError(
                    f"{self._name}: can only optimize Values, but {where} is {type(p).__name__!r}"
                )
            if not p.requires_grad:
                raise ValueError(
                    f"{self._name}: {where} has requires_grad=False, so it never gets a "
                    f"gradient; leave it out of the optimizer's params"
                )
            if p.parents:
                raise ValueError(
                    f"{self._name}: can't optimize a non-leaf Value ({where} is the result "
                    f"of op {p.op!r}); optimize the leaves it was computed from"
                )
            if p in seen:
                raise ValueError(
                    f"{self._name}: {where} appears more than once (in this group or an "
                    f"earlier one); each parameter must be listed once"
                )
            seen.add(p)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's hyperparameters (subclasses add their own checks)."""
        _check_nonnegative(self._name, "learning rate", group["lr"])

    # -- the training-loop interface -------------------------------------------------------------

    def _params(self) -> list[Value]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (gradients accumulate across backward calls)."""
        for p in self._params():
            p.grad = 0.0

    def step(self, closure: Closure | None = None) -> Any:
        """One update of every parameter from its ``.grad``; returns the closure's loss, if any.

        Args:
            closure: optional; zeroes the grads, computes the loss, calls ``backward()`` and
                returns the loss. Called once, before the update.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- saving and restoring --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain dicts, lists and numbers (``json.dumps`` works on it).

        Same layout as PyTorch: ``{"state": {index: {...}}, "param_groups": [{..., "params":
        [indices]}]}``, where a parameter's index is its position counting through all groups.
        The parameters themselves are not saved (the model's ``state_dict`` holds them).
        """
        index = {p: i for i, p in enumerate(self._params())}
        groups = []
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            if isinstance(saved.get("betas"), tuple):
                saved["betas"] = list(saved["betas"])
            saved["params"] = [index[p] for p in group["params"]]
            groups.append(saved)
        state = {index[p]: copy.deepcopy(s) for p, s in self.state.items() if p in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (also after a JSON trip).

        The optimizer must have been built over the same number of parameters, in the same
        groups, in the same order.
        """
        owner = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{owner}: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{owner}: the saved state has {len(saved_groups)} parameter group(s), "
                f"this optimizer has {len(self.param_groups)}"
            )
        params = self._params()
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{owner}: saved group {i} has {len(saved['params'])} parameters, "
                    f"this optimizer's has {len(group['params'])}"
                )
        new_groups: list[dict[str, Any]] = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if "betas" in new:
                new["betas"] = tuple(new["betas"])
            new["params"] = group["params"]
            missing = sorted(set(self.defaults) - set(new))
            if missing:
                raise ValueError(f"{owner}: saved group {len(new_groups)} lacks {missing}")
            self._check_group(new)  # the same checks as the constructor, before anything changes
            new_groups.append(new)
        new_state: dict[Value, dict[str, Any]] = {}
        for key, value in state_dict["state"].items():
            i = int(key)  # JSON turns the integer keys into strings
            if not 0 <= i < len(params):
                raise ValueError(f"{owner}: state for parameter index {i}, out of range")
            new_state[params[i]] = copy.deepcopy(value)
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
            lines.append(f"    ({len(group['params'])} parameters)")
        lines.append(")")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# First-order methods
# ----------------------------------------------------------------------------------------------


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    For each parameter theta with gradient g, at each ``step()``::

        g <- g + lambda * theta                    (weight_decay lambda, an L2 penalty)
        b <- g                          on the first step        (momentum mu != 0)
        b <- mu * b + (1 - tau) * g     afterwards               (dampening tau)
        g <- g + mu * b                 if nesterov, else  g <- b
        theta <- theta - lr * g

    With ``momentum=0`` this is plain gradient descent, theta <- theta - lr * grad f(theta). The
    buffer b is a running sum of past gradients: along a direction where they agree it grows to
    g / (1 - mu); where they alternate in sign (zig-zag across a narrow valley) it cancels out.
    Nesterov evaluates the "look-ahead" form: it adds the momentum term to the current gradient
    once more. PyTorch's form; note the first buffer is g itself, not (1 - tau) g.

    Raises:
        ValueError: negative lr, momentum or weight_decay; nesterov without momentum or with
            nonzero dampening.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        nesterov: bool = False,
        weight_decay: float = 0,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_nonnegative("SGD", "momentum value", group["momentum"])
        _check_nonnegative("SGD", "weight_decay value", group["weight_decay"])
        _check_number("SGD", "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={group['momentum']!r}, dampening={group['dampening']!r})"
            )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        for p in group["params"]:
            g = p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data
            if momentum != 0:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = g
                else:
                    buf = buf * momentum + (1 - dampening) * g
                state["momentum_buffer"] = buf
                g = g + momentum * buf if nesterov else buf
            p.data = p.data + (-lr) * g


class Adagrad(Optimizer):
    r"""Adagrad: each parameter's step is divided by the root of its summed squared gradients.

    With t the number of ``step()`` calls so far (this one included)::

        g <- g + lambda * theta                       (weight_decay lambda)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        G <- G + g^2                                  (G starts at initial_accumulator_value)
        theta <- theta - lr_t * g / (sqrt(G) + eps)

    A parameter that has had large gradients takes small steps and vice versa: a per-parameter
    learning rate. G only grows, so the steps shrink for ever (RMSprop's fix: forget old g^2).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # G starts at initial_accumulator_value, so the state exists before the first step.
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {"step": 0, "sum": float(group["initial_accumulator_value"])}

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_nonnegative("Adagrad", f"{name} value", group[name])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps, weight_decay = (
            group["lr"],
            group["lr_decay"],
            group["eps"],
            group["weight_decay"],
        )
        for p in group["params"]:
            state = self.state[p]
            state["step"] += 1
            g = p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            state["sum"] = state["sum"] + 1 * g * g
            std = math.sqrt(state["sum"]) + eps
            p.data = p.data + (-clr) * g / std


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running root-mean-square of recent gradients.

    ::

        g <- g + lambda * theta                        (weight_decay lambda)
        v <- alpha * v + (1 - alpha) * g^2             (v starts at 0)
        if centered:  m <- alpha * m + (1 - alpha) * g;   s = sqrt(v - m^2) + eps
        else:                                              s = sqrt(v) + eps
        if momentum mu > 0:  b <- mu * b + g / s;   theta <- theta - lr * b   (b starts at 0)
        else:                                        theta <- theta - lr * g / s

    Unlike Adagrad's sum, v forgets: it averages g^2 over roughly the last 1 / (1 - alpha) steps.
    Centered RMSprop divides by an estimate of the gradient's standard deviation instead.
    (A stricter check than PyTorch's: alpha must be in [0, 1].)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for name in ("eps", "momentum", "weight_decay"):
            _check_nonnegative("RMSprop", f"{name} value", group[name])
        if not 0.0 <= _check_number("RMSprop", "alpha", group["alpha"]) <= 1.0:
            raise ValueError(f"RMSprop: invalid alpha value {group['alpha']!r} (must be in [0, 1])")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = (
            group["weight_decay"],
            group["momentum"],
            group["centered"],
        )
        for p in group["params"]:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": 0.0}
                if momentum > 0:
                    state["momentum_buffer"] = 0.0
                if centered:
                    state["grad_avg"] = 0.0
            state["step"] += 1
            g = p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data
            square_avg = state["square_avg"] * alpha + (1 - alpha) * g * g
            state["square_avg"] = square_avg
            if centered:
                grad_avg = _lerp(state["grad_avg"], g, 1 - alpha)
                state["grad_avg"] = grad_avg
                # v - m^2 >= 0 in exact arithmetic; max() keeps rounding from making it -1e-20.
                avg = math.sqrt(max(square_avg + (-1) * grad_avg * grad_avg, 0.0))
            else:
                avg = math.sqrt(square_avg)
            avg = avg + eps
            if momentum > 0:
                buf = state["momentum_buffer"] * momentum + 1 * g / avg
                state["momentum_buffer"] = buf
                p.data = p.data + (-lr) * buf
            else:
                p.data = p.data + (-lr) * g / avg


class Adam(Optimizer):
    r"""Adam: momentum (first moment) divided by a running RMS (second moment), bias-corrected.

    With t the number of ``step()`` calls so far (the same t for every parameter)::

        g <- g + lambda * theta                  (weight_decay lambda; L2, "coupled")
        m <- beta1 * m + (1 - beta1) * g         (m, v start at 0)
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                   (amsgrad only; then v_max replaces v below)
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    m and v start at 0, so early on they are biased toward 0; dividing by (1 - beta^t) undoes
    that. The bias correction must use the number of ``step()`` calls: each parameter keeps its
    own ``state[p]['step']`` (as PyTorch does), advanced once per ``step()``. The classic bug is
    one shared counter advanced inside the loop over parameters, i.e. once per *parameter*.

    ``AdamW`` is the same with decoupled weight decay (``decoupled_weight_decay=True``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_nonnegative(self._name, "epsilon value", group["eps"])
        group["betas"] = _check_betas(self._name, group["betas"])
        _check_nonnegative(self._name, "weight_decay value", group["weight_decay"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay, amsgrad = (
            group["lr"],
            group["eps"],
            group["weight_decay"],
            group["amsgrad"],
        )
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
                if amsgrad:
                    state["max_exp_avg_sq"] = 0.0
            state["step"] += 1
            g = p.grad
            if weight_decay != 0:
                if decoupled:
                    p.data = p.data * (1 - lr * weight_decay)
                else:
                    g = g + weight_decay * p.data
            exp_avg = _lerp(state["exp_avg"], g, 1 - beta1)
            exp_avg_sq = state["exp_avg_sq"] * beta2 + (1 - beta2) * g * g
            state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
            step = state["step"]
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if amsgrad:
                state["max_exp_avg_sq"] = max(state["max_exp_avg_sq"], exp_avg_sq)
                denom = math.sqrt(state["max_exp_avg_sq"]) / bias_correction2_sqrt + eps
            else:
                denom = math.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
            p.data = p.data + (-step_size) * exp_avg / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): decay theta, not the gradient.

    ::

        theta <- theta * (1 - lr * lambda)       (weight_decay lambda, default 1e-2)
        then Adam's update with the plain gradient g (no lambda * theta added to it)

    In Adam, an L2 term lambda * theta added to g is divided by sqrt(v) like the rest of the
    gradient, so parameters with large gradients are barely decayed. AdamW shrinks every
    parameter by the same factor, independent of its gradient history.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # as PyTorch: AdamW always decays decoupled
            group["decoupled_weight_decay"] = True


# ----------------------------------------------------------------------------------------------
# L-BFGS (quasi-Newton, "1.5th order")
# ----------------------------------------------------------------------------------------------


def _cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, in bounds.

    With d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2) and d2 = sqrt(d1^2 - g1 g2), the minimiser is
    x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2) (x2 the point further right). If the cubic
    has no minimum (d1^2 < g1 g2), take the middle of the bounds. (minFunc's polyinterp.)
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(
    obj_func: Callable[[list[float], float, list[float]], tuple[float, list[float]]],
    x: list[float],
    t: float,
    d: list[float],
    f: float,
    g: list[float],
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, list[float], float, int]:
    """Find a step t along d satisfying the strong Wolfe conditions (PyTorch's / minFunc's).

    The conditions, with phi(t) = f(x + t d) and phi'(t) = grad f(x + t d) . d::

        phi(t) <= phi(0) + c1 t phi'(0)          (sufficient decrease, Armijo)
        |phi'(t)| <= c2 |phi'(0)|                (the slope has flattened enough)

    First *bracket*: grow t (by cubic extrapolation) until an interval is known to contain such
    a point; then *zoom*: shrink the bracket by cubic interpolation until a point satisfies both.

    Returns:
        (f_new, g_new, t, number of function evaluations).
    """
    d_norm = _max_abs(d)
    g = list(g)
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    # Bracketing phase.
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[list[float]] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, list(g_new)], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, list(g_new)], [gtd_prev, gtd_new]
            break
        # Extrapolate: the next trial step lies between 1.01 t and 10 t.
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, list(g_new), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:  # out of evaluations: settle for the best of 0 and t
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # Zoom phase: refine the bracket until a point satisfies both conditions.
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small to matter
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # If t lands within 10% of the bracket's ends twice running (or outside it), move it
        # to 10% inside: otherwise the bracket could shrink from one side only, very slowly.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # No sufficient decrease, or not below the low end: t becomes the high end.
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = list(g_new), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # strong Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # The minimum is on the other side of t: the old low end becomes the high end.
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = list(g_new), gtd_new

    t = bracket[low_pos]
    return bracket_f[low_pos], bracket_g[low_pos], t, ls_func_evals


class LBFGS(Optimizer):
    r"""L-BFGS: a quasi-Newton method that models the inverse Hessian from recent steps.

    It keeps the last ``history_size`` pairs s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k (only those
    with curvature y_k . s_k > 1e-10) and forms the direction d = -H g by the two-loop recursion::

        q <- -g
        for k = newest ... oldest:  a_k = rho_k s_k . q;  q <- q - a_k y_k    (rho_k = 1/(y_k.s_k))
        r <- gamma q,  gamma = (y . s) / (y . y) of the newest pair
        for k = oldest ... newest:  b = rho_k y_k . r;  r <- r + (a_k - b) s_k
        d = r

    and steps x <- x + t d. H satisfies the secant condition H y_k = s_k for the newest pair: it
    has the curvature of f along the directions just travelled, without ever forming a matrix.
    The very first direction is -g with t = min(1, 1 / |g|_1) * lr; after that t = lr, and with
    ``line_search_fn="strong_wolfe"`` t is refined by a line search (cubic interpolation) until
    f decreases enough and the slope along d has flattened (see ``_strong_wolfe``).

    One ``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls, default
    ``max_iter * 5 // 4``) and stops early when max |g| <= tolerance_grad or when f or x change by
    less than tolerance_change. PyTorch's algorithm, step for step; its state (history, counts
    ``n_iter`` and ``func_evals``) is kept in ``state[first parameter]``.

    Raises:
        ValueError: negative lr, max_iter / max_eval / history_size < 1, an unknown
            ``line_search_fn``, or more than one parameter group.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        _check_positive_int("LBFGS", "max_iter", max_iter)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_positive_int("LBFGS", "max_iter", group["max_iter"])
        _check_positive_int("LBFGS", "max_eval", group["max_eval"])
        _check_positive_int("LBFGS", "history_size", group["history_size"])
        _check_nonnegative("LBFGS", "tolerance_grad", group["tolerance_grad"])
        _check_nonnegative("LBFGS", "tolerance_change", group["tolerance_change"])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', "
                f"got {group['line_search_fn']!r}"
            )

    # -- flat-vector views of the parameters -----------------------------------------------------

    def _gather_flat_grad(self) -> list[float]:
        return [p.grad for p in self.param_groups[0]["params"]]

    def _add_grad(self, step_size: float, update: Sequence[float]) -> None:
        for p, u in zip(self.param_groups[0]["params"], update):
            p.data = p.data + step_size * u

    def _directional_evaluate(
        self, closure: Closure, x: list[float], t: float, d: list[float]
    ) -> tuple[float, list[float]]:
        """f and grad f at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, xi in zip(self.param_groups[0]["params"], x):
            p.data = xi
        return loss, flat_grad

    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; returns the loss at the starting point.

        Args:
            closure: required. Zeroes the grads, computes the loss, calls ``backward()``,
                returns the loss. Called once at the start and once per function evaluation.
        """
        if closure is None:
            raise TypeError(
                "LBFGS.step: a closure is required (it re-evaluates the loss and its gradient "
                "at trial points): opt.step(closure)"
            )
        group = self.param_groups[0]
        params = group["params"]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state.setdefault(params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        if _max_abs(flat_grad) <= tolerance_grad:
            return orig_loss  # already optimal to tolerance

        # Carried over from the previous step() call (all None before the first iteration).
        d: list[float] | None = state.get("d")
        t: float | None = state.get("t")
        old_dirs: list[list[float]] | None = state.get("old_dirs")
        old_stps: list[list[float]] | None = state.get("old_stps")
        ro: list[float] | None = state.get("ro")
        H_diag: float | None = state.get("H_diag")
        prev_flat_grad: list[float] | None = state.get("prev_flat_grad")
        prev_loss: float | None = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # -- the direction ------------------------------------------------------------------
            if state["n_iter"] == 1:
                d = [-gi for gi in flat_grad]
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                if (
                    d is None
                    or t is None
                    or old_dirs is None
                    or old_stps is None
                    or ro is None
                    or H_diag is None
                    or prev_flat_grad is None
                ):
                    # Every step() that runs an iteration saves all of these together, so this
                    # means a state not written by LBFGS.step (e.g. a hand-edited state_dict).
                    raise RuntimeError(
                        f"LBFGS.step: state has n_iter={state['n_iter']} but lacks the "
                        "direction/history saved by earlier iterations"
                    )
                y = [a - b for a, b in zip(flat_grad, prev_flat_grad)]
                s = [di * t for di in d]
                ys = _dot(y, s)
                if ys > 1e-10:  # keep only pairs with positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / _dot(y, y)  # gamma: the initial inverse Hessian's scale
                num_old = len(old_dirs)
                al = [0.0] * num_old
                q = [-gi for gi in flat_grad]
                for i in range(num_old - 1, -1, -1):
                    al[i] = _dot(old_stps[i], q) * ro[i]
                    q = [qj + (-al[i]) * yj for qj, yj in zip(q, old_dirs[i])]
                r = [qj * H_diag for qj in q]
                for i in range(num_old):
                    be_i = _dot(old_dirs[i], r) * ro[i]
                    r = [rj + (al[i] - be_i) * sj for rj, sj in zip(r, old_stps[i])]
                d = r

            prev_flat_grad = list(flat_grad)
            prev_loss = loss

            # -- the step length ----------------------------------------------------------------
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / sum(abs(gi) for gi in flat_grad)) * lr
            else:
                t = lr
            gtd = _dot(flat_grad, d)  # the slope along d; must be negative (a descent direction)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p.data for p in params]

                def obj_func(x: list[float], t: float, d: list[float]) -> tuple[float, list[float]]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = _max_abs(flat_grad) <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step, no line search
                opt_cond = False
                if n_iter != max_iter:
                    # Re-evaluate only if another iteration follows (as PyTorch).
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = _max_abs(flat_grad) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # -- stopping tests -----------------------------------------------------------------
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _max_abs(d) * abs(t) <= tolerance_change:
                break  # the step no longer moves x
            if abs(loss - prev_loss) < tolerance_change:
                break  # f no longer changes

        state.update(
            d=d,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_stps,
            ro=ro,
            H_diag=H_diag,
            prev_flat_grad=prev_flat_grad,
            prev_loss=prev_loss,
        )
        return orig_loss


# ----------------------------------------------------------------------------------------------
# Newton's method (second order, exact Hessian)
# ----------------------------------------------------------------------------------------------


def _cholesky(a: list[list[float]]) -> list[list[float]] | None:
    """Lower-triangular L with L L^T = a, or None if a is not (numerically) positive definite."""
    n = len(a)
    low = [[0.0] * n for _ in range(n)]
    for j in range(n):
        row_j = low[j]
        pivot = a[j][j] - sum(row_j[k] * row_j[k] for k in range(j))
        if not pivot > 0.0:  # also catches NaN
            return None
        row_j[j] = math.sqrt(pivot)
        for i in range(j + 1, n):
            row_i = low[i]
            row_i[j] = (a[i][j] - sum(row_i[k] * row_j[k] for k in range(j))) / row_j[j]
    return low


def _cholesky_solve(low: list[list[float]], b: Sequence[float]) -> list[float]:
    """Solve L L^T x = b: forward substitution L z = b, then back substitution L^T x = z."""
    n = len(b)
    z = [0.0] * n
    for i in range(n):
        z[i] = (b[i] - sum(low[i][k] * z[k] for k in range(i))) / low[i][i]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        x[i] = (z[i] - sum(low[k][i] * x[k] for k in range(i + 1, n))) / low[i][i]
    return x


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


# ----------------------------------------------------------------------------------------------
# Learning-rate schedules
# ----------------------------------------------------------------------------------------------


class LRScheduler:
    """Base class of the learning-rate schedules: sets ``param_group['lr']`` once per ``step()``.

    As in PyTorch: creating a schedule records each group's ``initial_lr`` (``base_lrs``) and
    performs step 0 (``last_epoch`` becomes 0); call ``scheduler.step()`` after each
    ``optimizer.step()`` (or after each epoch) to move to the next lr. ``last_epoch`` counts the
    ``step()`` calls; pass ``last_epoch=k`` to resume (the groups must then hold
    ``'initial_lr'``). ``step(epoch)`` jumps to an epoch using the closed form. Subclasses define
    ``get_lr()`` (the recursive rule PyTorch uses) and ``_get_closed_form_lr()``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__!r}"
            )
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr' when "
                        f"resuming with last_epoch={last_epoch}; load the optimizer's "
                        f"state_dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each group for the epoch ``last_epoch`` (already advanced)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch`` with the closed form) and set the lrs."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest ``step()`` (one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as plain numbers and lists (JSON-serialisable)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (the lrs in the optimizer come from its own state_dict)."""
        self.__dict__.update(copy.deepcopy(state_dict))


class StepLR(LRScheduler):
    r"""Multiply the lr by gamma every ``step_size`` epochs.

    lr_e = lr_0 * gamma^floor(e / step_size), for epoch e = 0, 1, 2, ...

    Raises:
        ValueError: step_size not a positive integer, gamma negative.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        _check_positive_int("StepLR", "step_size", step_size)
        _check_nonnegative("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    r"""Multiply the lr by gamma every epoch: lr_e = lr_0 * gamma^e.

    Raises:
        ValueError: gamma negative.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_nonnegative("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr down to ``eta_min`` over ``T_max`` epochs.

    The closed form (SGDR without restarts)::

        lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2

    ``step()`` applies PyTorch's recursive form, lr_{e} = eta_min + (lr_{e-1} - eta_min) *
    (1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max)), which equals the closed form (to
    rounding) and also respects lr changes made by someone else in between. Past T_max the
    cosine keeps going: the lr rises again, with period 2 T_max (as in PyTorch).

    Raises:
        ValueError: T_max not positive, eta_min negative.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not _check_number("CosineAnnealingLR", "T_max", T_max) > 0:
            raise ValueError(f"CosineAnnealingLR: invalid T_max {T_max!r} (must be > 0)")
        _check_nonnegative("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:  # resumed: use the closed form
            return self._get_closed_form_lr()
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            # The previous epoch sat at the cosine's bottom, where the ratio below is 0 / 0.
            return [
                group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * self.last_epoch / self.T_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
            * (group["lr"] - self.eta_min)
            + self.eta_min
            for group in groups
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]


# ----------------------------------------------------------------------------------------------
# 2-D test functions and a driver
# ----------------------------------------------------------------------------------------------


def rosenbrock(x: Any, y: Any) -> Any:
    """(1 - x)^2 + 100 (y - x^2)^2: minimum 0 at (1, 1), at the end of a curved, flat valley.

    Easy to find the valley, hard to follow it: the Hessian at the minimum has eigenvalues of
    about 1002 and 0.4 (condition number ~2500), so gradient descent crawls along the floor.
    Works on floats, Values (and NumPy arrays).
    """
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def beale(x: Any, y: Any) -> Any:
    """(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2: minimum 0 at (3, 0.5).

    Flat plateaus and sharp ridges toward the corners of [-4.5, 4.5]^2.
    """
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def saddle(x: Any, y: Any) -> Any:
    """x^2 - y^2: a saddle point at (0, 0) (gradient 0, Hessian diag(2, -2)), no minimum.

    Unbounded below along y. Plain Newton jumps *to* the saddle (it solves grad = 0); gradient
    methods and damped Newton (which makes H + lambda I positive definite) slide away from it.
    """
    return x**2 - y**2


def ill_conditioned_bowl(x: Any, y: Any) -> Any:
    """0.5 (x^2 + 50 y^2): minimum 0 at (0, 0); Hessian diag(1, 50), condition number 50.

    Gradient descent needs lr < 2/50 for the steep y direction, and then crawls along x: the
    zig-zag that momentum and Adam's per-parameter scaling were invented for.
    """
    return 0.5 * (x**2 + 50 * y**2)


def tilted_double_well(x: Any, y: Any) -> Any:
    """x^4 - 3.5 x^2 + 3 x + (y - x/2)^2: two minima of unequal depth, and a saddle between.

    Non-convex, with every stationary point in closed form. The y-term is zero (and smallest)
    on the line y = x/2, and there the gradient in x is

        df/dx = 4x^3 - 7x + 3 = (x - 1)(2x - 1)(2x + 3),

    so the stationary points are (x, x/2) for x = -3/2, 1/2, 1:

    * (-1.5, -0.75): the **global minimum**, f = -117/16 = -7.3125 (Hessian [[20.5, -1], [-1, 2]]);
    * (1, 0.5): a **local minimum**, f = 1/2 (Hessian [[5.5, -1], [-1, 2]]), shallow: the
      barrier to the saddle is only 3/16;
    * (0.5, 0.25): a **saddle point**, f = 11/16 (Hessian [[-3.5, -1], [-1, 2]]).

    (Hessian: f_xx = 12x^2 - 6.5, f_xy = -1, f_yy = 2.) Which minimum gradient descent reaches
    depends on the start: a curve through the saddle separates the two basins (roughly x = 1/2
    near the line y = x/2, bent by the y-term elsewhere). Exact in binary floats at all three
    points. Works on floats, Values (and NumPy arrays).
    """
    return x**4 - 3.5 * x**2 + 3 * x + (y - 0.5 * x) ** 2


TEST_FUNCTION_MINIMA: dict[str, tuple[float, float] | None] = {
    "rosenbrock": (1.0, 1.0),
    "beale": (3.0, 0.5),
    "saddle": None,  # no minimum; the stationary point is (0, 0)
    "ill_conditioned_bowl": (0.0, 0.0),
    "tilted_double_well": (-1.5, -0.75),  # the global one; a local minimum sits at (1, 0.5)
}


# ----------------------------------------------------------------------------------------------
# Constraints: projections and projected optimizers
# ----------------------------------------------------------------------------------------------


def _check_point(op: str, point: Sequence[float], n: int | None = None) -> list[float]:
    if isinstance(point, (str, bytes)) or not isinstance(point, Sequence):
        raise TypeError(f"{op}: point must be a sequence of numbers, got {point!r}")
    values = [_check_number(op, f"point[{i}]", v) for i, v in enumerate(point)]
    if n is not None and len(values) != n:
        raise ValueError(f"{op}: point has {len(values)} coordinates, the set has {n}")
    return values


def _check_vector(op: str, name: str, value: object, n: int) -> list[float]:
    """A number (the same for every coordinate) or a sequence of n numbers."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return [float(value)] * n
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{op}: {name} must be a number or a sequence of numbers, got {value!r}")
    if len(value) != n:
        raise ValueError(f"{op}: {name} has {len(value)} entries, the point has {n}")
    return [_check_number(op, f"{name}[{i}]", v) for i, v in enumerate(value)]


def project_onto_box(point: Sequence[float], lower: Any, upper: Any) -> list[float]:
    """The closest point of the box {x : lower <= x <= upper} to ``point``: clip each coordinate.

    The box is a product of intervals, so the Euclidean projection splits coordinate by
    coordinate: P(x)_i = min(max(x_i, lower_i), upper_i). ``lower`` / ``upper`` are numbers (the
    same bound for every coordinate) or sequences; -math.inf / math.inf leave a side open.

    Raises:
        ValueError: a lower bound above its upper bound (the box is empty), or lengths differ.
    """
    x = _check_point("project_onto_box", point)
    lo = _check_vector("project_onto_box", "lower", lower, len(x))
    hi = _check_vector("project_onto_box", "upper", upper, len(x))
    for i, (a, b) in enumerate(zip(lo, hi)):
        if not a <= b:
            raise ValueError(f"project_onto_box: empty box, lower[{i}] = {a} > upper[{i}] = {b}")
    return [min(max(xi, a), b) for xi, a, b in zip(x, lo, hi)]


def project_onto_ball(
    point: Sequence[float], radius: float = 1.0, center: Sequence[float] | None = None
) -> list[float]:
    """The closest point of the ball {x : |x - c| <= r} to ``point``.

    Inside the ball a point is its own projection; outside, move it along the ray from the
    centre onto the sphere: P(x) = c + r (x - c) / |x - c|.

    Raises:
        ValueError: a negative radius; a center of another length.
    """
    x = _check_point("project_onto_ball", point)
    if not _check_number("project_onto_ball", "radius", radius) >= 0.0:
        raise ValueError(f"project_onto_ball: radius must be >= 0, got {radius!r}")
    c = (
        [0.0] * len(x)
        if center is None
        else _check_vector("project_onto_ball", "center", center, len(x))
    )
    offset = [xi - ci for xi, ci in zip(x, c)]
    distance = math.sqrt(_dot(offset, offset))
    if distance <= radius:
        return x
    return [ci + radius * oi / distance for ci, oi in zip(c, offset)]


def project_onto_hyperplane(
    point: Sequence[float], normal: Sequence[float], offset: float
) -> list[float]:
    """The closest point of the hyperplane {x : a . x = b} to ``point`` (a = normal, b = offset).

    Remove the component of the violation along a: P(x) = x - (a . x - b) / (a . a) * a. For
    the line x + y = 1, normal = (1, 1) and offset = 1.

    Raises:
        ValueError: a zero normal (no hyperplane), or lengths differ.
    """
    x = _check_point("project_onto_hyperplane", point)
    a = _check_vector("project_onto_hyperplane", "normal", normal, len(x))
    b = _check_number("project_onto_hyperplane", "offset", offset)
    aa = _dot(a, a)
    if aa == 0.0:
        raise ValueError("project_onto_hyperplane: the normal is zero, so there is no hyperplane")
    violation = (_dot(a, x) - b) / aa
    return [xi - violation * ai for xi, ai in zip(x, a)]


class Projected:
    r"""Wrap an optimizer so that after every step its parameters are projected onto a set C.

    With gradient descent inside this is **projected gradient descent** for min f(x) s.t. x in C::

        x <- P_C(x - lr * grad f(x)),      P_C(z) = the point of C closest to z

    Every point after the first step is feasible. When C is convex and closed, a fixed point
    x* = P_C(x* - lr grad f(x*)) satisfies the KKT conditions: -grad f(x*) points out of C
    (it is a non-negative combination of the normals of the active constraints), so no
    feasible direction goes downhill. Works with any first-order optimizer (momentum, Adam...);
    L-BFGS and Newton would be projected only after a whole ``step()``, which is not a proper
    constrained method (that is L-BFGS-B's job).

    Args:
        optimizer: the optimizer doing the unconstrained step.
        project: maps the list of parameter values (floats, in the optimizer's order) to the
            projected values, e.g. ``lambda x: project_onto_ball(x, 1.0)``.

    ``zero_grad``, ``param_groups``, ``state`` and ``state_dict`` are the wrapped optimizer's, so a
    learning-rate schedule or ``fit`` can drive it as usual.
    """

    def __init__(
        self, optimizer: Optimizer, project: Callable[[list[float]], Sequence[float]]
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Projected: expected an Optimizer, got {type(optimizer).__name__!r}")
        if not callable(project):
            raise TypeError(f"Projected: project must be callable, got {project!r}")
        self.optimizer = optimizer
        self.project = project

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    @property
    def state(self) -> dict[Value, dict[str, Any]]:
        return self.optimizer.state

    def zero_grad(self) -> None:
        """Zero the wrapped optimizer's gradients."""
        self.optimizer.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's ``state_dict``."""
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the wrapped optimizer's state."""
        self.optimizer.load_state_dict(state_dict)

    def step(self, closure: Closure | None = None) -> Any:
        """One step of the wrapped optimizer, then x <- P(x); returns the closure's loss."""
        loss = self.optimizer.step(closure)
        params = self.optimizer._params()
        projected = list(self.project([p.data for p in params]))
        if len(projected) != len(params):
            raise ValueError(
                f"Projected.step: project returned {len(projected)} values for "
                f"{len(params)} parameters"
            )
        for p, value in zip(params, projected):
            p.data = _check_number("Projected.step", "a projected value", value)
        return loss

    def __repr__(self) -> str:
        return f"Projected({self.optimizer!r})"


def minimize(
    f: Callable[..., Value],
    start: Sequence[float],
    optimizer_factory: Callable[[list[Parameter]], Optimizer],
    steps: int = 100,
) -> list[tuple[float, ...]]:
    """Run an optimizer on f from ``start`` and return the points it visits.

    Args:
        f: a function of n Values returning a Value (e.g. ``rosenbrock``).
        start: the n starting coordinates.
        optimizer_factory: builds the optimizer from the list of n Parameters, e.g.
            ``lambda p: Adam(p, lr=0.1)`` or ``lambda p: LBFGS(p, line_search_fn="strong_wolfe")``.
        steps: the number of ``step(closure)`` calls. The closure (zero the grads, evaluate f,
            backward, return the loss) is passed to every optimizer: first-order ones call it
            once per step; L-BFGS and Newton as often as they need.

    Returns:
        ``steps + 1`` points (tuples of n floats), the start first. It stops early, without the
        offending point, if a coordinate or f stops being a finite number or f overflows
        (a diverging run), so the path so far can still be drawn.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"minimize: steps must be an integer >= 0, got {steps!r}")
    names = ("x", "y") if len(start) == 2 else tuple(f"x{i}" for i in range(len(start)))
    params = [Parameter(float(s), label=name) for s, name in zip(start, names)]
    optimizer = optimizer_factory(params)

    def closure() -> Value:
        optimizer.zero_grad()
        loss = f(*params)
        loss.backward()
        return loss

    points = [tuple(p.data for p in params)]
    for _ in range(steps):
        try:
            optimizer.step(closure)
        except OverflowError:
            break
        point = tuple(p.data for p in params)
        if not all(math.isfinite(c) for c in point):
            break
        points.append(point)
    return points


# ----------------------------------------------------------------------------------------------
# A loss with a closed form: ridge regression
# ----------------------------------------------------------------------------------------------


def ridge_regression(
    X: Sequence[Sequence[float]], y: Sequence[float], lam: float, fit_intercept: bool = True
) -> tuple[list[float], float]:
    r"""The exact minimiser of the ridge loss, from the normal equations (no iteration).

    With samples x_i (rows of X, d features each) and targets y_i, ridge regression minimises

        J(w, b) = sum_i (x_i . w + b - y_i)^2 + lam * ||w||^2        (the intercept b is not
                                                                      penalised, as usual)

    J is a quadratic in (w, b), so setting its gradient to zero gives *linear* equations:

        dJ/db = 0  ->  b = mean(y) - mean(x) . w
        dJ/dw = 0  ->  (Xc^T Xc + lam I) w = Xc^T yc      (the normal equations)

    where Xc and yc are X and y with their column means subtracted (substituting b into dJ/dw).
    With ``fit_intercept=False``, b = 0 and the equations read (X^T X + lam I) w = X^T y. For
    lam > 0 the matrix is positive definite, so the solution exists, is unique, and is found by
    a Cholesky factorisation. A network's loss has no such formula: its gradient is not linear in
    the weights, which is why networks are trained by gradient descent.

    Args:
        X: n rows of d numbers (a one-feature problem is ``[[x1], [x2], ...]``).
        y: n targets.
        lam: the penalty weight lambda >= 0 (0 is ordinary least squares).
        fit_intercept: fit the unpenalised intercept b (else b = 0).

    Returns:
        ``(w, b)``: the d weights as a list, and the intercept (0.0 without ``fit_intercept``).

    Raises:
        ValueError: empty or ragged X, len(y) != len(X), lam < 0, a non-finite number, or
            normal equations that are singular (lam = 0 with collinear features or n < d).
    """
    op = "ridge_regression"
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not lam >= 0.0:
        raise ValueError(f"{op}: lam must be a number >= 0, got {lam!r}")
    if not math.isfinite(lam):
        raise ValueError(f"{op}: lam must be finite, got {lam!r}")
    rows = [list(map(float, row)) for row in X]
    targets = [float(t) for t in y]
    if not rows or not rows[0]:
        raise ValueError(f"{op}: X must have at least one row and one column")
    d = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != d:
            raise ValueError(f"{op}: X row {i} has {len(row)} features, row 0 has {d}")
    if len(targets) != len(rows):
        raise ValueError(f"{op}: X has {len(rows)} rows but y has {len(targets)} targets")
    if not all(math.isfinite(v) for row in rows for v in row) or not all(
        math.isfinite(t) for t in targets
    ):
        raise ValueError(f"{op}: X and y must hold finite numbers")

    n = len(rows)
    x_mean = [sum(row[k] for row in rows) / n for k in range(d)] if fit_intercept else [0.0] * d
    y_mean = sum(targets) / n if fit_intercept else 0.0
    centred = [[row[k] - x_mean[k] for k in range(d)] for row in rows]
    yc = [t - y_mean for t in targets]
    # A = Xc^T Xc + lam I (symmetric), rhs = Xc^T yc
    a = [
        [sum(r[j] * r[k] for r in centred) + (lam if j == k else 0.0) for k in range(d)]
        for j in range(d)
    ]
    rhs = [sum(r[j] * t for r, t in zip(centred, yc)) for j in range(d)]
    low = _cholesky(a)
    # Collinear columns leave a pivot of rounding-error size, not exactly 0: call those singular
    # too (relative to the largest diagonal entry), since the solution would be noise.
    scale = max(a[j][j] for j in range(d))
    if low is None or min(low[j][j] ** 2 for j in range(d)) <= 1e-12 * scale:
        raise ValueError(
            f"{op}: the normal equations are singular (X^T X + lam I is not positive definite; "
            f"lam={lam!r}, {n} samples, {d} features): use lam > 0"
        )
    w = _cholesky_solve(low, rhs)
    b = y_mean - sum(m * wk for m, wk in zip(x_mean, w)) if fit_intercept else 0.0
    return w, b
