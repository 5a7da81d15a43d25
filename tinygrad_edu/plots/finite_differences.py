"""Finite differences: a difference quotient's error against the step h (truncation vs rounding)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tinygrad_edu.plots._common import (
    PathLike,
    _figure_and_axes,
    _finish,
)

_MACHINE_EPS = 2.0**-52  # spacing of floats near 1: the relative rounding error of one operation


def plot_finite_difference_error(
    f: Callable[[float], float],
    x: float,
    exact: float,
    *,
    hs: Sequence[float] | None = None,
    ax: Axes | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """The error of the forward and the central difference against the step h, on log-log axes.

    Both estimate f'(x); Taylor's theorem gives their truncation error, and rounding adds a second
    term (f is computed with relative error about eps = 2.2e-16, and dividing by a small h
    magnifies it):

        forward = (f(x + h) - f(x)) / h           error ~ (h/2)   |f''(x)|  + 2 eps |f(x)| / h
        central = (f(x + h) - f(x - h)) / (2h)    error ~ (h^2/6) |f'''(x)| +   eps |f(x)| / h

    For large h truncation dominates and the curves fall with slope 1 (forward) and 2 (central);
    for small h rounding dominates and both rise with slope -1. The best h balances the two terms:
    about sqrt(eps) ~ 1e-8 for the forward difference and eps^(1/3) ~ 1e-5 for the central one,
    whose best error is orders of magnitude smaller (why ``gradcheck`` uses central differences
    with eps = 1e-6). Dotted guides of slope 1 and 2 pass through each curve at its largest h; the
    grey one is the rounding term eps |f(x)| / h.

    Args:
        f: a function of one float returning a float, e.g. ``math.sin``.
        x: the point; exact: the true derivative f'(x), against which the errors are measured.
        hs: the steps (default: 57 log-spaced from 1e-14 to 1).
        ax, path, title: as for the other ``plot_*`` functions.

    Each curve's smallest error is circled and given in the legend. An error of exactly 0 (a lucky
    rounding) cannot be drawn on a log axis and is left out.
    """
    steps = np.logspace(-14, 0, 57) if hs is None else np.asarray([float(h) for h in hs])
    if steps.size < 2 or not np.all(steps > 0):
        raise ValueError(
            f"plot_finite_difference_error: need at least 2 steps h > 0, got {list(steps)}"
        )
    steps = np.sort(steps)
    x, exact = float(x), float(exact)
    fx = float(f(x))
    forward = np.asarray([abs((float(f(x + h)) - fx) / h - exact) for h in steps])
    central = np.asarray(
        [abs((float(f(x + h)) - float(f(x - h))) / (2 * h) - exact) for h in steps]
    )
    fig, ax = _figure_and_axes(ax, figsize=(7.0, 4.8))
    every = np.concatenate([forward, central])
    positive = every[every > 0]
    if positive.size == 0:
        raise ValueError("plot_finite_difference_error: every error is 0; nothing to draw")
    low, high = float(positive.min()) / 10, float(positive.max()) * 10
    for name, errors, color, slope in (
        ("forward", forward, "tab:blue", 1),
        ("central", central, "tab:orange", 2),
    ):
        shown = np.where(errors > 0, errors, np.nan)
        best = int(np.nanargmin(shown))
        ax.plot(
            steps,
            shown,
            "o-",
            color=color,
            ms=3,
            label=f"{name}: best h = {steps[best]:.0e}, error {shown[best]:.1e}",
        )
        ax.plot(steps[best], shown[best], "o", ms=12, mfc="none", mec=color, mew=2)
        anchor = len(steps) - 1  # the guide h^slope through the curve at its largest h
        while anchor > 0 and not errors[anchor] > 0:
            anchor -= 1
        guide = errors[anchor] * (steps / steps[anchor]) ** slope
        ax.plot(steps, guide, ":", color=color, lw=1.5, label=f"slope {slope} (truncation)")
    rounding = _MACHINE_EPS * max(abs(fx), 1e-300) / steps
    ax.plot(steps, rounding, ":", color="gray", lw=1.5, label="slope -1: rounding eps|f(x)|/h")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.set_xlabel("step $h$")
    ax.set_ylabel("error |estimate - exact|")
    ax.set_title(title if title is not None else f"finite-difference error at x = {x:g}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper center", fontsize=8, framealpha=0.9)
    return _finish(fig, path)
