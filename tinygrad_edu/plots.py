"""Matplotlib figures: loss curves, fits, decision boundaries, optimizer paths, loss landscapes.

Every ``plot_*`` function

* returns a ``matplotlib.figure.Figure`` made directly (not through ``pyplot``), so nothing leaks
  into pyplot's global list of open figures and nothing needs closing;
* draws into a given ``ax=`` instead when you pass one (and returns the Figure holding ``ax``);
* saves the figure when given ``path=`` (the format comes from the suffix: ``.png``, ``.svg``,
  ``.pdf``), creating missing parent folders;
* is deterministic: the only randomness (the directions of a loss landscape) comes from ``seed``.

Model outputs are always computed under ``no_grad``: drawing a picture never grows a graph and never
touches a ``.grad``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.ticker import LogLocator, MaxNLocator

from tinygrad_edu import optim
from tinygrad_edu.engine import Parameter, no_grad
from tinygrad_edu.problems import OptimizerPath, _record_path

__all__ = [
    "Problem2D",
    "TEST_FUNCTIONS",
    "plot_history",
    "plot_histories",
    "plot_step_losses",
    "plot_fit",
    "plot_decision_boundary",
    "plot_finite_difference_error",
    "OptimizerPath",
    "optimizer_path",
    "plot_trajectories",
    "LossLandscape",
    "loss_landscape",
    "plot_loss_landscape",
]

PathLike = str | Path

# One fixed colour per series, so two runs of the same code give the same picture.
_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")
_SPLIT_STYLE: dict[str, dict[str, Any]] = {  # how plot_fit marks each split
    "train": {"color": "tab:blue", "marker": "o"},
    "val": {"color": "tab:orange", "marker": "s"},
    "test": {"color": "tab:green", "marker": "^"},
}


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# training history
# ----------------------------------------------------------------------------------------------


def _history_dict(history: Any, op: str = "plot_history") -> dict[str, Any]:
    if isinstance(history, Mapping):
        return dict(history)
    if hasattr(history, "to_dict"):
        return dict(history.to_dict())
    raise TypeError(
        f"{op}: expected a train.History or its to_dict(), got {type(history).__name__}"
    )


def _moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean of the last ``window`` values (fewer at the start): the smoothed step curve."""
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _metric_panel(a: Axes, h: dict[str, Any], metric: str) -> None:
    """Train (and validation) metric per epoch, e.g. accuracy, on one axes."""
    train = list(h.get("train_metric_epoch") or [])
    val = list(h.get("val_metric_epoch") or [])
    ms = 3 if max(len(train), len(val)) <= 60 else 0
    if train:
        a.plot(np.arange(1, len(train) + 1), train, "o-", color="tab:blue", ms=ms, label="train")
    if val:
        a.plot(np.arange(1, len(val) + 1), val, "s-", color="tab:orange", ms=ms, label="validation")
    a.set_xlabel("epoch")
    a.set_ylabel(metric)
    a.set_title(f"{metric} per epoch")
    a.grid(True, alpha=0.3)
    a.legend()


def plot_history(
    history: Any,
    *,
    log: bool = False,
    per: str = "both",
    smooth: int | None = None,
    metric: str | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Training and validation loss, per optimisation step and per epoch.

    Args:
        history: a ``train.History`` or its ``.to_dict()`` (keys ``train_loss_step``,
            ``train_loss_epoch``, ``val_loss_epoch``, optionally ``best_epoch``).
        log: log-scale loss axis (losses that fall by orders of magnitude stay readable).
        per: ``"both"`` (two panels: steps, epochs), ``"step"`` or ``"epoch"`` (one panel).
        smooth: window of the moving average drawn over the noisy per-step loss
            (default: the steps of one epoch, at least 2 and at least 1/50 of all steps).
        metric: the name of the metric ``fit`` recorded (e.g. ``"accuracy"``): adds a panel
            of ``train_metric_epoch`` (and ``val_metric_epoch``) per epoch, labelled with it.
        ax: one Axes per panel to draw into (``per="step"``/``"epoch"``: one, ``"both"``:
            two; one more with ``metric``).
        path: where to save the figure.
        title: the figure's title.

    The per-step curve is the loss of each mini-batch as the optimizer saw it: noisy, because each
    batch is a different sample of the data. The per-epoch train loss is the mean over the epoch's
    batches and the validation loss is computed once at the end of each epoch, on data the model
    never trains on: when it stops falling while the train loss keeps falling, the model overfits.
    """
    if per not in ("both", "step", "epoch"):
        raise ValueError(f"plot_history: per must be 'both', 'step' or 'epoch', got {per!r}")
    h = _history_dict(history)
    step_loss = list(h.get("train_loss_step") or [])
    train_epoch = list(h.get("train_loss_epoch") or [])
    val_epoch = list(h.get("val_loss_epoch") or [])
    if not step_loss and not train_epoch:
        raise ValueError("plot_history: the history holds no losses (was fit run for 0 epochs?)")
    if metric is not None and not (h.get("train_metric_epoch") or h.get("val_metric_epoch")):
        raise ValueError(
            f"plot_history: metric={metric!r} but the history holds no metric values "
            f"(pass metric= to fit)"
        )

    panels = ["step", "epoch"] if per == "both" else [per]
    if metric is not None:
        panels.append("metric")
    if ax is None:
        size = (5.5 * len(panels), 4.2) if len(panels) > 1 else (6.4, 4.6)
        fig = Figure(figsize=size, layout="constrained")
        axes = list(fig.subplots(1, len(panels), squeeze=False)[0])
    else:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) != len(panels):
            raise ValueError(f"plot_history: per={per!r} needs {len(panels)} axes, got {len(axes)}")
        fig = _root_figure(axes[0])

    for panel, a in zip(panels, axes):
        if panel == "metric":
            _metric_panel(a, h, str(metric))
            continue
        if panel == "step":
            steps = np.arange(1, len(step_loss) + 1)
            a.plot(steps, step_loss, color="tab:blue", alpha=0.35, lw=1, label="train loss (batch)")
            if len(step_loss) >= 4:
                per_epoch = max(1, len(step_loss) // max(1, len(train_epoch)))
                # One epoch of steps (at least 1/50 of the run) averages out the batch noise.
                window = smooth if smooth is not None else max(2, per_epoch, len(step_loss) // 50)
                a.plot(
                    steps,
                    _moving_average(step_loss, window),
                    color="tab:blue",
                    lw=2,
                    label=f"moving average ({window} steps)",
                )
            a.set_xlabel("optimisation step")
            a.set_title("loss per step")
        else:
            epochs = np.arange(1, len(train_epoch) + 1)
            ms = 3 if len(train_epoch) <= 60 else 0  # markers only while they can be told apart
            a.plot(epochs, train_epoch, "o-", color="tab:blue", ms=ms, label="train")
            if val_epoch:
                a.plot(
                    np.arange(1, len(val_epoch) + 1),
                    val_epoch,
                    "s-",
                    color="tab:orange",
                    ms=ms,
                    label="validation",
                )
            best = h.get("best_epoch")
            if best is not None and val_epoch:
                a.axvline(best + 1, color="gray", ls="--", lw=1, label=f"best epoch ({best + 1})")
            a.set_xlabel("epoch")
            a.set_title("loss per epoch")
        a.set_ylabel("loss")
        if log:
            a.set_yscale("log")
        a.grid(True, alpha=0.3)
        a.legend()
    if title is not None:
        fig.suptitle(title)
    return _finish(fig, path)


_CURVE_NAMES = {
    "train_loss_step": ("optimisation step", "training loss (batch)"),
    "train_loss_epoch": ("epoch", "training loss"),
    "val_loss_epoch": ("epoch", "validation loss"),
    "train_metric_epoch": ("epoch", "training metric"),
    "val_metric_epoch": ("epoch", "validation metric"),
    "lr_step": ("optimisation step", "learning rate"),
}


def plot_histories(
    runs: Mapping[str, Any],
    key: str = "val_loss_epoch",
    *,
    log: bool = True,
    x: str = "auto",
    ax: Axes | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Compare one curve of several training runs on one axes (one line per run).

    Args:
        runs: legend name -> ``History`` (or its ``to_dict()``), e.g. one run per batch size.
        key: which curve: ``"val_loss_epoch"``, ``"train_loss_epoch"``, ``"train_loss_step"``,
            ``"val_metric_epoch"``, ``"lr_step"``...
        log: log-scale y axis.
        x: ``"auto"`` (epochs for ``*_epoch`` curves, steps for ``*_step``), or ``"epoch"`` to
            draw a per-step curve against fractional epochs (step i of an epoch of m steps at
            epoch e + i/m), which puts runs with different batch sizes on a common clock;
            ``"step"`` draws a per-epoch curve at the step that ended each epoch (epoch e of
            m steps each at step e * m), to compare runs by the number of updates;
            ``"time"`` draws any curve against the cumulative wall-clock seconds of training
            (``epoch_time``; steps spread evenly over their epoch), to compare what runs cost.
    """
    if not runs:
        raise ValueError("plot_histories: give at least one run (name -> History)")
    if x not in ("auto", "epoch", "step", "time"):
        raise ValueError(f"plot_histories: x must be 'auto', 'epoch', 'step' or 'time', got {x!r}")
    fig, ax = _figure_and_axes(ax)
    xlabel, ylabel = _CURVE_NAMES.get(key, ("step" if key.endswith("_step") else "epoch", key))
    for i, (name, history) in enumerate(runs.items()):
        h = _history_dict(history, "plot_histories")
        if key not in h:
            raise ValueError(f"plot_histories: run {name!r} has no curve {key!r}; has {sorted(h)}")
        values = list(h[key])
        n_epochs = max(1, len(h.get("train_loss_epoch") or []))
        n_steps = max(1, len(h.get("train_loss_step") or []))
        at: np.ndarray = np.arange(1, len(values) + 1, dtype=float)
        # Where each value sits on the epoch clock: per-step values at fractional epochs.
        epochs_at = at * n_epochs / max(1, len(values)) if key.endswith("_step") else at
        if x == "epoch" and key.endswith("_step"):
            at, xlabel = epochs_at, "epoch"
        elif x == "step" and not key.endswith("_step"):
            at, xlabel = at * n_steps / n_epochs, "optimisation step"
        elif x == "time":
            seconds = list(h.get("epoch_time") or [])
            if not seconds:
                raise ValueError(f"plot_histories: run {name!r} has no epoch_time to put on x")
            # Cumulative seconds at the end of epochs 0, 1, 2, ...; interpolated within an epoch.
            at = np.interp(epochs_at, np.arange(len(seconds) + 1), np.cumsum([0.0, *seconds]))
            xlabel = "wall-clock time (s)"
        lw = 1.0 if key.endswith("_step") else 2.0
        ax.plot(at, values, color=_COLORS[i % len(_COLORS)], lw=lw, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(title if title is not None else ylabel)
    return _finish(fig, path)


def plot_step_losses(
    runs: Mapping[str, Any],
    *,
    log: bool = True,
    smooth: int | None = None,
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """The per-step training loss of several runs in side-by-side panels sharing one loss axis.

    One panel per run (``plot_history(..., per="step")``: every step's batch loss, light, and its
    moving average, dark), titled with the run's name and step count. Overlaid on one axes the
    runs would hide each other; side by side, on the same y scale, the noise of each regime's
    path can be compared directly: a full-batch run is smooth, a stochastic one jumps from step
    to step because each step sees a different sample.

    Args:
        runs: panel title -> ``History`` (or its ``to_dict()``).
        log: log-scale loss axis; smooth: the moving-average window (see ``plot_history``).
    """
    if not runs:
        raise ValueError("plot_step_losses: give at least one run (name -> History)")
    fig = Figure(figsize=(4.4 * len(runs), 3.9), layout="constrained")
    axes = fig.subplots(1, len(runs), sharey=True, squeeze=False)[0]
    for a, (name, history) in zip(axes, runs.items()):
        h = _history_dict(history, "plot_step_losses")
        plot_history(h, per="step", log=log, smooth=smooth, ax=a)
        a.set_title(f"{name}: {len(h.get('train_loss_step') or [])} steps")
        a.label_outer()  # the shared loss axis is labelled once, on the left
    if title is not None:
        fig.suptitle(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------------
# 1-D regression fit
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# 2-D classifiers
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# finite differences: the error against the step h
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# optimizer trajectories on 2-D test functions
# ----------------------------------------------------------------------------------------------


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


# optim's test functions, each with a window that shows their character and a start point from which
# the first-order methods visibly differ (Rosenbrock's is the textbook (-1.2, 1)). Minima from
# ``optim.TEST_FUNCTION_MINIMA``.
_MINIMA = optim.TEST_FUNCTION_MINIMA
TEST_FUNCTIONS: dict[str, Problem2D] = {
    "rosenbrock": Problem2D(
        "Rosenbrock", optim.rosenbrock, (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0), _MINIMA["rosenbrock"]
    ),
    "beale": Problem2D(
        "Beale", optim.beale, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), _MINIMA["beale"]
    ),
    "saddle": Problem2D(
        "saddle $x^2 - y^2$",
        optim.saddle,
        (-2.0, 2.0),
        (-2.0, 2.0),
        (-1.8, 0.05),
        None,
        marker=(0.0, 0.0),
    ),
    "ill_conditioned_bowl": Problem2D(
        "ill-conditioned bowl $0.5(x^2 + 50y^2)$",
        optim.ill_conditioned_bowl,
        (-2.0, 2.0),
        (-1.0, 1.0),
        (-1.8, 0.6),
        _MINIMA["ill_conditioned_bowl"],
    ),
    "tilted_double_well": Problem2D(
        "tilted double well $x^4 - 3.5x^2 + 3x + (y - x/2)^2$",
        optim.tilted_double_well,
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
    if starts is not None:
        starts = [(float(s[0]), float(s[1])) for s in starts]
        if not starts or start is not None:
            raise ValueError("plot_trajectories: give either start or a non-empty list of starts")
    else:
        start = start if start is not None else (problem.start if problem else None)
        if start is None:
            raise ValueError("plot_trajectories: give a start point for a custom function")
        starts = [start]
    paths = {
        _path_name(name, s, len(starts), len(optimizers)): optimizer_path(
            func, factory, s, steps, stop_below=stop_below
        )
        for s in starts
        for name, factory in optimizers.items()
    }

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

    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    z = _grid_values(func, gx, gy)
    fig, ax = _figure_and_axes(ax, figsize=(7.5, 6.0 if len(starts) == 1 else 8.0))
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
    end_markers = _mark_path_ends(ax, path_lines)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else (problem.name if problem else "optimizer paths"))
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
    if len(starts) == 1:
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
    return _finish(fig, path)


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


# ----------------------------------------------------------------------------------------------
# loss landscape
# ----------------------------------------------------------------------------------------------


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
