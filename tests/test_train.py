"""Tests of tinygrad_edu.train: the fit() loop, History, metrics, and the two judged demos.

The judged demos (each checked below, numbers in the comments):

1. The course's 2-layer ReLU regressor ``MLP(1, [16, 1])`` with MSE on the noisy 1-D curve
   y = sin(2x) + 0.3x + N(0, 0.1^2) reaches a test MSE below K = 3 times the noise variance 0.01
   with each of SGD + momentum, RMSprop and Adam, in each of batch, mini-batch and stochastic mode.
2. micrograd's moons demo reaches 100% training accuracy in 100 full-batch SGD steps.
"""

import json
import re
import time

import pytest

from tinygrad_edu.data import (
    batches,
    make_moons,
    make_regression_1d,
    make_spirals,
    train_val_test_split,
)
from tinygrad_edu.engine import Parameter, Value
from tinygrad_edu.nn import MLP, Module, cross_entropy, hinge_loss, l2_penalty, mse_loss
from tinygrad_edu.optim import LBFGS, SGD, Adam, CosineAnnealingLR, RMSprop, StepLR
from tinygrad_edu.train import (
    History,
    accuracy,
    binary_accuracy,
    evaluate,
    fit,
    multiclass_accuracy,
    predict,
)


class Line(Module):
    """y = a x + b: small enough to work out updates by hand."""

    def __init__(self, a=0.0, b=0.0):
        self.a = Parameter(a, label="a")
        self.b = Parameter(b, label="b")

    def forward(self, x):
        return self.a * x[0] + self.b


X4 = [[0.0], [1.0], [2.0], [3.0]]
Y4 = [1.0, 3.0, 5.0, 7.0]  # y = 2x + 1


# -- the loop ------------------------------------------------------------------------------------


def test_one_full_batch_epoch_is_one_hand_worked_sgd_step():
    model = Line(0.0, 0.0)
    fit(model, mse_loss, SGD(model.parameters(), lr=0.1), (X4, Y4), epochs=1, progress=False)
    # J = (1/4) sum (a x + b - y)^2 at a = b = 0:
    # dJ/da = -(1/2) sum x y = -(1/2)(0 + 3 + 10 + 21) = -17,  dJ/db = -(1/2) sum y = -8
    assert model.a.data == pytest.approx(0.1 * 17.0)
    assert model.b.data == pytest.approx(0.1 * 8.0)


def test_stochastic_epoch_is_one_step_per_sample_in_the_batches_order():
    model = Line(0.0, 0.0)
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.05),
        (X4, Y4),
        epochs=1,
        batch_size=1,
        shuffle=False,
        progress=False,
    )
    a = b = 0.0
    losses = []
    for (x,), y in zip(X4, Y4):  # the same updates by hand, sample by sample
        err = a * x + b - y
        losses.append(err * err)
        a, b = a - 0.05 * 2 * err * x, b - 0.05 * 2 * err
    assert history.train_loss_step == pytest.approx(losses)
    assert model.a.data == pytest.approx(a) and model.b.data == pytest.approx(b)
    assert history.train_loss_epoch == pytest.approx([sum(losses) / 4])


def _fit_line_three_epochs(batch_size, **fit_kwargs):
    """fit() a Line to 10 points of y = 2x for 3 epochs with SGD."""
    X = [[i / 10] for i in range(10)]
    y = [2 * x[0] for x in X]
    model = Line()
    return fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.01),
        (X, y),
        epochs=3,
        batch_size=batch_size,
        progress=False,
        **fit_kwargs,
    )


@pytest.mark.parametrize("batch_size, steps", [(None, 1), (1, 10), (3, 4), (5, 2), (10, 1)])
def test_steps_per_epoch(batch_size, steps):
    history = _fit_line_three_epochs(batch_size)
    assert history.steps == len(history.lr_step) == 3 * steps
    assert history.epochs == len(history.train_loss_epoch) == len(history.epoch_time) == 3


@pytest.mark.parametrize(
    "batch_size, drop_last, sizes",
    [(None, False, [10]), (1, False, [1] * 10), (4, False, [4, 4, 2]), (4, True, [4, 4])],
)
def test_batch_size_of_every_step_and_samples_seen(batch_size, drop_last, sizes):
    history = _fit_line_three_epochs(batch_size, drop_last=drop_last)
    assert history.batch_size_step == sizes * 3
    # Every regime processes the whole training set once per epoch (unless drop_last drops some).
    assert history.samples_seen == 3 * sum(sizes)
    assert history.to_dict()["batch_size_step"] == sizes * 3


def test_epoch_loss_is_batch_size_weighted_mean_of_step_losses():
    X = [[i / 10] for i in range(10)]
    y = [2 * x[0] + 0.5 for x in X]
    model = Line()
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.0),
        (X, y),
        epochs=1,
        batch_size=4,
        progress=False,
    )  # lr 0: the parameters, and so the per-sample losses, never change
    sizes = [4, 4, 2]
    expected = sum(s * loss for s, loss in zip(sizes, history.train_loss_step)) / 10
    assert history.train_loss_epoch[0] == pytest.approx(expected)


def test_fit_is_reproducible_from_seed():
    def run(seed):
        model = MLP(1, [4, 1], seed=1)
        h = fit(
            model,
            mse_loss,
            SGD(model.parameters(), lr=0.05),
            (X4, Y4),
            epochs=3,
            batch_size=2,
            seed=seed,
            progress=False,
        )
        return h.train_loss_step, model.state_dict()

    assert run(0) == run(0)
    assert run(0) != run(1)  # another shuffle


def test_validation_loss_metric_and_best_epoch():
    model = Line()
    X_val, y_val = [[4.0], [5.0]], [9.0, 11.0]
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.02),
        (X4, Y4),
        val=(X_val, y_val),
        epochs=5,
        metric=lambda p, t: max(abs(a - b) for a, b in zip(p, t)),
        progress=False,
    )
    assert len(history.val_loss_epoch) == len(history.val_metric_epoch) == 5
    assert len(history.train_metric_epoch) == 5
    # after training, the last val loss is the model's loss on the val set
    assert history.val_loss_epoch[-1] == pytest.approx(evaluate(model, mse_loss, X_val, y_val))
    assert history.best_epoch == min(range(5), key=history.val_loss_epoch.__getitem__)
    assert history.stopped_epoch is None


def test_validation_does_not_touch_gradients():
    model = Line(0.5, 0.5)
    fit(model, mse_loss, SGD(model.parameters(), lr=0.01), (X4, Y4), epochs=1, progress=False)
    grads = [p.grad for p in model.parameters()]
    evaluate(model, mse_loss, [[10.0]], [100.0])
    predict(model, [[10.0]])
    assert [p.grad for p in model.parameters()] == grads


def test_early_stopping_restores_best_weights():
    # the validation targets are the opposite line: training makes validation worse after a while
    model = Line(0.0, 0.0)
    val = ([[1.0], [2.0]], [0.0, -0.5])
    states = []
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.05),
        (X4, Y4),
        val=val,
        epochs=50,
        early_stopping_patience=3,
        progress=False,
        callback=lambda epoch, h, m: states.append(m.state_dict()),
    )
    best = history.best_epoch
    assert history.stopped_epoch == best + 3 < 49
    assert history.epochs == best + 4
    assert all(v > history.val_loss_epoch[best] for v in history.val_loss_epoch[best + 1 :])
    assert model.state_dict() == states[best]  # restored
    assert evaluate(model, mse_loss, *val) == pytest.approx(history.val_loss_epoch[best])


def test_callback_stops_and_can_change_lr():
    model = Line()
    opt = SGD(model.parameters(), lr=0.1)
    seen = []

    def callback(epoch, history, m):
        seen.append(epoch)
        opt.param_groups[0]["lr"] = 0.1 / (epoch + 2)
        return epoch == 2

    history = fit(model, mse_loss, opt, (X4, Y4), epochs=10, callback=callback, progress=False)
    assert seen == [0, 1, 2]
    assert history.stopped_epoch == 2
    assert history.lr_step == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_scheduler_per_epoch_and_per_step():
    model = Line()
    opt = SGD(model.parameters(), lr=1.0)
    history = fit(
        model,
        mse_loss,
        opt,
        (X4, Y4),
        epochs=4,
        scheduler=StepLR(opt, 2, gamma=0.1),
        progress=False,
    )
    assert history.lr_step == pytest.approx([1.0, 1.0, 0.1, 0.1])
    model = Line()
    opt = SGD(model.parameters(), lr=1.0)
    history = fit(
        model,
        mse_loss,
        opt,
        (X4, Y4),
        epochs=2,
        batch_size=2,
        scheduler=StepLR(opt, 1, gamma=0.5),
        scheduler_interval="step",
        progress=False,
    )
    assert history.lr_step == pytest.approx([1.0, 0.5, 0.25, 0.125])


def test_regularization_is_added_to_the_training_loss():
    model = Line(1.0, 2.0)
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.0),
        (X4, Y4),
        epochs=1,
        regularization=lambda m: l2_penalty(m.parameters(), 0.5),
        progress=False,
    )
    data_loss = sum((x[0] + 2.0 - y) ** 2 for x, y in zip(X4, Y4)) / 4
    assert history.train_loss_step[0] == pytest.approx(data_loss + 0.5 * (1.0 + 4.0))


def test_lbfgs_through_the_closure():
    model = Line()
    history = fit(
        model,
        mse_loss,
        LBFGS(model.parameters(), lr=1.0, max_iter=20),
        (X4, Y4),
        epochs=2,
        progress=False,
    )
    assert model.a.data == pytest.approx(2.0, abs=1e-5)
    assert model.b.data == pytest.approx(1.0, abs=1e-5)
    assert history.train_loss_step[0] == pytest.approx(sum(y * y for y in Y4) / 4)  # first eval


def test_divergence_warns_and_stops():
    model = Line()
    with pytest.warns(RuntimeWarning, match="smaller learning rate"):
        history = fit(
            model, mse_loss, SGD(model.parameters(), lr=1e3), (X4, Y4), epochs=200, progress=False
        )
    assert history.stopped_epoch is not None and history.stopped_epoch < 199


def test_progress_bar_on_and_off(capsys):
    model = Line()
    fit(model, mse_loss, SGD(model.parameters(), lr=0.0), (X4, Y4), epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(model, mse_loss, SGD(model.parameters(), lr=0.0), (X4, Y4), epochs=2, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_history_to_dict_is_plain_json():
    model = Line()
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.01),
        (X4, Y4),
        val=(X4, Y4),
        epochs=2,
        metric=lambda p, t: 0.5,
        progress=False,
    )
    d = history.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["train_loss_epoch"] == history.train_loss_epoch
    assert d["train_loss_epoch"] is not history.train_loss_epoch  # a copy
    assert d["val_metric_epoch"] == [0.5, 0.5] and d["best_epoch"] in (0, 1)
    assert isinstance(History().to_dict()["lr_step"], list)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"early_stopping_patience": 2}, ValueError),
        ({"epochs": -1}, ValueError),
        ({"train": [[0.0]]}, TypeError),
        ({"train": ([[0.0], [1.0]], [1.0])}, ValueError),
        ({"val": ([], [])}, ValueError),
        ({"scheduler_interval": "batch"}, ValueError),
    ],
)
def test_fit_bad_arguments(kwargs, error):
    model = Line()
    args = {"train": (X4, Y4), "epochs": 1, "progress": False, **kwargs}
    with pytest.raises(error):
        fit(model, mse_loss, SGD(model.parameters(), lr=0.1), **args)


def test_drop_last_with_a_batch_larger_than_the_data_is_refused():
    # Without the check every epoch has no step, its mean loss is NaN, and fit reports a
    # "divergence" that never happened.
    model = Line()
    with pytest.raises(ValueError, match="drop_last=True leaves no batch of the 4"):
        fit(
            model,
            mse_loss,
            SGD(model.parameters(), lr=0.1),
            (X4, Y4),
            batch_size=5,
            drop_last=True,
            progress=False,
        )
    history = fit(
        model,
        mse_loss,
        SGD(model.parameters(), lr=0.1),
        (X4, Y4),
        batch_size=4,
        drop_last=True,
        epochs=1,
        progress=False,
    )
    assert history.steps == 1


def test_optimizer_over_another_models_parameters_is_refused():
    model, other = Line(), Line()
    before = model.state_dict()
    with pytest.raises(ValueError, match="holds none of the model's 2 parameters"):
        fit(model, mse_loss, SGD(other.parameters(), lr=0.1), (X4, Y4), progress=False)
    assert model.state_dict() == before


def test_loss_fn_must_return_a_value():
    model = Line()
    with pytest.raises(TypeError, match="loss_fn must return a Value"):
        fit(
            model,
            lambda p, t: 0.0,
            SGD(model.parameters(), lr=0.1),
            (X4, Y4),
            epochs=1,
            progress=False,
        )


# -- metrics -------------------------------------------------------------------------------------


def test_binary_accuracy_with_pm1_and_01_labels():
    scores = [Value(2.0), -0.5, 0.1, -3.0]
    assert binary_accuracy(scores, [1, -1, -1, -1]) == 0.75
    assert binary_accuracy(scores, [1, 0, 0, 0]) == 0.75
    assert binary_accuracy([0.7, 0.2], [1, 0], threshold=0.5) == 1.0


def test_multiclass_accuracy_and_dispatch():
    logits = [[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0]]
    assert multiclass_accuracy(logits, [1, 0, 0]) == pytest.approx(2 / 3)
    assert accuracy(logits, [1, 0, 2]) == 1.0
    assert accuracy([1.0, -1.0], [1, -1]) == 1.0
    with pytest.raises(ValueError, match="length mismatch"):
        accuracy([1.0], [1, 1])


# -- the judged demos ----------------------------------------------------------------------------

NOISE = 0.1
NOISE_VAR = NOISE**2  # the best test MSE any model can reach
K = 3.0  # judged: test MSE < K * noise variance

# Every (optimizer, mode) pair trains the same MLP(1, [16, 1]) (seed 0) on the same 60 points:
# make_regression_1d(n=200, noise=0.1, seed=0) split into 60 train / 20 val / 120 test (a large
# test set makes the test MSE a precise estimate: standard error ~ sqrt(2/120) = 13% of it).
# fit() keeps the weights of the best validation epoch (early stopping, patience = epochs).
# Batch: 1 step per epoch; mini-batch: 6 steps of 10 samples; stochastic: 60 steps of 1 sample.
# The settings were chosen on seeds 0..7 (same data/model seed) with an exact float64 replica;
# seed 0, used here, is the slowest of the 8 (its initial MSE is 7 vs 1-3 for the others).
# Measured test MSE / noise variance at seed 0 (max over seeds 0..7 in brackets):
#   batch:      SGD+momentum 1.99 (1.99)  RMSprop 2.21 (2.21)  Adam 1.75 (1.75)
#   mini-batch: SGD+momentum 1.69 (1.96)  RMSprop 1.82 (1.90)  Adam 1.59 (1.73)
#   stochastic: SGD+momentum 1.47 (1.87)  RMSprop 2.18 (2.18)  Adam 2.13 (2.13)
# (The ratio stays above 1: 49 parameters fitted to 60 noisy points also learn some noise.)
# RMSprop uses alpha = 0.9 (Hinton's and Keras' default) in batch mode, torch's 0.99 elsewhere.
REGRESSION_SETTINGS = {
    # (optimizer, mode): (optimizer from params, batch_size, epochs, cosine lr decay to 0)
    ("sgd_momentum", "batch"): (lambda ps: SGD(ps, lr=0.02, momentum=0.9), None, 200, False),
    ("rmsprop", "batch"): (lambda ps: RMSprop(ps, lr=0.02, alpha=0.9), None, 300, True),
    ("adam", "batch"): (lambda ps: Adam(ps, lr=0.05), None, 300, False),
    ("sgd_momentum", "mini-batch"): (lambda ps: SGD(ps, lr=0.01, momentum=0.9), 10, 150, False),
    ("rmsprop", "mini-batch"): (lambda ps: RMSprop(ps, lr=0.01), 10, 150, False),
    ("adam", "mini-batch"): (lambda ps: Adam(ps, lr=0.03), 10, 100, False),
    ("sgd_momentum", "stochastic"): (lambda ps: SGD(ps, lr=0.002, momentum=0.9), 1, 60, False),
    ("rmsprop", "stochastic"): (lambda ps: RMSprop(ps, lr=0.005), 1, 80, True),
    ("adam", "stochastic"): (lambda ps: Adam(ps, lr=0.01), 1, 80, True),
}


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_regression_1d(n=200, noise=NOISE, seed=0)
    return train_val_test_split(X, y, val=0.1, test=0.6, seed=0)


@pytest.mark.parametrize("optimizer, mode", sorted(REGRESSION_SETTINGS))
def test_course_regressor_fits_the_curve(regression_data, optimizer, mode):
    train, val, test = regression_data
    assert (len(train[0]), len(val[0]), len(test[0])) == (60, 20, 120)
    make_optimizer, batch_size, epochs, cosine = REGRESSION_SETTINGS[optimizer, mode]
    model = MLP(1, [16, 1], seed=0)
    opt = make_optimizer(model.parameters())
    start = time.perf_counter()
    history = fit(
        model,
        mse_loss,
        opt,
        train,
        val=val,
        epochs=epochs,
        batch_size=batch_size,
        scheduler=CosineAnnealingLR(opt, T_max=epochs) if cosine else None,
        early_stopping_patience=epochs,
        progress=False,
    )
    seconds = time.perf_counter() - start
    test_mse = evaluate(model, mse_loss, *test)
    print(
        f"\n{optimizer:12s} {mode:10s} test MSE {test_mse:.4f} = {test_mse / NOISE_VAR:.2f} x "
        f"noise variance ({history.steps} steps, best epoch {history.best_epoch}, {seconds:.1f} s)"
    )
    assert test_mse < K * NOISE_VAR
    assert history.train_loss_epoch[-1] < history.train_loss_epoch[0] / 10


def test_micrograd_moons_demo_reaches_full_training_accuracy():
    # micrograd's demo.ipynb: 100 moons (noise 0.1), MLP 2-16-16-1, labels -1/+1, hinge loss
    # + 1e-4 * sum p^2, full-batch SGD with lr = 1.0 - 0.9 k / 100 at step k, 100 steps.
    X, y = make_moons(n=100, noise=0.1, seed=0)
    labels = [2 * t - 1 for t in y]
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0)

    def schedule(epoch, history, m):  # one full-batch step per epoch: set the lr of step k + 1
        optimizer.param_groups[0]["lr"] = 1.0 - 0.9 * (epoch + 1) / 100

    start = time.perf_counter()
    history = fit(
        model,
        hinge_loss,
        optimizer,
        (X, labels),
        epochs=100,
        batch_size=None,
        metric=accuracy,
        regularization=lambda m: l2_penalty(m.parameters(), 1e-4),
        callback=schedule,
        progress=False,
    )
    seconds = time.perf_counter() - start
    final = accuracy(predict(model, X), labels)
    print(
        f"\nmoons: loss {history.train_loss_step[0]:.3f} -> {history.train_loss_step[-1]:.4f}, "
        f"accuracy {final:.0%}, {seconds:.1f} s for 100 steps"
    )
    assert history.lr_step[0] == 1.0 and history.lr_step[-1] == pytest.approx(1.0 - 0.9 * 99 / 100)
    assert final == 1.0


def test_spirals_multiclass_with_cross_entropy_learns():
    X, y = make_spirals(n_per_class=20, n_classes=3, noise=0.1, seed=0)
    model = MLP(2, [16, 3], seed=0)
    history = fit(
        model,
        cross_entropy,
        Adam(model.parameters(), lr=0.05),
        (X, y),
        epochs=30,
        metric=accuracy,
        progress=False,
    )
    assert history.train_loss_epoch[-1] < 0.7 * history.train_loss_epoch[0]
    assert multiclass_accuracy(predict(model, X), y) > 0.6  # chance: 1/3


# -- non-finite data and steps (issue 13, items 1 and 2) -----------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("where", ["X", "y", "val X"])
def test_a_non_finite_sample_is_refused_up_front_naming_it(bad, where):
    # Before: a NaN input made every first-layer weight NaN (and the early-stopping run then
    # crashed in load_state_dict: 'L0.N0.w0' must be finite, got nan); an [inf] sample crashed
    # inside dot. Now fit names the sample before any step, and changes no parameter.
    X, y = make_regression_1d(20)
    val = make_regression_1d(10, seed=1)
    if where == "X":
        X[3][0] = bad
    elif where == "y":
        y[3] = bad
    else:
        val[0][3][0] = bad
    model = MLP(1, [4, 1], seed=0)
    state = model.state_dict()
    name = re.escape({"X": "train X[3] = [", "y": "train y[3] is ", "val X": "val X[3] = ["}[where])
    with pytest.raises(ValueError, match=rf"fit: {name}.*{bad!r}, not a finite number"):
        fit(
            model,
            mse_loss,
            SGD(model.parameters(), lr=0.05),
            (X, y),
            val=val,
            epochs=5,
            early_stopping_patience=2,
            progress=False,
        )
    assert model.state_dict() == state


class SqrtLine(Module):
    """y = sqrt(w) x: at w = 0 the loss is finite and its gradient infinite."""

    def __init__(self, w=0.0):
        self.w = Parameter(w, label="w")

    def forward(self, x):
        return self.w.sqrt() * x[0]


X12 = ([[1.0], [2.0]], [1.0, 2.0])


def test_a_non_finite_gradient_stops_before_its_step_naming_it():
    # Before: the step with dJ/dw = -inf was taken (w became inf), no warning named it, and the
    # loss became nan one epoch later. Now the step is not taken and the warning names it.
    model = SqrtLine(0.0)
    with pytest.warns(RuntimeWarning, match=r"gradient of 'w' became -inf in epoch 0 \(step 0\)"):
        history = fit(
            model, mse_loss, SGD(model.parameters(), lr=0.1), X12, epochs=3, progress=False
        )
    assert model.w.data == 0.0
    assert history.stopped_epoch == 0 and history.train_loss_step == [2.5]  # (1 + 4) / 2


class ReluLine(Module):
    """y = relu(w x): with w = -inf every prediction is 0, a finite loss."""

    def __init__(self, w=1.0):
        self.w = Parameter(w, label="w")

    def forward(self, x):
        return (self.w * x[0]).relu()


def test_parameters_that_overflow_are_put_back_and_early_stopping_restores_a_finite_state():
    # lr=1e308 sends w to -inf in the first step while the loss stays finite (relu(-inf) = 0).
    # Before: early stopping kept that state as its best and crashed in load_state_dict
    # ('w' must be finite, got -inf). Now fit stops at that step with the parameters before it.
    model = ReluLine(2.0)
    with pytest.warns(RuntimeWarning, match=r"parameter 'w' became -inf in epoch 0 \(step 0\)"):
        history = fit(
            model,
            mse_loss,
            SGD(model.parameters(), lr=1e308),
            X12,
            val=X12,
            epochs=3,
            early_stopping_patience=1,
            progress=False,
        )
    assert model.w.data == 2.0 and history.stopped_epoch == 0


def test_a_non_finite_loss_stops_before_its_step():
    def bad_loss(preds, targets):
        return mse_loss(preds, targets) * float("nan")

    model = Line(0.0, 0.0)
    with pytest.warns(RuntimeWarning, match=r"training loss became nan in epoch 0 \(step 0\)"):
        history = fit(model, bad_loss, SGD(model.parameters(), lr=0.1), (X4, Y4), progress=False)
    assert (model.a.data, model.b.data) == (0.0, 0.0)
    assert history.stopped_epoch == 0


# -- fit's arguments (issue 13, item 13) ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"optimizer": None}, TypeError, "fit: optimizer must have step.*got None"),
        ({"optimizer": object()}, TypeError, "fit: optimizer must have step"),
        ({"loss_fn": None}, TypeError, "fit: loss_fn must be callable, got None"),
        ({"model": None}, TypeError, "fit: model must be a tinygrad_edu.nn.Module, got None"),
        ({"batch_size": 0}, ValueError, "fit: batch_size must be None or >= 1, got 0"),
        ({"batch_size": 1.5}, TypeError, "fit: batch_size must be None or an int, got 1.5"),
        ({"batch_size": True}, TypeError, "fit: batch_size .* got True"),
        ({"epochs": 1.0}, ValueError, "fit: epochs must be an int >= 0, got 1.0"),
        ({"seed": "x"}, TypeError, "fit: seed must be an int, got 'x'"),
        ({"scheduler": 3}, TypeError, "fit: scheduler must have a step.*got 3"),
        ({"metric": 3}, TypeError, "fit: metric must be callable or None, got 3"),
        ({"callback": 3}, TypeError, "fit: callback must be callable or None, got 3"),
        ({"regularization": 3}, TypeError, "fit: regularization must be callable or None, got 3"),
        ({"min_delta": "x"}, TypeError, "fit: min_delta must be a real number, got 'x'"),
        (
            {"min_delta": float("nan")},
            ValueError,
            "fit: min_delta must be finite and >= 0, got nan",
        ),
        ({"min_delta": -1.0}, ValueError, "fit: min_delta must be finite and >= 0, got -1.0"),
    ],
)
def test_fit_names_a_bad_argument_before_any_step(kwargs, error, message):
    model = Line()
    args = {
        "model": model,
        "loss_fn": mse_loss,
        "optimizer": SGD(model.parameters(), lr=0.1),
        "train": (X4, Y4),
        "epochs": 1,
        "progress": False,
        **kwargs,
    }
    with pytest.raises(error, match=message):
        fit(**args)
    assert (model.a.data, model.b.data) == (0.0, 0.0)


def test_metrics_refuse_bytes_and_sets():
    # Before: binary_accuracy(b"ab", [1, 0]) read the bytes as the scores 97, 98 (0.5), a set
    # of scores paired in an arbitrary order, multiclass_accuracy([b"ab"], [0]) took b"ab" as
    # two class scores.
    with pytest.raises(TypeError, match="binary_accuracy: predictions must be a list"):
        binary_accuracy(b"ab", [1, 0])
    with pytest.raises(TypeError, match="accuracy: predictions must be a list"):
        accuracy(bytearray(b"ab"), [1, 0])
    with pytest.raises(TypeError, match="binary_accuracy: predictions must be a list"):
        binary_accuracy({1.0, -1.0}, [1, 0])
    with pytest.raises(TypeError, match="multiclass_accuracy: sample 0 must be a list of scores"):
        multiclass_accuracy([b"ab"], [0])


@pytest.mark.parametrize("name", ["shuffle", "drop_last"])
def test_fit_and_batches_take_shuffle_and_drop_last_as_bools(name):
    # Before: shuffle="no" shuffled (a non-empty string is true).
    model = Line()
    with pytest.raises(TypeError, match=f"fit: {name} must be True or False, got 'no'"):
        fit(model, mse_loss, SGD(model.parameters()), (X4, Y4), progress=False, **{name: "no"})
    with pytest.raises(TypeError, match=f"batches: {name} must be True or False, got 'no'"):
        list(batches(X4, Y4, None, **{name: "no"}))


def test_a_sample_too_large_for_a_float_is_named():
    model = Line()
    with pytest.raises(ValueError, match=r"fit: train X\[1\] = \[1000.*\] holds 1000.*, not a fin"):
        fit(model, mse_loss, SGD(model.parameters()), ([[0.0], [10**400]], [0.0, 1.0]))
