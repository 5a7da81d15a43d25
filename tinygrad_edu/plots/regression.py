"""A 1-D regression fit: the model's curve over the train / validation / test points."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tinygrad_edu.engine import no_grad
from tinygrad_edu.plots._common import (
    _COLORS,
    PathLike,
    _figure_and_axes,
    _finish,
    _scalar,
)

_SPLIT_STYLE: dict[str, dict[str, Any]] = {  # how plot_fit marks each split
    "train": {"color": "tab:blue", "marker": "o"},
    "val": {"color": "tab:orange", "marker": "s"},
    "test": {"color": "tab:green", "marker": "^"},
}


def _column(X: Sequence[Any], what: str) -> list[float]:
    """The single feature of 1-D inputs given as [[x], ...] or [x, ...]."""
    out = []
    for row in X:
        if isinstance(row, (list, tuple)):
            if len(row) != 1:
                raise ValueError(f"{what}: expected 1-D inputs [[x], ...], got a row of {len(row)}")
            row = row[0]
        out.append(float(row))
    return out


def plot_fit(
    model: Callable[[list[float]], Any],
    X: Sequence[Any] | None = None,
    y: Sequence[float] | None = None,
    *,
    splits: Mapping[str, tuple[Sequence[Any], Sequence[float]]]
    | Sequence[tuple[Sequence[Any], Sequence[float]]]
    | None = None,
    true_curve: bool | Callable[[float], float] = False,
    n_points: int = 300,
    ax: Axes | None = None,
    path: PathLike | None = None,
    title: str | None = "model fit",
) -> Figure:
    """A 1-D regressor's curve drawn over its data.

    Args:
        model: called as ``model([x])``; returns a Value (or number, or a 1-element list).
        X, y: the data, ``X`` as ``[[x], ...]``. May be omitted when ``splits`` is given.
        splits: ``(train, val, test)`` as (X, y) tuples (or a dict name -> (X, y)); each split is
            marked with its own colour and marker.
        true_curve: ``True`` draws ``data.regression_curve`` (the noise-free function the data was
            sampled from); a callable float -> float draws that instead.
        n_points: how finely the model's curve is sampled.
    """
    if isinstance(splits, Mapping):
        named = list(splits.items())
    elif splits is not None:
        if len(splits) != 3:
            raise ValueError(
                f"plot_fit: splits must be (train, val, test), got {len(splits)} items"
            )
        named = list(zip(("train", "val", "test"), splits))
    else:
        named = []
    if X is None and not named:
        raise ValueError("plot_fit: give the data (X, y) or splits=(train, val, test)")

    fig, ax = _figure_and_axes(ax)
    xs_all: list[float] = []
    if X is not None:
        if y is None or len(X) != len(y):
            raise ValueError("plot_fit: X and y must be given together with the same length")
        xs = _column(X, "plot_fit")
        xs_all += xs
        if not named:  # without splits, the data itself is the one series
            ax.scatter(xs, y, s=14, color="tab:blue", alpha=0.6, label=f"data (n={len(xs)})")
    for i, (name, (Xs, ys)) in enumerate(named):
        xs = _column(Xs, "plot_fit")
        xs_all += xs
        style: dict[str, Any] = _SPLIT_STYLE.get(
            name, {"color": _COLORS[i % len(_COLORS)], "marker": "o"}
        )
        ax.scatter(xs, list(ys), s=16, alpha=0.7, label=f"{name} (n={len(xs)})", **style)
    if not xs_all:
        raise ValueError("plot_fit: no data points to draw")

    lo, hi = min(xs_all), max(xs_all)
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, n_points)
    if true_curve:
        if callable(true_curve):
            curve = true_curve
        else:
            from tinygrad_edu.data import regression_curve

            curve = regression_curve
        ax.plot(grid, [curve(float(g)) for g in grid], "k--", lw=1.5, label="true curve")
    with no_grad():
        pred = [_scalar(model([float(g)]), "plot_fit") for g in grid]
    ax.plot(grid, pred, color="tab:red", lw=2.5, label="model")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _finish(fig, path)
