"""Training curves: loss (and metric) per epoch and per step, one run or several side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tinygrad_edu.plots._common import (
    _COLORS,
    PathLike,
    _figure_and_axes,
    _finish,
    _root_figure,
)


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


def _step_loss_panel(a: Axes, step_loss: list[float], n_epochs: int, smooth: int | None) -> None:
    """The loss of every step (noisy, one batch each) and its moving average, on one axes."""
    steps = np.arange(1, len(step_loss) + 1)
    a.plot(steps, step_loss, color="tab:blue", alpha=0.35, lw=1, label="train loss (batch)")
    if len(step_loss) >= 4:
        per_epoch = max(1, len(step_loss) // max(1, n_epochs))
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


def _epoch_loss_panel(
    a: Axes, train_epoch: list[float], val_epoch: list[float], best: int | None
) -> None:
    """Train (and validation) loss per epoch, with the best epoch marked, on one axes."""
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
    if best is not None and val_epoch:
        a.axvline(best + 1, color="gray", ls="--", lw=1, label=f"best epoch ({best + 1})")
    a.set_xlabel("epoch")
    a.set_title("loss per epoch")


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
            _step_loss_panel(a, step_loss, len(train_epoch), smooth)
        else:
            _epoch_loss_panel(a, train_epoch, val_epoch, h.get("best_epoch"))
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
