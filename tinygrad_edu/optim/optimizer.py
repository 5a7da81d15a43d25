"""The base ``Optimizer`` (parameter groups, state, ``zero_grad``, ``state_dict``) and the checks
every optimizer and schedule shares.

As in ``torch/optim/optimizer.py``: a subclass gives its hyperparameters as ``defaults``, validates
them in ``_check_group`` and writes its update rule in ``_update_group`` (or overrides ``step`` when
it needs a closure, as L-BFGS and Newton do).
"""

from __future__ import annotations

import copy
import math
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
        groups, in the same order. Everything is checked before anything changes: a malformed
        container, a bad hyperparameter or a state that ``step()`` could not use (a string for a
        momentum buffer, a missing step count, a NaN moment) raises an error naming the
        optimizer, the key and the value, and leaves the optimizer as it was.
        """
        owner = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(map(repr, state_dict)) if isinstance(state_dict, dict) else state_dict
            raise ValueError(
                f"{owner}: expected a dict with keys 'state' and 'param_groups', got {got!r}"
            )
        new_groups = self._loaded_groups(owner, state_dict["param_groups"])
        new_state = self._loaded_state(owner, state_dict["state"], new_groups)
        self.param_groups = new_groups
        self.state = new_state

    def _loaded_groups(self, owner: str, saved_groups: object) -> list[dict[str, Any]]:
        """The checked copies of the saved groups, holding this optimizer's parameters."""
        if not isinstance(saved_groups, list):
            raise TypeError(
                f"{owner}: 'param_groups' must be a list of dicts, got {saved_groups!r}"
            )
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{owner}: the saved state has {len(saved_groups)} parameter group(s), "
                f"this optimizer has {len(self.param_groups)}"
            )
        new_groups: list[dict[str, Any]] = []
        first = 0  # the index state_dict gives a group's first parameter
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict):
                raise TypeError(f"{owner}: param_groups[{i}] must be a dict, got {saved!r}")
            indices = saved.get("params")
            if not isinstance(indices, list):
                raise TypeError(
                    f"{owner}: param_groups[{i}]['params'] must be a list of parameter "
                    f"indices, got {indices!r}"
                )
            if len(indices) != len(group["params"]):
                raise ValueError(
                    f"{owner}: saved group {i} has {len(indices)} parameters, "
                    f"this optimizer's has {len(group['params'])}"
                )
            expected = list(range(first, first + len(indices)))
            if indices != expected:
                raise ValueError(
                    f"{owner}: param_groups[{i}]['params'] must be {expected} (the positions "
                    f"state_dict gives the group's parameters), got {indices!r}"
                )
            first += len(indices)
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if "betas" in new and isinstance(new["betas"], list):
                new["betas"] = tuple(new["betas"])
            new["params"] = group["params"]
            missing = sorted(set(self.defaults) - set(new))
            if missing:
                raise ValueError(f"{owner}: saved group {i} lacks {missing}")
            self._check_group(new)  # the same checks as the constructor, before anything changes
            if "initial_lr" in new:  # written by a schedule, read by it on resuming
                _check_nonnegative(owner, f"param_groups[{i}]['initial_lr']", new["initial_lr"])
            new_groups.append(new)
        return new_groups

    def _loaded_state(
        self, owner: str, saved_state: object, groups: list[dict[str, Any]]
    ) -> dict[Value, dict[str, Any]]:
        """The checked copies of the saved per-parameter states, keyed by this one's parameters."""
        if not isinstance(saved_state, dict):
            raise TypeError(
                f"{owner}: 'state' must be a dict from parameter index to state, "
                f"got {saved_state!r}"
            )
        params = [(p, group) for group in groups for p in group["params"]]
        by_index: dict[int, tuple[Any, dict[str, Any]]] = {}
        for key, value in saved_state.items():
            i = _state_index(owner, key, len(params))
            if i in by_index:
                raise ValueError(f"{owner}: state[{key!r}] repeats parameter index {i}")
            if not isinstance(value, dict):
                raise TypeError(
                    f"{owner}: state[{key!r}] must be a dict of {self._name}'s running "
                    f"quantities, got {value!r}"
                )
            by_index[i] = (key, copy.deepcopy(value))
        new_state: dict[Value, dict[str, Any]] = {}
        for i, (p, group) in enumerate(params):
            key, value = by_index.get(i, (i, None))
            saved = None if value is None else _SavedState(owner, f"state[{key!r}]", value)
            self._check_state(owner, i, saved, group)
            if value is not None:
                new_state[p] = value
        return new_state

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        """Check the saved state of parameter ``index`` (None: it has none) before loading it.

        Each optimizer names what its ``step`` reads; this base accepts any dict.
        """

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
            lines.append(f"    ({len(group['params'])} parameters)")
        lines.append(")")
        return "\n".join(lines)


def _state_index(owner: str, key: object, n: int) -> int:
    """A saved state's key as a parameter index (JSON turns the integer keys into strings)."""
    if isinstance(key, str) and key.isascii() and key.isdigit():
        index = int(key)
    elif isinstance(key, int) and not isinstance(key, bool):
        index = key
    else:
        raise ValueError(f"{owner}: state key {key!r} is not a parameter index")
    if not 0 <= index < n:
        raise ValueError(
            f"{owner}: state[{key!r}] is for parameter index {index}, but this optimizer "
            f"has {n} parameter(s)"
        )
    return index


class _SavedState:
    """One parameter's saved state during ``load_state_dict``: checks naming the key and value."""

    def __init__(self, owner: str, where: str, state: dict[str, Any]) -> None:
        self.owner, self.where, self.state = owner, where, state

    def keys(self, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        """The state holds every required key and nothing else than those and the optional."""
        missing = [k for k in required if k not in self.state]
        if missing:
            raise ValueError(f"{self.owner}: {self.where} lacks {missing}")
        unknown = sorted(map(repr, set(self.state) - set(required) - set(optional)))
        if unknown:
            raise ValueError(
                f"{self.owner}: {self.where} has unexpected key(s) {', '.join(unknown)}; "
                f"expected {list(required) + list(optional)}"
            )

    def _error(self, key: str, value: object, kind: str) -> Exception:
        error = TypeError if not _is_real(value) else ValueError
        return error(f"{self.owner}: {self.where}[{key!r}] must be {kind}, got {value!r}")

    def number(self, key: str, *, nonnegative: bool = False, none: bool = False) -> None:
        """A finite number (>= 0 if ``nonnegative``; None allowed if ``none``), if present."""
        if key not in self.state or (none and self.state[key] is None):
            return
        value = self.state[key]
        if not _is_finite(value) or (nonnegative and value < 0):
            kind = "a finite number" + (" >= 0" if nonnegative else "") + (" or None" * none)
            raise self._error(key, value, kind)

    def count(self, key: str) -> None:
        """An int >= 0 (a step or evaluation count), if present."""
        value = self.state.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise self._error(key, value, "an int >= 0 (a count)")

    def vector(self, key: str, n: int, *, none: bool = False) -> None:
        """A list of n finite numbers (None allowed if ``none``), if present."""
        value = self.state.get(key)
        if key not in self.state or (none and value is None):
            return
        if not _is_vector(value, n):
            raise TypeError(
                f"{self.owner}: {self.where}[{key!r}] must be a list of {n} finite numbers"
                + (" or None" * none)
                + f", got {value!r}"
            )


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_finite(value: object) -> bool:
    if not _is_real(value):
        return False
    try:
        return math.isfinite(value)  # type: ignore[arg-type]
    except OverflowError:  # an int too large for a float
        return False


def _is_vector(value: object, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(_is_finite(v) for v in value)


# ----------------------------------------------------------------------------------------------
# Shared helpers: hyperparameter checks and PyTorch's arithmetic on floats
# ----------------------------------------------------------------------------------------------


def _check_number(owner: str, name: str, value: object) -> float:
    """A real number (not a bool, not a string), or TypeError naming owner and argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an int past the largest float, 1.8e308
        raise ValueError(f"{owner}: {name} is too large for a float, got {value!r}") from None


def _check_nonnegative(owner: str, name: str, value: object) -> None:
    # `not 0 <= x` is also True for NaN, so NaN is rejected too.
    if not 0.0 <= _check_number(owner, name, value):
        raise ValueError(f"{owner}: invalid {name} {value!r} (must be >= 0)")


def _check_flag(owner: str, name: str, value: object) -> None:
    """True or False: a string such as "no" would otherwise count as True."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")


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
