"""What every figure shares: the colours, making or reusing axes, saving, reading model outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

PathLike = str | Path

# One fixed colour per series, so two runs of the same code give the same picture.
_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")


def _root_figure(ax: Axes) -> Figure:
    """The top-level Figure of ``ax`` (for axes in a SubFigure, the Figure that holds it)."""
    fig: Any = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def _figure_and_axes(
    ax: Axes | None, figsize: tuple[float, float] = (6.4, 4.8)
) -> tuple[Figure, Axes]:
    """Use the caller's axes (and its top-level Figure), or make a fresh Figure with one axes."""
    if ax is not None:
        return _root_figure(ax), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _finish(fig: Figure, path: PathLike | None) -> Figure:
    """Save ``fig`` to ``path`` if one was given (format from the suffix); return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


def _scalar(out: Any, what: str) -> float:
    """A model's output as one float: a Value, a number, or a 1-element list of either."""
    if isinstance(out, (list, tuple)):
        if len(out) != 1:
            raise ValueError(
                f"{what}: expected the model to return one number, got {len(out)} outputs"
            )
        out = out[0]
    return float(out)


def _scores(out: Any) -> list[float]:
    """A model's output as a list of floats (one per class, or one score for binary)."""
    if isinstance(out, (list, tuple)):
        return [float(o) for o in out]
    return [float(out)]
