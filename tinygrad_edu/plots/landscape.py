"""A model's loss landscape: its loss on a plane through its parameters, along random directions."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator

from tinygrad_edu.engine import Parameter, no_grad
from tinygrad_edu.plots._common import (
    PathLike,
    _figure_and_axes,
    _finish,
)


@dataclass
class LossLandscape:
    """A slice of a model's loss around its parameters theta.

    ``losses[i]`` is L(theta + alphas[i] d1) (1-D) and ``losses[j][i]`` is
    L(theta + alphas[i] d1 + betas[j] d2) (2-D, rows follow betas as in a contour grid).
    ``center_loss`` is L(theta). ``directions`` holds d1 (and d2), one number per parameter.
    """

    alphas: list[float]
    betas: list[float] | None
    losses: list[float] | list[list[float]]
    center_loss: float
    directions: list[list[float]]


def _neuron_groups(model: Any, params: list[Parameter]) -> list[list[int]]:
    """Indices of the parameters of each neuron ("L0.N3.w1", "L0.N3.b" -> group "L0.N3")."""
    if not hasattr(model, "named_parameters"):
        return [list(range(len(params)))]
    groups: dict[str, list[int]] = {}
    index = {id(p): i for i, p in enumerate(params)}
    for name, p in model.named_parameters():
        groups.setdefault(name.rsplit(".", 1)[0], []).append(index[id(p)])
    return list(groups.values())


def _random_direction(
    rng: random.Random, theta: list[float], groups: list[list[int]], normalization: str
) -> list[float]:
    """A Gaussian direction, rescaled so that a step of 1 means something comparable.

    ``"filter"`` (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"): each neuron's
    slice of d is scaled to the norm of that neuron's weights and bias, ||d_j|| = ||theta_j||, so
    the picture does not depend on how each neuron happens to be scaled (a ReLU network computes
    the same function when a neuron's incoming weights are multiplied by c and its outgoing ones
    by 1/c).
    ``"unit"``: ||d|| = 1, so alpha is the Euclidean distance moved in parameter space.
    """
    d = [rng.gauss(0.0, 1.0) for _ in theta]
    if normalization == "unit":
        norm = math.sqrt(math.fsum(v * v for v in d)) or 1.0
        return [v / norm for v in d]
    for group in groups:
        d_norm = math.sqrt(math.fsum(d[i] ** 2 for i in group))
        t_norm = math.sqrt(math.fsum(theta[i] ** 2 for i in group))
        for i in group:
            d[i] = d[i] / d_norm * t_norm if d_norm > 0 else 0.0
    return d


def loss_landscape(
    model: Any,
    loss_fn: Callable[[list[Any], Sequence[Any]], Any],
    X: Sequence[Any],
    y: Sequence[Any],
    *,
    directions: int = 1,
    span: float = 1.0,
    steps: int | None = None,
    seed: int = 0,
    normalization: str = "filter",
) -> LossLandscape:
    """Evaluate the loss on a line (1-D) or plane (2-D) through the model's parameters.

    L(alpha) = loss_fn(model on X, y) with parameters theta + alpha d1 (+ beta d2), alpha and beta
    in [-span, span], ``steps`` points per axis (default 41 in 1-D, 21 in 2-D: 441 passes over X).
    The directions are random, drawn from ``random.Random(seed)`` and normalised as described in
    ``_random_direction`` ("filter" or "unit"). Everything runs under ``no_grad``, and the
    parameters are put back exactly (the saved floats, not theta + 0 d) even if loss_fn raises.
    """
    if directions not in (1, 2):
        raise ValueError(f"loss_landscape: directions must be 1 or 2, got {directions!r}")
    if normalization not in ("filter", "unit"):
        raise ValueError(
            f"loss_landscape: normalization must be 'filter' or 'unit', got {normalization!r}"
        )
    if not span > 0:
        raise ValueError(f"loss_landscape: span must be > 0, got {span!r}")
    steps = steps if steps is not None else (41 if directions == 1 else 21)
    if steps < 2:
        raise ValueError(f"loss_landscape: steps must be >= 2, got {steps}")
    params = list(model.parameters())
    if not params:
        raise ValueError("loss_landscape: the model has no parameters")
    theta = [p.data for p in params]
    rng = random.Random(seed)
    groups = _neuron_groups(model, params)
    dirs = [_random_direction(rng, theta, groups, normalization) for _ in range(directions)]
    # alpha_i = span (2i/(steps-1) - 1): exactly 0.0 in the middle when steps is odd.
    axis = [span * (2 * i / (steps - 1) - 1) for i in range(steps)]
    forward = getattr(model, "forward_batch", None) or (lambda xs: [model(x) for x in xs])

    def loss_at(coefs: Sequence[float]) -> float:
        for k, p in enumerate(params):
            p.data = theta[k] + math.fsum(c * d[k] for c, d in zip(coefs, dirs))
        return float(loss_fn(forward(X), y))

    try:
        with no_grad():
            if directions == 1:
                losses: Any = [loss_at((a,)) for a in axis]
            else:
                losses = [[loss_at((a, b)) for a in axis] for b in axis]
    finally:
        for p, t in zip(params, theta):
            p.data = t
    with no_grad():
        center = float(loss_fn(forward(X), y))
    return LossLandscape(axis, axis if directions == 2 else None, losses, center, dirs)


def plot_loss_landscape(
    model: Any,
    loss_fn: Callable[[list[Any], Sequence[Any]], Any],
    X: Sequence[Any],
    y: Sequence[Any],
    directions: int = 1,
    span: float = 1.0,
    steps: int | None = None,
    seed: int = 0,
    *,
    normalization: str = "filter",
    log: bool | None = None,
    levels: int = 25,
    ax: Axes | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Draw ``loss_landscape(...)``: a curve (1-D) or a contour map (2-D); theta marked at 0.

    A sharp, narrow minimum shows up as a steep curve / tight rings; a wide one as a flat valley.
    ``log`` puts the 1-D loss axis (or the 2-D colour levels) on a log scale; by default (None)
    it does so when the losses span more than two orders of magnitude, as they usually do (the
    loss near a minimum is small, a unit step away in a random direction it can be huge).
    """
    land = loss_landscape(
        model,
        loss_fn,
        X,
        y,
        directions=directions,
        span=span,
        steps=steps,
        seed=seed,
        normalization=normalization,
    )
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 4.6) if directions == 1 else (7.2, 5.4))
    z_all = np.asarray(land.losses, dtype=float)
    if log is None:
        log = bool(z_all.min() > 0 and z_all.max() / z_all.min() > 100)
    how = "filter-normalised" if normalization == "filter" else "unit-norm"
    if directions == 1:
        ax.plot(land.alphas, land.losses, color="tab:blue", lw=2, label="loss along d")
        ax.plot([0.0], [land.center_loss], "o", color="tab:red", ms=8, label="trained parameters")
        ax.set_xlabel(rf"$\alpha$ (step along a random {how} direction d)")
        ax.set_ylabel(r"loss($\theta + \alpha d$)")
        if log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    else:
        z = np.asarray(land.losses, dtype=float)
        assert land.betas is not None  # 2-D
        gx, gy = np.meshgrid(np.asarray(land.alphas), np.asarray(land.betas))
        if log and z.min() > 0:  # log-spaced levels resolve the basin around theta
            lv = np.geomspace(z.min(), z.max(), levels)
            cf = ax.contourf(gx, gy, z, levels=lv, norm=LogNorm(z.min(), z.max()), cmap="viridis")
            ticks: Any = LogLocator()
        else:
            lv = np.linspace(z.min(), z.max(), levels)
            cf = ax.contourf(gx, gy, z, levels=lv, cmap="viridis")
            ticks = None
        ax.contour(gx, gy, z, levels=lv, colors="k", linewidths=0.4, alpha=0.5)
        fig.colorbar(cf, ax=ax, ticks=ticks, shrink=0.85, label="loss")
        ax.plot([0.0], [0.0], "*", color="tab:red", mec="w", ms=14, label="trained parameters")
        ax.set_xlabel(r"$\alpha$ (direction $d_1$)")
        ax.set_ylabel(r"$\beta$ (direction $d_2$)")
        ax.set_aspect("equal")
        ax.legend(loc="upper right")
    ax.set_title(
        title if title is not None else f"loss landscape ({directions}-D, {how} directions)"
    )
    return _finish(fig, path)
