"""Constraints x in C: Euclidean projections onto simple sets, and ``Projected``, which puts an
optimizer's parameters back into C after every step (projected gradient descent).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_edu.engine import Value
from tinygrad_edu.optim.optimizer import Closure, Optimizer, _check_number, _dot

_NOT_NUMBERS = (str, bytes, bytearray, memoryview)  # sequences, but of characters or bytes


def _check_point(op: str, point: Sequence[float], n: int | None = None) -> list[float]:
    if isinstance(point, _NOT_NUMBERS) or not isinstance(point, Sequence):
        raise TypeError(f"{op}: point must be a sequence of numbers, got {point!r}")
    values = [_check_number(op, f"point[{i}]", v) for i, v in enumerate(point)]
    if n is not None and len(values) != n:
        raise ValueError(f"{op}: point has {len(values)} coordinates, the set has {n}")
    return values


def _check_vector(op: str, name: str, value: object, n: int) -> list[float]:
    """A number (the same for every coordinate) or a sequence of n numbers."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return [float(value)] * n
    if isinstance(value, _NOT_NUMBERS) or not isinstance(value, Sequence):
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
    centre onto the sphere: P(x) = c + r (x - c) / |x - c|. The norm is ``math.hypot``, which
    scales before squaring: sum((x - c)^2) would overflow to inf at |x - c| ~ 1e154 (and give 0)
    or underflow to 0 at 1e-162 (and leave the point outside a ball that small).

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
    offset, reach = [xi - ci for xi, ci in zip(x, c)], radius
    if not all(map(math.isfinite, offset)) and all(map(math.isfinite, x + c)):
        # x - c overflowed (1e308 - -1e308): (x - c) / 2 has the same direction.
        offset, reach = [xi / 2 - ci / 2 for xi, ci in zip(x, c)], radius / 2
    distance = math.hypot(*offset)
    if distance <= reach:
        return x
    # r * ((x - c) / |x - c|): the unit direction first, so r * (x - c) cannot under/overflow.
    return [ci + radius * (oi / distance) for ci, oi in zip(c, offset)]


def project_onto_hyperplane(
    point: Sequence[float], normal: Sequence[float], offset: float
) -> list[float]:
    """The closest point of the hyperplane {x : a . x = b} to ``point`` (a = normal, b = offset).

    Remove the component of the violation along a: P(x) = x - (a . x - b) / (a . a) * a. For
    the line x + y = 1, normal = (1, 1) and offset = 1. The normal and offset are first divided
    by max |a_i| (the same hyperplane), so a . a neither overflows (a ~ 1e200) nor underflows
    (a ~ 1e-200) to a wrong answer.

    Raises:
        ValueError: a zero normal (no hyperplane), or lengths differ.
    """
    x = _check_point("project_onto_hyperplane", point)
    a = _check_vector("project_onto_hyperplane", "normal", normal, len(x))
    b = _check_number("project_onto_hyperplane", "offset", offset)
    scale = max(map(abs, a), default=0.0)
    if scale == 0.0:
        raise ValueError("project_onto_hyperplane: the normal is zero, so there is no hyperplane")
    if not math.isfinite(scale):
        raise ValueError(f"project_onto_hyperplane: the normal must be finite, got {normal!r}")
    a = [ai / scale for ai in a]  # max |a_i| = 1, so 1 <= a . a <= n
    b = b / scale
    violation = (_dot(a, x) - b) / _dot(a, a)
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
    learning-rate schedule (``StepLR(Projected(...), ...)``) or ``fit`` can drive it as usual.
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
        """One step of the wrapped optimizer, then x <- P(x); returns the closure's loss.

        Raises:
            TypeError / ValueError: ``project`` returned something other than one finite
                number per parameter. Every value is checked before any is assigned, so the
                parameters are then all as the wrapped step left them (none projected).
        """
        loss = self.optimizer.step(closure)
        params = self.optimizer._params()
        result = self.project([p.data for p in params])
        if isinstance(result, _NOT_NUMBERS) or not isinstance(result, Sequence):
            raise TypeError(
                f"Projected.step: project must return a sequence of {len(params)} numbers, "
                f"got {result!r}"
            )
        if len(result) != len(params):
            raise ValueError(
                f"Projected.step: project returned {len(result)} values for "
                f"{len(params)} parameters"
            )
        projected = []
        for i, value in enumerate(result):
            number = _check_number("Projected.step", f"projected value {i}", value)
            if not math.isfinite(number):
                raise ValueError(
                    f"Projected.step: project returned {number!r} for parameter {i} (the step "
                    f"left it at {params[i].data!r}); a projection gives finite points"
                )
            projected.append(number)
        for p, value in zip(params, projected):  # all checked: assign them all
            p.data = value
        return loss

    def __repr__(self) -> str:
        return f"Projected({self.optimizer!r})"
