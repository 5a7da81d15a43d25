"""Optimizer paths on the 2-D test functions, drawn over the function's contour map."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.ticker import LogLocator, MaxNLocator

from tinygrad_edu import problems
from tinygrad_edu.engine import Parameter
from tinygrad_edu.plots._common import (
    _COLORS,
    PathLike,
    _figure_and_axes,
    _finish,
)
from tinygrad_edu.problems import OptimizerPath, _record_path


@dataclass(frozen=True)
class Problem2D:
    """A 2-D function with the window to draw it in, a start point and its known minimum.

    ``f`` works on floats and on Values (and on NumPy arrays, for the contour map).
    ``minimum`` is None when there is none (the saddle); ``marker`` names a saddle point to
    mark (with or without a minimum). ``local_minima`` are the other, non-global minima.
    """

    name: str
    f: Callable[[Any, Any], Any]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float] | None
    marker: tuple[float, float] | None = None
    local_minima: tuple[tuple[float, float], ...] = ()


# The test functions of tinygrad_edu.problems, each with a window that shows their character and a
# start point from which the first-order methods visibly differ (Rosenbrock's is the textbook
# (-1.2, 1)). Minima from ``problems.TEST_FUNCTION_MINIMA``.
_MINIMA = problems.TEST_FUNCTION_MINIMA
TEST_FUNCTIONS: dict[str, Problem2D] = {
    "rosenbrock": Problem2D(
        "Rosenbrock",
        problems.rosenbrock,
        (-2.0, 2.0),
        (-1.0, 3.0),
        (-1.2, 1.0),
        _MINIMA["rosenbrock"],
    ),
    "beale": Problem2D(
        "Beale", problems.beale, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), _MINIMA["beale"]
    ),
    "saddle": Problem2D(
        "saddle $x^2 - y^2$",
        problems.saddle,
        (-2.0, 2.0),
        (-2.0, 2.0),
        (-1.8, 0.05),
        None,
        marker=(0.0, 0.0),
    ),
    "ill_conditioned_bowl": Problem2D(
        "ill-conditioned bowl $0.5(x^2 + 50y^2)$",
        problems.ill_conditioned_bowl,
        (-2.0, 2.0),
        (-1.0, 1.0),
        (-1.8, 0.6),
        _MINIMA["ill_conditioned_bowl"],
    ),
    "tilted_double_well": Problem2D(
        "tilted double well $x^4 - 3.5x^2 + 3x + (y - x/2)^2$",
        problems.tilted_double_well,
        (-2.5, 2.2),
        (-2.0, 2.0),
        (1.8, 1.5),
        _MINIMA["tilted_double_well"],
        marker=(0.5, 0.25),
        local_minima=((1.0, 0.5),),
    ),
}


def _resolve_problem(f: Any) -> Problem2D | None:
    if isinstance(f, Problem2D):
        return f
    if isinstance(f, str):
        try:
            return TEST_FUNCTIONS[f]
        except KeyError:
            raise ValueError(
                f"plot_trajectories: unknown test function {f!r}; known: {sorted(TEST_FUNCTIONS)}"
            ) from None
    if callable(f):
        return None
    raise TypeError(f"plot_trajectories: f must be a callable, a name or a Problem2D, got {f!r}")


def optimizer_path(
    f: Callable[[Any, Any], Any] | str | Problem2D,
    make_optimizer: Callable[[list[Parameter]], Any],
    start: tuple[float, float] | None = None,
    steps: int = 100,
    *,
    stop_below: float | None = None,
) -> OptimizerPath:
    """Run an optimizer from ``start`` on a 2-D function and record every point it visits.

    The two coordinates are Parameters ``x`` and ``y``; ``make_optimizer([x, y])`` builds the
    optimizer (e.g. ``lambda p: optim.Adam(p, lr=0.1)``). Each step calls ``opt.step(closure)``
    where the closure zeroes the gradients, evaluates ``loss = f(x, y)``, calls ``loss.backward()``
    and returns the loss: first-order methods call it once, L-BFGS and Newton as often as they need.

    Args:
        stop_below: stop as soon as f < stop_below (the iteration count to reach a tolerance).
    """
    problem = _resolve_problem(f)
    func: Callable[[Any, Any], Any] = problem.f if problem is not None else f  # type: ignore[assignment]
    if start is None:
        if problem is None:
            raise ValueError("optimizer_path: give a start point for a custom function")
        start = problem.start
    if steps < 0:
        raise ValueError(f"optimizer_path: steps must be >= 0, got {steps}")
    return _record_path(
        func,
        (start[0], start[1]),
        make_optimizer,
        steps,
        record_losses=True,
        stop_below=stop_below,
        failures=(OverflowError, ValueError, ZeroDivisionError),
    )


def _grid_values(func: Callable[[Any, Any], Any], gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """f over a grid: vectorised when f is plain arithmetic, else point by point."""
    try:
        z = np.asarray(func(gx, gy), dtype=float)
        if z.shape == gx.shape:
            return z
    except (TypeError, ValueError, AttributeError):
        pass
    return np.asarray([float(func(a, b)) for a, b in zip(gx.ravel(), gy.ravel())]).reshape(gx.shape)


def _path_name(name: str, start: tuple[float, float], n_starts: int, n_optimizers: int) -> str:
    if n_starts == 1:
        return name
    where = f"from ({start[0]:g}, {start[1]:g})"
    return where if n_optimizers == 1 else f"{name} {where}"


def plot_trajectories(
    f: Callable[[Any, Any], Any] | str | Problem2D,
    optimizers: Mapping[str, Callable[[list[Parameter]], Any]],
    start: tuple[float, float] | None = None,
    steps: int = 100,
    *,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    minimum: tuple[float, float] | None = None,
    stop_below: float | None = None,
    starts: Sequence[tuple[float, float]] | None = None,
    constraint: Callable[[Any, Any], Any] | None = None,
    levels: int = 30,
    resolution: int = 300,
    ax: Axes | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """The paths of several optimizers over the contour map of a 2-D function.

    Args:
        f: a function of (x, y) working on floats and Values, or a name in ``TEST_FUNCTIONS``
            (``"rosenbrock"``, ``"beale"``, ``"saddle"``, ``"ill_conditioned_bowl"``,
            ``"tilted_double_well"``) or a ``Problem2D``; the names bring their own window,
            start and minima.
        optimizers: legend name -> factory, e.g. ``{"Adam": lambda p: optim.Adam(p, lr=0.1)}``.
        start: the common start point (default: the problem's).
        steps: optimizer steps per path (see ``optimizer_path``; ``stop_below`` stops early).
        starts: several start points instead of one (e.g. to see which minimum each start
            reaches on a non-convex function): every optimizer runs from each, and the legend
            names the start (``name from (x, y): ...``).
        xlim, ylim, minimum: the window and the point marked with a star (default: the problem's,
            or the range of the paths for a custom function).
        constraint: g(x, y) for a constraint g(x, y) <= 0 (e.g. ``lambda x, y: x**2 + y**2 - 1``
            for the unit disk): its boundary g = 0 is drawn as a thick line and the infeasible
            side g > 0 is hatched.
        levels: number of contour levels. Where f is positive on the window they are log-spaced,
            so the valley floor (where optimizers spend their time) gets as many lines as the walls.

    Each legend entry reads ``name: f=<final value> after <n> steps``.
    """
    if not optimizers:
        raise ValueError("plot_trajectories: give at least one optimizer (name -> factory)")
    problem = _resolve_problem(f)
    func: Callable[[Any, Any], Any] = problem.f if problem is not None else f  # type: ignore[assignment]
    starts = _start_points(start, starts, problem)
    paths = {
        _path_name(name, s, len(starts), len(optimizers)): optimizer_path(
            func, factory, s, steps, stop_below=stop_below
        )
        for s in starts
        for name, factory in optimizers.items()
    }

    xlim, ylim, minimum = _window(paths, problem, xlim, ylim, minimum)
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    z = _grid_values(func, gx, gy)
    fig, ax = _figure_and_axes(ax, figsize=(7.5, 6.0 if len(starts) == 1 else 8.0))
    _draw_contours(fig, ax, z, gx, gy, levels, constraint)

    path_lines = _draw_paths(ax, paths, starts, minimum, problem)
    end_markers = _mark_path_ends(ax, path_lines)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else (problem.name if problem else "optimizer paths"))
    _legend_below(fig, ax, path_lines, end_markers, len(starts))
    return _finish(fig, path)


def _start_points(
    start: tuple[float, float] | None,
    starts: Sequence[tuple[float, float]] | None,
    problem: Problem2D | None,
) -> list[tuple[float, float]]:
    """The start points: ``starts``, or the one ``start`` (default: the problem's)."""
    if starts is not None:
        starts = [(float(s[0]), float(s[1])) for s in starts]
        if not starts or start is not None:
            raise ValueError("plot_trajectories: give either start or a non-empty list of starts")
    else:
        start = start if start is not None else (problem.start if problem else None)
        if start is None:
            raise ValueError("plot_trajectories: give a start point for a custom function")
        starts = [start]
    return list(starts)


def _window(
    paths: dict[str, OptimizerPath],
    problem: Problem2D | None,
    xlim: tuple[float, float] | None,
    ylim: tuple[float, float] | None,
    minimum: tuple[float, float] | None,
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float] | None]:
    """The window and the minimum to mark: the caller's, else the problem's, else the paths'."""
    if problem is not None:
        xlim = xlim or problem.xlim
        ylim = ylim or problem.ylim
        minimum = minimum if minimum is not None else problem.minimum
    if xlim is None or ylim is None:  # a custom function: frame the paths, with some room
        xs = [p[0] for r in paths.values() for p in r.points]
        ys = [p[1] for r in paths.values() for p in r.points]
        if minimum is not None:
            xs.append(minimum[0])
            ys.append(minimum[1])
        dx = 0.15 * (max(xs) - min(xs) or 1.0)
        dy = 0.15 * (max(ys) - min(ys) or 1.0)
        xlim = xlim or (min(xs) - dx, max(xs) + dx)
        ylim = ylim or (min(ys) - dy, max(ys) + dy)
    return xlim, ylim, minimum


def _draw_contours(
    fig: Figure,
    ax: Axes,
    z: np.ndarray,
    gx: np.ndarray,
    gy: np.ndarray,
    levels: int,
    constraint: Callable[[Any, Any], Any] | None,
) -> None:
    """f's filled contour map and colour bar (log-spaced levels where f > 0 on the window), and
    the constraint's boundary g = 0 with its infeasible side g > 0 hatched."""
    if z.min() >= 0:
        positive = z[z > 0]
        top = float(positive.max()) if positive.size else 1.0
        low = max(float(positive.min()) if positive.size else 1e-3, top * 1e-8)
        lv: Any = np.geomspace(low, top, levels)
        z_plot = np.clip(z, low, None)
        norm = LogNorm(vmin=low, vmax=top)
        cf = ax.contourf(gx, gy, z_plot, levels=lv, norm=norm, cmap="Greys_r", alpha=0.55)
        ax.contour(gx, gy, z_plot, levels=lv, norm=norm, cmap="Greys", linewidths=0.5, alpha=0.6)
        scale = "log-spaced levels"
        ticks: Any = LogLocator()
    else:
        # round numbers for the levels (and so for the colour bar's ticks)
        lv = MaxNLocator(levels).tick_values(float(z.min()), float(z.max()))
        cf = ax.contourf(gx, gy, z, levels=lv, cmap="RdBu_r", alpha=0.35)
        ax.contour(gx, gy, z, levels=lv, colors="k", linewidths=0.4, alpha=0.4)
        scale = "linear levels"
        ticks = None
    if constraint is None:
        fig.colorbar(cf, ax=ax, ticks=ticks, label=f"f(x, y) ({scale})")
    else:
        ax.set_aspect("equal", adjustable="box")  # a disk should look like a disk
        # a colour bar beside the axes, as tall as the (now square-scaled) map, not the figure
        bar = ax.inset_axes((1.04, 0.0, 0.04, 1.0))
        fig.colorbar(cf, cax=bar, ticks=ticks, label=f"f(x, y) ({scale})")
        g = _grid_values(constraint, gx, gy)
        if g.max() > 0:  # some of the window is infeasible: hatch it
            ax.contourf(gx, gy, g, levels=[0.0, float(g.max())], colors="none", hatches=["//"])
        ax.contour(gx, gy, g, levels=[0.0], colors="crimson", linewidths=2.0)
        ax.plot([], [], color="crimson", lw=2.0, label="constraint boundary g = 0")


def _draw_paths(
    ax: Axes,
    paths: dict[str, OptimizerPath],
    starts: list[tuple[float, float]],
    minimum: tuple[float, float] | None,
    problem: Problem2D | None,
) -> list[Any]:
    """Each path as a line of dots, the starts, the minima and saddle; returns the path lines."""
    path_lines = []
    for i, (name, r) in enumerate(paths.items()):
        px = [p[0] for p in r.points]
        py = [p[1] for p in r.points]
        note = " (diverged)" if r.diverged else ""
        (line,) = ax.plot(
            px,
            py,
            "-o",
            color=_COLORS[i % len(_COLORS)],
            lw=1.5,
            ms=2,
            alpha=0.9,
            label=f"{name}: f={r.losses[-1]:.3g} after {r.steps} steps{note}",
        )
        path_lines.append(line)
    ax.plot(
        [s[0] for s in starts],
        [s[1] for s in starts],
        "o",
        color="white",
        mec="k",
        ms=9,
        ls="none",
        zorder=5,
        label="start" if len(starts) == 1 else "starts",
    )
    if minimum is not None:
        label = "global minimum" if problem is not None and problem.local_minima else "minimum"
        ax.plot(*minimum, "*", color="gold", mec="k", ms=16, zorder=5, label=label)
    if problem is not None and problem.local_minima:
        lx, ly = zip(*problem.local_minima)
        ax.plot(
            lx, ly, "*", color="silver", mec="k", ms=13, ls="none", zorder=5, label="local minimum"
        )
    if problem is not None and problem.marker is not None:
        ax.plot(*problem.marker, "X", color="white", mec="k", ms=10, zorder=5, label="saddle point")
    return path_lines


def _legend_below(
    fig: Figure, ax: Axes, path_lines: list[Any], end_markers: list[Any], n_starts: int
) -> None:
    """The legend below the map (below the figure for several starts), each path with its end."""
    # Each path's legend entry shows its line and its end marker; the legend sits below the map,
    # where it covers no path.
    artists, labels = ax.get_legend_handles_labels()
    ends = dict(zip(path_lines, end_markers))
    handles: list[Any] = [(h, ends[h]) if h in ends else h for h in artists]
    legend_style: dict[str, Any] = {
        "handler_map": {tuple: HandlerTuple(ndivide=None)},
        "ncol": 2,
        "fontsize": 8,
    }
    if n_starts == 1:
        ax.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            title="paths that overlap are told apart by their end markers",
            title_fontsize=8,
            **legend_style,
        )
    else:
        fig.legend(handles, labels, loc="outside lower center", **legend_style)


_END_MARKERS = ("s", "^", "D", "v", "P", "h", "X", "p")


def _mark_path_ends(ax: Any, lines: list[Any]) -> list[Any]:
    """Mark where each path ends with a shape of its own, later paths drawn smaller and on top.

    Paths that end at the same point (several optimizers converging to one minimum) or run on
    top of each other stay visible as nested markers of different shapes and colours.
    """
    markers = []
    for i, line in enumerate(lines):
        x, y = line.get_xdata()[-1], line.get_ydata()[-1]
        (end,) = ax.plot(
            [x],
            [y],
            _END_MARKERS[i % len(_END_MARKERS)],
            color=line.get_color(),
            mec="k",
            mew=0.8,
            ms=max(13.0 - 1.8 * i, 5.0),
            ls="none",
            zorder=6 + 0.01 * i,
            label="_nolegend_",
        )
        markers.append(end)
    return markers
