"""The base ``Optimizer`` (parameter groups, state, ``zero_grad``, ``state_dict``) and the checks
every optimizer and schedule shares.

As in ``torch/optim/optimizer.py``: a subclass gives its hyperparameters as ``defaults``, validates
them in ``_check_group`` and writes its update rule in ``_update_group`` (or overrides ``step`` when
it needs a closure, as L-BFGS and Newton do).
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tinygrad_edu.engine import Value, enable_grad

Closure = Callable[[], Any]


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
# Shared helpers: hyperparameter checks and PyTorch's arithmetic on floats
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
