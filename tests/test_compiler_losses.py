"""Every loss of ``nn`` compiles: gradients equal to eager ones when the targets change between
calls, and the losses' values and gradients are the numbers they were before Huber became one op
and cross-entropy stopped choosing a parent by its label (issue 12, section 2).
"""

from __future__ import annotations

import math
import random

import pytest

import tinygrad_edu
from tinygrad_edu import Value, nn

BACKENDS = ("python", "numpy")

# Computed with the losses as they were (huber_loss branching on d.data, cross_entropy taking
# max(z.data) as m and zs[target]): the new ops must give these numbers bit for bit.
PREDS = (0.3, -2.5, 1.7, 0.999, -0.2, 4.0)
TARGETS = (0.1, 0.5, -1.0, 0.0, 0.8, 4.5)
HUBER = {
    (1.0, "mean"): (
        0.9740000833333333,
        [0.033333333333333326, -0.16666666666666666, 0.16666666666666666, 0.16649999999999998,
         -0.16666666666666666, -0.08333333333333333],
    ),
    (1.0, "sum"): (5.8440005, [0.19999999999999998, -1.0, 1.0, 0.999, -1.0, -0.5]),
    (0.7, "mean"): (
        0.7590499999999999,
        [0.033333333333333326, -0.11666666666666665, 0.11666666666666665, 0.11666666666666665,
         -0.11666666666666665, -0.08333333333333333],
    ),
    (0.7, "sum"): (4.5543, [0.19999999999999998, -0.7, 0.7, 0.7, -0.7, -0.5]),
}  # fmt: skip
LOGITS = ([0.2, -1.3, 2.2], [5.0, 4.9, -3.0], [0.0, 0.0, 0.0], [-7.1, 3.3, 0.4])
LABELS = (2, 0, 1, 1)
CROSS_ENTROPY = {
    "mean": (
        0.4874887180946555,
        [[0.029028633668535295, 0.0064771636793503826, -0.03550579734788567],
         [-0.11877831269942973, 0.1187342927273701, 4.4019972059650966e-05],
         [0.08333333333333333, -0.16666666666666669, 0.08333333333333333],
         [7.2111221394181076e-06, -0.013045225806030486, 0.01303801468389107]],
    ),
    "sum": (
        1.949954872378622,
        [[0.11611453467414118, 0.02590865471740153, -0.14202318939154268],
         [-0.47511325079771893, 0.4749371709094804, 0.00017607988823860386],
         [0.3333333333333333, -0.6666666666666667, 0.3333333333333333],
         [2.884448855767243e-05, -0.052180903224121944, 0.05215205873556428]],
    ),
}  # fmt: skip
ONE_SAMPLE = (3.6531782071222887, [0.11611453467414118, -0.9740913452825984, 0.8579768106084573])
SOFTMAX = (
    [0.11611453467414118, 0.02590865471740153, 0.8579768106084573],
    [0.10564032089809293, -0.028245767714680067, -0.07739455318341282],
)


@pytest.mark.parametrize(("delta", "reduction"), list(HUBER))
def test_huber_loss_gives_the_numbers_it_gave(delta, reduction):
    preds = [Value(v) for v in PREDS]
    loss = nn.huber_loss(preds, list(TARGETS), delta=delta, reduction=reduction)
    loss.backward()
    assert (loss.data, [p.grad for p in preds]) == HUBER[(delta, reduction)]
    assert {node.op for node in tinygrad_edu.topological_order(loss)} >= {"huber"}


@pytest.mark.parametrize("reduction", list(CROSS_ENTROPY))
def test_cross_entropy_gives_the_numbers_it_gave(reduction):
    logits = [[Value(v) for v in row] for row in LOGITS]
    loss = nn.cross_entropy(logits, list(LABELS), reduction=reduction)
    loss.backward()
    assert (loss.data, [[z.grad for z in row] for row in logits]) == CROSS_ENTROPY[reduction]


def test_cross_entropy_of_one_sample_and_softmax_give_the_numbers_they_gave():
    row = [Value(v) for v in LOGITS[0]]
    loss = nn.cross_entropy(row, 1)
    loss.backward()
    assert (loss.data, [z.grad for z in row]) == ONE_SAMPLE
    row = [Value(v) for v in LOGITS[0]]
    s = nn.softmax(row)
    (s[0] * 2.0 + s[2]).backward()
    assert ([v.data for v in s], [z.grad for z in row]) == SOFTMAX


def test_cross_entropy_takes_a_label_held_by_a_value():
    row = [Value(v) for v in LOGITS[0]]
    assert nn.cross_entropy(row, Value(1.0, requires_grad=False)).data == ONE_SAMPLE[0]
    with pytest.raises(TypeError, match="int class index"):
        nn.cross_entropy(row, Value(1.5))
    with pytest.raises(ValueError, match="out of range"):
        nn.cross_entropy(row, Value(3.0))


# -- every loss, compiled, with targets that change between calls -----------------------------


def _regression_batches(rng: random.Random, n: int = 8) -> list[tuple[list[list[float]], list]]:
    return [
        ([[rng.uniform(-2, 2)] for _ in range(n)], [rng.uniform(-3, 3) for _ in range(n)])
        for _ in range(4)
    ]


def _signs(rng: random.Random, n: int = 8) -> list[tuple[list[list[float]], list]]:
    return [
        ([[rng.uniform(-2, 2)] for _ in range(n)], [rng.choice((-1, 1)) for _ in range(n)])
        for _ in range(4)
    ]


def _probabilities(rng: random.Random, n: int = 8) -> list[tuple[list[list[float]], list]]:
    return [
        ([[rng.uniform(-2, 2)] for _ in range(n)], [rng.random() for _ in range(n)])
        for _ in range(4)
    ]


LOSSES = {
    "mse_loss": (nn.mse_loss, 1, _regression_batches),
    "mae_loss": (nn.mae_loss, 1, _regression_batches),
    "huber_loss": (lambda p, t: nn.huber_loss(p, t, delta=0.5), 1, _regression_batches),
    "hinge_loss": (nn.hinge_loss, 1, _signs),
    "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits, 1, _probabilities),
    "cross_entropy": (nn.cross_entropy, 3, None),
}


def _class_batches(rng: random.Random, n: int = 8) -> list[tuple[list[list[float]], list]]:
    return [
        ([[rng.uniform(-2, 2)] for _ in range(n)], [rng.randrange(3) for _ in range(n)])
        for _ in range(4)
    ]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_compiles_with_targets_that_change(name, backend):
    loss_fn, nout, make = LOSSES[name]
    rng = random.Random(name)
    batches = (make or _class_batches)(rng)
    model = nn.MLP(1, [6, nout], seed=1)
    eager_model = nn.MLP(1, [6, nout], seed=1)

    def fn(X, y):
        return loss_fn(model.forward_batch(X), y) + nn.l2_penalty(model.parameters(), 1e-3)

    step = tinygrad_edu.compile(fn, model.parameters(), backend=backend)
    for X, y in batches:
        eager_model.zero_grad()
        eager = loss_fn(eager_model.forward_batch(X), y)
        eager = eager + nn.l2_penalty(eager_model.parameters(), 1e-3)
        eager.backward()
        model.zero_grad()
        loss = step(X, y)
        expected = [eager.data, *(p.grad for p in eager_model.parameters())]
        got = [loss, *(p.grad for p in model.parameters())]
        if backend == "python":
            assert got == expected
        else:
            assert all(
                math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) for a, b in zip(got, expected)
            )
    assert step.traces == 1


# -- fit(compile=True) -------------------------------------------------------------------------


def _fit(backend: str | None, optimizer: str = "sgd") -> tuple[dict, list[float]]:
    from tinygrad_edu import data, optim, train

    X, y = data.make_moons(30, noise=0.1, seed=2)
    X = [list(map(float, x)) for x in X]
    labels = [2 * int(label) - 1 for label in y]
    model = nn.MLP(2, [8, 1], seed=4)
    if optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.5)
    else:
        opt = optim.LBFGS(model.parameters(), lr=0.5, max_iter=3)
    history = train.fit(
        model,
        nn.hinge_loss,
        opt,
        (X[:24], labels[:24]),
        val=(X[24:], labels[24:]),
        epochs=3,
        batch_size=10,  # batches of 10, 10 and 4: two shapes, two traces
        metric=train.accuracy,
        progress=False,
        regularization=lambda m: nn.l2_penalty(m.parameters(), 1e-3),
        compile=backend is not None,
        backend=backend or "python",
    )
    record = history.to_dict()
    del record["epoch_time"]
    return record, [p.data for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_fit_compiled_with_python_gives_eagers_history_bit_for_bit(optimizer):
    assert _fit("python", optimizer) == _fit(None, optimizer)


def test_fit_compiled_with_numpy_gives_eagers_history_to_rounding():
    (got, got_params), (expected, expected_params) = _fit("numpy"), _fit(None)
    for key, values in expected.items():
        if isinstance(values, list) and values and isinstance(values[0], float):
            assert got[key] == pytest.approx(values, rel=1e-12, abs=1e-12), key
        else:
            assert got[key] == values, key
    assert got_params == pytest.approx(expected_params, rel=1e-12, abs=1e-12)


def test_fit_compile_refuses_newton_and_unknown_backends():
    from tinygrad_edu import optim, train

    model = nn.MLP(1, [1], seed=0)
    data = ([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="Newton needs its graph"):
        train.fit(model, nn.mse_loss, optim.Newton(model.parameters()), data, compile=True)
    with pytest.raises(ValueError, match="backend must be one of"):
        train.fit(
            model,
            nn.mse_loss,
            optim.SGD(model.parameters(), lr=0.1),
            data,
            compile=True,
            backend="gpu",
        )
