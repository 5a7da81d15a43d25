"""2-D test functions for optimizers, and ``minimize``, which runs an optimizer on one.

``rosenbrock``, ``beale``, ``saddle``, ``ill_conditioned_bowl`` and ``tilted_double_well`` take
floats, Values (and NumPy arrays); ``TEST_FUNCTION_MINIMA`` holds their known minima. ``minimize``
runs any optimizer on any function and returns its path; ``plots.optimizer_path`` records the same
path with the loss at every point (both use ``_record_path`` below).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tinygrad_edu.engine import Parameter, Value, no_grad

if TYPE_CHECKING:
    from tinygrad_edu.optim.optimizer import Optimizer


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


@dataclass
class OptimizerPath:
    """Where an optimizer went on a 2-D function.

    Attributes:
        points: (x, y) after each step, the start first (so ``len(points) == steps + 1`` unless it
            stopped early).
        losses: f at each point.
        steps: how many ``step()`` calls were made.
        evaluations: how many times f (and its gradient) was evaluated: one per step for first-order
            methods, several for L-BFGS's line search and inner iterations.
        converged: True if it stopped because f fell below ``stop_below``.
        diverged: True if it stopped because x, y or f stopped being finite numbers.
    """

    points: list[tuple[float, float]]
    losses: list[float]
    steps: int
    evaluations: int
    converged: bool = False
    diverged: bool = False


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
    return _record_path(f, start, optimizer_factory, steps).points


def _record_path(
    f: Callable[..., Any],
    start: Sequence[float],
    make_optimizer: Callable[[list[Parameter]], Any],
    steps: int,
    *,
    record_losses: bool = False,
    stop_below: float | None = None,
    failures: tuple[type[Exception], ...] = (OverflowError,),
) -> OptimizerPath:
    """The loop behind ``minimize`` and ``plots.optimizer_path``: step, record the point, repeat.

    The coordinates are Parameters ``x``, ``y`` (``x0``, ``x1``, ... for n != 2). Each step calls
    ``opt.step(closure)``, where the closure zeroes the grads, evaluates f, calls ``backward()`` and
    returns the loss. The loop stops early, without the offending point, when a step raises one of
    ``failures`` or a coordinate is not finite (``diverged``).

    Args:
        record_losses: also evaluate f (on floats, under ``no_grad``) at every point, into
            ``losses``; then an f that raises one of ``failures`` or is not finite ends the
            path too, and ``stop_below`` may end it early (``converged``).
    """
    names = ("x", "y") if len(start) == 2 else tuple(f"x{i}" for i in range(len(start)))
    params = [Parameter(float(s), label=name) for s, name in zip(start, names)]
    optimizer = make_optimizer(params)
    evaluations = 0

    def closure() -> Value:
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        loss = f(*params)
        loss.backward()
        return loss

    def value_here() -> float:
        with no_grad():
            return float(f(*(p.data for p in params)))

    points: list[tuple[float, ...]] = [tuple(p.data for p in params)]
    losses = [value_here()] if record_losses else []
    result = OptimizerPath(points, losses, steps=0, evaluations=0)  # type: ignore[arg-type]
    if stop_below is not None and losses[0] < stop_below:
        result.converged = True
        return result
    for _ in range(steps):
        try:
            optimizer.step(closure)
            here = [value_here()] if record_losses else []
        except failures:
            result.diverged = True
            break
        result.steps += 1
        point = tuple(p.data for p in params)
        if not all(math.isfinite(c) for c in (*point, *here)):
            result.diverged = True
            break
        points.append(point)
        losses.extend(here)
        if stop_below is not None and here[0] < stop_below:
            result.converged = True
            break
    result.evaluations = evaluations
    return result
