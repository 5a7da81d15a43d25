"""A 2-D classifier's decision regions and boundary, with the data on top."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from tinygrad_edu.engine import no_grad
from tinygrad_edu.plots._common import (
    _COLORS,
    PathLike,
    _figure_and_axes,
    _finish,
    _scores,
)


def plot_decision_boundary(
    model: Callable[[list[float]], Any],
    X: Sequence[Sequence[float]],
    y: Sequence[int | float],
    *,
    resolution: int = 80,
    margin: float = 0.5,
    ax: Axes | None = None,
    path: PathLike | None = None,
    title: str | None = "decision boundary",
) -> Figure:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    A model with one output is a binary classifier scoring ``s(x)``; the boundary is ``s(x) = 0``
    (a logit of 0 is probability 1/2; with labels +-1 and the hinge loss, 0 is the margin's centre).
    A model with k > 1 outputs predicts the class of its largest score.

    Args:
        model: called as ``model([x1, x2])``.
        X: points ``[[x1, x2], ...]``; y: their labels (0/1, -1/+1, or 0..k-1).
        resolution: grid points per axis (the model runs resolution^2 times).
        margin: how far beyond the data the picture extends.
    """
    if len(X) != len(y) or not X:
        raise ValueError(
            f"plot_decision_boundary: need equal non-zero numbers of X and y, got "
            f"{len(X)} and {len(y)}"
        )
    pts = np.asarray([[float(a), float(b)] for a, b in X])
    labels = np.asarray([float(v) for v in y])
    x0 = np.linspace(pts[:, 0].min() - margin, pts[:, 0].max() + margin, resolution)
    x1 = np.linspace(pts[:, 1].min() - margin, pts[:, 1].max() + margin, resolution)
    gx, gy = np.meshgrid(x0, x1)
    with no_grad():
        scores = [_scores(model([float(a), float(b)])) for a, b in zip(gx.ravel(), gy.ravel())]
    n_out = len(scores[0])

    fig, ax = _figure_and_axes(ax, figsize=(6.0, 5.2))
    classes = sorted(set(labels.tolist()))
    if n_out == 1:
        s = np.asarray([row[0] for row in scores]).reshape(gx.shape)
        # Two colours split at score 0; the boundary itself as a black line.
        ax.contourf(
            gx, gy, s, levels=[-np.inf, 0.0, np.inf], colors=["#9ecae1", "#fdae6b"], alpha=0.6
        )
        if s.min() < 0 < s.max():
            ax.contour(gx, gy, s, levels=[0.0], colors="k", linewidths=1.5)
        point_colors = {c: ("tab:blue" if c <= 0 else "tab:orange") for c in classes}
    else:
        pred = np.asarray([int(np.argmax(row)) for row in scores]).reshape(gx.shape)
        # Class regions as cells (contourf would blend non-adjacent class numbers at the edges).
        ax.pcolormesh(
            gx,
            gy,
            pred,
            cmap=ListedColormap(_COLORS[:n_out]),
            vmin=-0.5,
            vmax=n_out - 0.5,
            alpha=0.25,
            shading="auto",
        )
        point_colors = {c: _COLORS[int(c) % len(_COLORS)] for c in classes}
    for c in classes:
        mask = labels == c
        ax.scatter(
            pts[mask, 0],
            pts[mask, 1],
            s=22,
            color=point_colors[c],
            edgecolors="k",
            linewidths=0.5,
            label=f"class {c:g}",
        )
    ax.set_xlim(x0[0], x0[-1])
    ax.set_ylim(x1[0], x1[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    return _finish(fig, path)
