"""The training loop: ``fit()`` runs epochs of (mini-)batch gradient descent, returns a ``History``.

One optimisation step on a batch (Xb, yb) is the loop written on the board:

    optimizer.zero_grad()                       # leaf gradients accumulate, so clear them
    loss = loss_fn(model.forward_batch(Xb), yb) # forward: build the graph of J(params)
    loss.backward()                             # backward: dJ/dp for every parameter p
    optimizer.step()                            # update: p <- p - lr * (something made of dJ/dp)

``fit`` packs the first three lines into a *closure* and calls ``optimizer.step(closure)``, as
PyTorch allows for every optimizer: SGD and Adam call the closure once, while L-BFGS and Newton
need to re-evaluate the loss several times per step and could not work any other way.

An epoch is one pass over the training set in batches (``data.batches``): ``batch_size=None`` is
batch gradient descent (one step per epoch), ``1`` is stochastic gradient descent (n steps), and
``k`` is mini-batch gradient descent. After each epoch the validation set, if any, is evaluated
under ``no_grad`` (no graph is recorded: only the numbers are needed).
"""

from __future__ import annotations

import math
import numbers
import reprlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm  # type: ignore[import-untyped]

from tinygrad_edu.data import batches
from tinygrad_edu.engine import Value, no_grad
from tinygrad_edu.nn import Module

__all__ = [
    "History",
    "accuracy",
    "binary_accuracy",
    "evaluate",
    "fit",
    "multiclass_accuracy",
    "predict",
]

Dataset = tuple[Sequence[Any], Sequence[Any]]
LossFn = Callable[[list[Any], Sequence[Any]], Value]
Metric = Callable[[list[Any], Sequence[Any]], float]


@dataclass
class History:
    """What ``fit`` recorded; every list is plain floats, ready to plot.

    Attributes:
        train_loss_step: the training loss of every optimisation step, on that step's batch, at
            the parameters before the step (what the optimizer saw; includes ``regularization``).
        train_loss_epoch: per epoch, the mean of the step losses weighted by batch size (the
            running average that Keras reports, not a fresh pass at the end of the epoch).
        train_metric_epoch: per epoch, ``metric`` of the predictions made during the epoch's steps
            against their targets (empty without ``metric``).
        val_loss_epoch, val_metric_epoch: per epoch, on the validation set after the epoch, under
            ``no_grad`` (data loss only, no regularization term; empty without ``val``/``metric``).
        lr_step: the learning rate of every step (the first parameter group's ``"lr"``).
        batch_size_step: how many samples every step's batch held (its gradient is the mean of
            that many per-sample gradients); ``samples_seen`` is their sum.
        epoch_time: wall-clock seconds of every epoch.
        best_epoch: index (0-based, into the ``*_epoch`` lists) of the lowest validation loss, or
            None without validation.
        stopped_epoch: index of the epoch after which training stopped early (early stopping,
            a callback returning True, or a NaN or infinite loss, gradient or parameter), or
            None if every epoch ran.
    """

    train_loss_step: list[float] = field(default_factory=list)
    train_loss_epoch: list[float] = field(default_factory=list)
    train_metric_epoch: list[float] = field(default_factory=list)
    val_loss_epoch: list[float] = field(default_factory=list)
    val_metric_epoch: list[float] = field(default_factory=list)
    lr_step: list[float] = field(default_factory=list)
    batch_size_step: list[int] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.train_loss_epoch)

    @property
    def steps(self) -> int:
        """How many optimisation steps ran."""
        return len(self.train_loss_step)

    @property
    def samples_seen(self) -> int:
        """Per-sample gradient evaluations over the whole run: the sum of the batch sizes.

        The cost of training in samples processed: n per epoch in every regime (batch,
        mini-batch, stochastic), however many steps that epoch is cut into.
        """
        return sum(self.batch_size_step)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of lists (copies) and ints/None: JSON-ready, for plotting or saving."""
        return {
            "train_loss_step": list(self.train_loss_step),
            "train_loss_epoch": list(self.train_loss_epoch),
            "train_metric_epoch": list(self.train_metric_epoch),
            "val_loss_epoch": list(self.val_loss_epoch),
            "val_metric_epoch": list(self.val_metric_epoch),
            "lr_step": list(self.lr_step),
            "batch_size_step": list(self.batch_size_step),
            "epoch_time": list(self.epoch_time),
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }


def fit(
    model: Module,
    loss_fn: LossFn,
    optimizer: Any,
    train: Dataset,
    val: Dataset | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    scheduler: Any = None,
    metric: Metric | None = None,
    early_stopping_patience: int | None = None,
    progress: bool = True,
    callback: Callable[[int, History, Module], bool | None] | None = None,
    *,
    regularization: Callable[[Module], Value] | None = None,
    drop_last: bool = False,
    scheduler_interval: str = "epoch",
    min_delta: float = 0.0,
    compile: bool = False,  # noqa: A002 (the option's name in the issue; fit uses no builtin)
    backend: str = "python",
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs and return the ``History``.

    Args:
        model: a ``Module``; the batch forward is ``model.forward_batch(Xb)``.
        loss_fn: ``loss_fn(preds, targets) -> Value``, e.g. ``nn.mse_loss``.
        optimizer: a ``tinygrad_edu.optim`` optimizer over ``model.parameters()`` (anything
            with ``zero_grad()`` and ``step(closure)`` that calls the closure, as torch.optim).
        train, val: ``(X, y)`` pairs of lists; ``val`` optional.
        epochs: number of passes over ``train``.
        batch_size: None (full batch), 1 (stochastic) or k (mini-batch); see ``data.batches``.
        shuffle, seed, drop_last: passed to ``data.batches``; epoch e uses order (seed, e).
        scheduler: a learning-rate scheduler; ``scheduler.step()`` after every epoch (or every
            step with ``scheduler_interval="step"``).
        metric: ``metric(preds, targets) -> float`` with preds as plain floats (lists of floats
            for multi-output models), e.g. ``accuracy``; recorded per epoch on train and val.
        early_stopping_patience: stop when the validation loss has not improved (by more than
            ``min_delta``) for this many epochs, and restore the parameters of the best epoch
            (also at the end if training never stopped). Needs ``val``.
        progress: show a tqdm progress bar over the epochs (``False`` for none).
        callback: ``callback(epoch, history, model)`` after every epoch (after validation);
            returning True stops training (``history.stopped_epoch`` is set). It may also change
            the optimizer, e.g. ``optimizer.param_groups[0]["lr"]``, for the next epoch.
        regularization: ``regularization(model) -> Value`` added to every step's loss, e.g.
            ``lambda m: nn.l2_penalty(m.parameters(), 1e-4)``.
        compile, backend: with ``compile=True`` each step runs ``tinygrad_edu.compile`` of the
            loss (traced once per batch shape) on ``backend`` "python" or "numpy" instead of
            building a graph: the same History (bit for bit with "python", to 1e-12 with
            "numpy"), faster. Not with ``optim.Newton``, which needs the graph itself.

    Returns:
        The ``History``. If a step's training loss or a parameter's gradient becomes NaN or
        infinite (or the loss overflows a float), or a step leaves a parameter NaN or infinite,
        training stops at that step with a ``RuntimeWarning`` naming the epoch, the step and
        the loss, gradient or parameter. The model keeps the parameters from before that step
        (with early stopping: those of the best epoch); ``history.stopped_epoch`` is that epoch
        and ``history.train_loss_step`` ends with that step's loss.

    Raises:
        ValueError / TypeError, before any step, naming the argument and the value: a model
        that is not a ``Module``, a ``loss_fn`` / ``metric`` / ``callback`` / ``regularization``
        that is not callable, an optimizer without ``step`` and ``zero_grad``, a scheduler
        without ``step``; a malformed or empty ``train`` / ``val``, or a NaN or infinite number
        in them (the error names the sample, e.g. ``train X[3]``); bad ``epochs``,
        ``batch_size``, ``seed``, patience or ``min_delta``; early stopping without ``val``,
        ``drop_last`` with a batch larger than the training set (no step would run), or an
        optimizer that holds none of the model's parameters (it would train something else).
    """
    run = _Fit(  # checks every argument, before any step
        model,
        loss_fn,
        optimizer,
        train,
        val,
        epochs,
        batch_size,
        shuffle,
        seed,
        scheduler,
        metric,
        early_stopping_patience,
        callback,
        regularization,
        drop_last,
        scheduler_interval,
        min_delta,
    )
    if compile:
        run.compiled = _compile_step(model, loss_fn, optimizer, regularization, backend)
    return run.run(progress)


@dataclass
class _Fit:
    """One call of ``fit``: its arguments, the History it fills and the best epoch so far.

    ``epoch()`` is one epoch in named steps: train on every batch, stop on divergence, metric and
    schedule, validate (and early stopping), callback.
    """

    model: Module
    loss_fn: LossFn
    optimizer: Any
    train: Dataset
    val: Dataset | None
    epochs: int
    batch_size: int | None
    shuffle: bool
    seed: int
    scheduler: Any
    metric: Metric | None
    early_stopping_patience: int | None
    callback: Callable[[int, History, Module], bool | None] | None
    regularization: Callable[[Module], Value] | None
    drop_last: bool
    scheduler_interval: str
    min_delta: float
    history: History = field(default_factory=History)
    best_loss: float = math.inf  # the lowest validation loss so far
    best_state: dict[str, float] | None = None  # the parameters then (for early stopping)
    diverged: str | None = None  # what went NaN or infinite, once a step did
    compiled: Any = None  # the compiled step, with fit(compile=True)

    def __post_init__(self) -> None:
        self._check_arguments()
        self.named = self.model.named_parameters()  # checked for finiteness at every step

    def _check_arguments(self) -> None:
        """fit's checks, all before the first step (train and val become the checked pairs)."""
        self._check_callables()
        self.train = _check_dataset("fit", "train", self.train)
        _check_finite("fit", "train", self.train)
        if self.val is not None:
            self.val = _check_dataset("fit", "val", self.val)
            _check_finite("fit", "val", self.val)
        epochs, patience = self.epochs, self.early_stopping_patience
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
        batch_size = self.batch_size
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
                raise TypeError(f"fit: batch_size must be None or an int, got {batch_size!r}")
            if batch_size < 1:
                raise ValueError(f"fit: batch_size must be None or >= 1, got {batch_size!r}")
        for name in ("shuffle", "drop_last"):
            if not isinstance(getattr(self, name), bool):  # "no" would count as True
                raise TypeError(f"fit: {name} must be True or False, got {getattr(self, name)!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise TypeError(f"fit: seed must be an int, got {self.seed!r}")
        if isinstance(self.min_delta, bool) or not isinstance(self.min_delta, numbers.Real):
            raise TypeError(f"fit: min_delta must be a real number, got {self.min_delta!r}")
        if not (math.isfinite(self.min_delta) and self.min_delta >= 0):
            raise ValueError(f"fit: min_delta must be finite and >= 0, got {self.min_delta!r}")
        if patience is not None:
            if self.val is None:
                raise ValueError("fit: early_stopping_patience needs a validation set (val=(X, y))")
            if (
                isinstance(patience, bool)
                or not isinstance(patience, numbers.Integral)
                or patience < 0
            ):
                raise ValueError(
                    f"fit: early_stopping_patience must be an int >= 0, got {patience!r}"
                )
        batch_size, n_train = self.batch_size, len(self.train[0])
        if (
            self.drop_last
            and isinstance(batch_size, numbers.Integral)
            and not isinstance(batch_size, bool)
            and batch_size > n_train
        ):
            # Otherwise every epoch would have no step at all, and an empty epoch's loss is NaN.
            raise ValueError(
                f"fit: batch_size={batch_size} with drop_last=True leaves no batch of the "
                f"{n_train} training samples (no step would ever be taken)"
            )
        groups = getattr(self.optimizer, "param_groups", None)
        if isinstance(groups, list):
            # Built over another model's parameters (a common notebook slip), the optimizer would
            # update those, and this model would never change: say so instead of training nothing.
            held = {id(p) for group in groups for p in group.get("params", ())}
            params = self.model.parameters()
            if params and not any(id(p) in held for p in params):
                raise ValueError(
                    f"fit: the optimizer holds none of the model's {len(params)} parameters; "
                    f"build it from this model, e.g. SGD(model.parameters(), lr=...)"
                )
        if self.scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f'fit: scheduler_interval must be "epoch" or "step", '
                f"got {self.scheduler_interval!r}"
            )

    def _check_callables(self) -> None:
        """The model, the functions and the optimizer are what fit will call (else they would
        fail deep inside the first step, naming none of fit's arguments)."""
        if not isinstance(self.model, Module):
            raise TypeError(
                f"fit: model must be a tinygrad_edu.nn.Module, got {_describe(self.model)}"
            )
        if not callable(self.loss_fn):
            raise TypeError(f"fit: loss_fn must be callable, got {_describe(self.loss_fn)}")
        for name in ("metric", "callback", "regularization"):
            function = getattr(self, name)
            if function is not None and not callable(function):
                raise TypeError(f"fit: {name} must be callable or None, got {function!r}")
        if not all(callable(getattr(self.optimizer, m, None)) for m in ("step", "zero_grad")):
            raise TypeError(
                f"fit: optimizer must have step(closure) and zero_grad(), as a "
                f"tinygrad_edu.optim optimizer, got {_describe(self.optimizer)}"
            )
        if self.scheduler is not None and not callable(getattr(self.scheduler, "step", None)):
            raise TypeError(
                f"fit: scheduler must have a step() method (an lr_scheduler) or be None, "
                f"got {self.scheduler!r}"
            )

    def run(self, progress: bool) -> History:
        """Every epoch, until one says stop; then the best parameters back, if kept."""
        bar = tqdm(range(self.epochs), desc="fit", unit="epoch", disable=not progress, leave=True)
        try:
            for epoch in bar:
                if self.epoch(epoch, bar):  # diverged, early stopping, or the callback said stop
                    self.history.stopped_epoch = epoch
                    break
        finally:
            bar.close()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.history

    def epoch(self, epoch: int, bar: Any) -> bool:
        """One epoch; returns True if training stops after it."""
        history = self.history
        start = time.perf_counter()
        seen_preds, seen_targets = self._train_epoch(epoch)
        mean_loss = history.train_loss_epoch[-1]
        if self.diverged is None and not math.isfinite(mean_loss):
            self.diverged = f"the epoch's mean training loss became {mean_loss!r}"
        if self.diverged is not None:
            history.epoch_time.append(time.perf_counter() - start)
            history.stopped_epoch = epoch
            warnings.warn(
                f"fit: {self.diverged} in epoch {epoch} (step {history.steps - 1}); training "
                f"diverged, stopping with the parameters from before that step (try a smaller "
                f"learning rate)",
                RuntimeWarning,
                stacklevel=4,  # the line that called fit (warn <- epoch <- run <- fit <- caller)
            )
            return True
        if self.metric is not None:
            history.train_metric_epoch.append(float(self.metric(seen_preds, seen_targets)))
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self.scheduler.step()

        postfix = {"loss": f"{history.train_loss_epoch[-1]:.4g}"}
        stop = self.val is not None and self._validate(self.val, epoch, postfix)
        history.epoch_time.append(time.perf_counter() - start)
        bar.set_postfix(postfix)
        if self.callback is not None and self.callback(epoch, history, self.model) is True:
            stop = True
        return stop

    def _train_epoch(self, epoch: int) -> tuple[list[Any], list[Any]]:
        """A step per batch, recording each step's lr, batch size and loss, then the epoch's mean.

        The epoch ends at the first step whose loss or gradients are not finite (the step is not
        taken) or that leaves a parameter non-finite (the parameters are put back as they were
        before it); ``self.diverged`` then says which. Returns the predictions and targets of the
        steps, for the metric (empty without one).
        """
        history = self.history
        total, count = 0.0, 0
        seen_preds: list[Any] = []
        seen_targets: list[Any] = []
        X_train, y_train = self.train
        for Xb, yb in batches(
            X_train,
            y_train,
            self.batch_size,
            shuffle=self.shuffle,
            seed=self.seed,
            drop_last=self.drop_last,
            epoch=epoch,
        ):
            history.lr_step.append(_current_lr(self.optimizer))
            history.batch_size_step.append(len(Xb))
            before = [p.data for _, p in self.named]
            try:
                if self.compiled is not None:
                    loss, preds = _compiled_step(
                        self.compiled, self.model, self.optimizer, Xb, yb, self.metric is not None
                    )
                else:
                    loss, preds = _step(
                        self.model, self.loss_fn, self.optimizer, Xb, yb, self.regularization
                    )
                self.diverged = _non_finite_parameter(self.named)
            except _NonFinite as error:  # raised before the optimizer changed anything
                loss, preds, self.diverged = error.loss, [], error.what
            except OverflowError:  # the engine refuses to overflow a float: diverged
                loss, preds, self.diverged = math.inf, [], "the training loss became inf"
            history.train_loss_step.append(loss)
            total += loss * len(Xb)
            count += len(Xb)
            if self.diverged is not None:
                for (_, p), value in zip(self.named, before):
                    p.data = value  # the last finite parameters (a no-op if the step was refused)
                break
            if self.metric is not None:
                seen_preds.extend(preds)
                seen_targets.extend(yb)
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
        history.train_loss_epoch.append(total / count if count else math.nan)
        return seen_preds, seen_targets

    def _validate(self, val: Dataset, epoch: int, postfix: dict[str, str]) -> bool:
        """Validation loss (and metric) under no_grad, the best epoch; True: stop early."""
        history, patience = self.history, self.early_stopping_patience
        X_val, y_val = val
        val_loss, val_preds = _evaluate(self.model, self.loss_fn, X_val, y_val)
        history.val_loss_epoch.append(val_loss)
        postfix["val_loss"] = f"{val_loss:.4g}"
        if self.metric is not None:
            history.val_metric_epoch.append(float(self.metric(val_preds, y_val)))
            postfix["val_metric"] = f"{history.val_metric_epoch[-1]:.4g}"
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            history.best_epoch = epoch
            if patience is not None:
                # Finite: every step that left a parameter NaN or infinite was put back.
                self.best_state = self.model.state_dict()
            return False
        return (
            patience is not None
            and history.best_epoch is not None
            and epoch - history.best_epoch >= patience
        )


class _NonFinite(Exception):
    """Raised by fit's closure at a NaN or infinite loss or gradient, before the update.

    Every optimizer evaluates the closure before it changes a parameter or its own state, so
    raising there means that step is not taken.
    """

    def __init__(self, loss: float, what: str) -> None:
        super().__init__(what)
        self.loss, self.what = loss, what


def _non_finite_gradient(loss: Value, model: Module) -> str | None:
    """What is NaN or infinite among the loss and the parameters' gradients, or None."""
    if not math.isfinite(loss.data):
        return f"the training loss became {loss.data!r}"
    for name, p in model.named_parameters():
        if not math.isfinite(p.grad):
            return f"the gradient of {name!r} became {p.grad!r}"
    return None


def _non_finite_parameter(named: Sequence[tuple[str, Value]]) -> str | None:
    for name, p in named:
        if not math.isfinite(p.data):
            return f"the parameter {name!r} became {p.data!r}"
    return None


def _run_step(
    optimizer: Any, closure: Callable[[], Value], first: dict[str, Any]
) -> tuple[float, list[Any]]:
    """``optimizer.step(closure)``; the loss and predictions its first evaluation recorded."""
    optimizer.step(closure)
    if not first:
        raise RuntimeError(
            f"fit: {type(optimizer).__name__}.step(closure) did not call the closure; "
            "fit needs an optimizer that evaluates the loss through the closure (as torch.optim)"
        )
    return first["loss"], first["preds"]


def _step(
    model: Module,
    loss_fn: LossFn,
    optimizer: Any,
    Xb: list[Any],
    yb: list[Any],
    regularization: Callable[[Module], Value] | None,
) -> tuple[float, list[Any]]:
    """One optimizer step on a batch; returns the loss and predictions of the first evaluation.

    Raises _NonFinite from that first evaluation (before the optimizer updates anything) if the
    loss or a gradient is not finite.
    """
    first: dict[str, Any] = {}

    def closure() -> Value:
        optimizer.zero_grad()
        preds = model.forward_batch(Xb)
        loss = loss_fn(preds, yb)
        if not isinstance(loss, Value):
            raise TypeError(f"fit: loss_fn must return a Value, got {type(loss).__name__}")
        if regularization is not None:
            loss = loss + regularization(model)
        loss.backward()
        if not first:
            first["loss"] = loss.data
            first["preds"] = [_plain(p) for p in preds]
            problem = _non_finite_gradient(loss, model)
            if problem is not None:
                raise _NonFinite(loss.data, problem)
        return loss

    return _run_step(optimizer, closure, first)


def _compile_step(
    model: Module,
    loss_fn: LossFn,
    optimizer: Any,
    regularization: Callable[[Module], Value] | None,
    backend: str,
) -> Any:
    """fit's loss, ``loss_fn(model.forward_batch(Xb), yb) (+ regularization)``, compiled."""
    from tinygrad_edu import compiler
    from tinygrad_edu.optim import Newton

    if isinstance(optimizer, Newton):
        raise ValueError(
            "fit: compile=True hands the optimizer the loss as a number, and Newton needs its "
            "graph (for the Hessian); use compile=False with Newton"
        )

    def loss_of_batch(Xb: list[Any], yb: list[Any]) -> Value:
        loss = loss_fn(model.forward_batch(Xb), yb)
        if not isinstance(loss, Value):
            raise TypeError(f"fit: loss_fn must return a Value, got {type(loss).__name__}")
        return loss if regularization is None else loss + regularization(model)

    return compiler.compile(loss_of_batch, model.parameters(), backend=backend)


def _compiled_step(
    compiled: Any, model: Module, optimizer: Any, Xb: list[Any], yb: list[Any], want_preds: bool
) -> tuple[float, list[Any]]:
    """``_step`` with the compiled loss: the closure fills the gradients without a graph."""
    first: dict[str, Any] = {}

    def closure() -> Value:
        optimizer.zero_grad()
        loss = compiled(Xb, yb)
        if not first:
            first["loss"] = loss
            first["preds"] = predict(model, Xb) if want_preds else []  # the same parameters
            problem = _non_finite_gradient(Value(loss, requires_grad=False), model)
            if problem is not None:  # as _step: stop before the optimizer changes anything
                raise _NonFinite(loss, problem)
        return Value(loss, requires_grad=False)

    return _run_step(optimizer, closure, first)


def _evaluate(
    model: Module, loss_fn: LossFn, X: Sequence[Any], y: Sequence[Any]
) -> tuple[float, list[Any]]:
    with no_grad():
        preds = model.forward_batch(X)
        loss = loss_fn(preds, y)
    return float(loss), [_plain(p) for p in preds]


def evaluate(model: Module, loss_fn: LossFn, X: Sequence[Any], y: Sequence[Any]) -> float:
    """The loss of ``model`` on (X, y), computed under ``no_grad`` (no graph is kept)."""
    X, y = _check_dataset("evaluate", "data", (X, y))
    return _evaluate(model, loss_fn, X, y)[0]


def predict(model: Module, X: Sequence[Any]) -> list[Any]:
    """The model's outputs on every sample as plain floats (lists of floats for several outputs)."""
    with no_grad():
        return [_plain(p) for p in model.forward_batch(X)]


def _plain(pred: Any) -> Any:
    """A Value (or a list of them) as a float (or a list of floats): no reference to the graph."""
    if isinstance(pred, Value):
        return pred.data
    if isinstance(pred, (list, tuple)):
        return [_plain(p) for p in pred]
    return float(pred)


def _current_lr(optimizer: Any) -> float:
    groups = getattr(optimizer, "param_groups", None)
    if groups and "lr" in groups[0]:
        return float(groups[0]["lr"])
    return math.nan


def _check_dataset(op: str, name: str, data: object) -> tuple[Sequence[Any], Sequence[Any]]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{op}: {name} must be an (X, y) pair, got {type(data).__name__}")
    X, y = data
    if len(X) != len(y):
        raise ValueError(
            f"{op}: {name} X and y differ in length ({len(X)} samples, {len(y)} targets)"
        )
    if len(X) == 0:
        raise ValueError(f"{op}: {name} set is empty")
    return X, y


def _check_finite(op: str, name: str, data: tuple[Sequence[Any], Sequence[Any]]) -> None:
    """Refuse a NaN or infinite number in the samples or targets, naming the first one.

    One NaN input makes the weights it meets NaN after the first step, and the model then predicts
    NaN (or, past a relu, one constant) for every input: refuse it before training.
    """
    for part, samples in zip(("X", "y"), data):
        for i, sample in enumerate(samples):
            bad = _first_non_finite(sample)
            if bad is None:
                continue
            where = f"{op}: {name} {part}[{i}]"
            if isinstance(sample, (list, tuple)):
                where += f" = {reprlib.repr(sample)} holds"
            else:
                where += " is"
            raise ValueError(
                f"{where} {reprlib.repr(bad)}, not a finite number; drop or fix that sample"
            )


def _first_non_finite(sample: Any) -> Any:
    """The first number of a sample (a number, a Value, or a list of them) that is NaN, infinite
    or too large for a float; None if there is none."""
    if isinstance(sample, Value):
        sample = sample.data
    if isinstance(sample, numbers.Real):
        try:
            return None if math.isfinite(sample) else sample
        except OverflowError:  # an int too large for a float
            return sample
    if isinstance(sample, (list, tuple)):
        for item in sample:
            bad = _first_non_finite(item)
            if bad is not None:
                return bad
    return None  # other types are the model's and the loss's to check


def _describe(value: object) -> str:
    """None or a value's repr, for a message about an argument of the wrong kind."""
    return "None" if value is None else f"{value!r} ({type(value).__name__})"


# -- metrics -------------------------------------------------------------------------------------


def binary_accuracy(scores: Sequence[Any], labels: Sequence[Any], threshold: float = 0.0) -> float:
    """Fraction of samples with (score > threshold) == (label > 0).

    Works with labels -1/+1 (hinge loss) and 0/1 (cross-entropy on logits, threshold 0; use
    ``threshold=0.5`` for probabilities). Scores may be Values or floats.
    """
    s, y = _metric_pairs("binary_accuracy", scores, labels)
    return sum((float(a) > threshold) == (float(b) > 0) for a, b in zip(s, y)) / len(s)


def multiclass_accuracy(logits: Sequence[Sequence[Any]], targets: Sequence[int]) -> float:
    """Fraction of samples whose largest score is the target class (the first one on ties)."""
    rows, t = _metric_pairs("multiclass_accuracy", logits, targets)
    hits = 0
    for i, (row, target) in enumerate(zip(rows, t)):
        if isinstance(row, _NOT_NUMBERS):
            raise TypeError(
                f"multiclass_accuracy: sample {i} must be a list of scores, got {row!r}"
            )
        values = [float(v) for v in row]
        hits += max(range(len(values)), key=values.__getitem__) == target
    return hits / len(rows)


def accuracy(preds: Sequence[Any], targets: Sequence[Any]) -> float:
    """``multiclass_accuracy`` if each prediction is a list of class scores, else
    ``binary_accuracy`` with threshold 0 (scores/logits; labels -1/+1 or 0/1)."""
    _metric_pairs("accuracy", preds, targets)
    if isinstance(preds[0], (list, tuple)):
        return multiclass_accuracy(preds, targets)
    return binary_accuracy(preds, targets)


_NOT_NUMBERS = (str, bytes, bytearray, memoryview)  # sequences, but of characters or bytes


def _metric_pairs(
    op: str, preds: Sequence[Any], targets: Sequence[Any]
) -> tuple[Sequence[Any], Sequence[Any]]:
    for name, seq in (("predictions", preds), ("targets", targets)):
        if isinstance(seq, (*_NOT_NUMBERS, set, frozenset)):  # bytes as numbers, or no order
            raise TypeError(f"{op}: {name} must be a list, got {seq!r}")
    if len(preds) != len(targets):
        raise ValueError(
            f"{op}: length mismatch, {len(preds)} predictions and {len(targets)} targets"
        )
    if len(preds) == 0:
        raise ValueError(f"{op}: no predictions")
    return preds, targets
