"""Losses on scalar Values: regression (``mse_loss``, ``mae_loss``, ``huber_loss``), classification
(``hinge_loss``, ``binary_cross_entropy_with_logits``, ``cross_entropy`` with ``softmax``) and the
``l2_penalty`` regulariser. ``tinygrad_edu.nn`` re-exports them all (``nn.mse_loss``), as
``torch.nn.functional`` holds PyTorch's.

Each loss takes predictions (a Value, a number, or one per sample in a list) and targets, and
returns one Value: the per-sample terms summed as ONE n-ary node (labelled ``Σ``), divided
by n for ``reduction="mean"`` (the default) or not for ``"sum"``. mse_loss and hinge_loss label
their interior nodes (``e``, ``e²``; ``ts``, ``1-ts``, ``hinge``; numbered in a batch) so
that drawings and the backprop step text call them by name.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from tinygrad_edu import collector
from tinygrad_edu.engine import Value, dot, eq, huber, max_shift

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "huber_loss",
    "l2_penalty",
    "mae_loss",
    "mse_loss",
    "softmax",
]

Number = float | int


_REDUCTIONS = ("mean", "sum")
# Sequences, but of characters or bytes (a memoryview even has a shape): never numbers to a loss.
_NOT_NUMBERS = (str, bytes, bytearray, memoryview)


def _as_list(op: str, what: str, v: object) -> list[Any]:
    if isinstance(v, (Value, numbers.Real)):
        return [v]
    if isinstance(v, _NOT_NUMBERS):
        raise TypeError(
            f"{op}: {what} must be a Value, a number or a list of them, got "
            f"{type(v).__name__} {v!r} (bytes are not numbers)"
        )
    if isinstance(v, (set, frozenset)):
        raise TypeError(
            f"{op}: {what} must be a Value, a number or a list of them, got the set {v!r} "
            f"(a set has no order, so predictions and targets would not pair up)"
        )
    shape = getattr(v, "shape", None)
    if shape is not None:  # a NumPy array (or alike): one number per sample
        if len(shape) != 1:
            raise ValueError(f"{op}: {what} must be 1-D (one number per sample), got shape {shape}")
        return list(v)  # type: ignore[call-overload]
    if not isinstance(v, Sequence):
        raise TypeError(f"{op}: {what} must be a Value, a number or a list of them, got {v!r}")
    return list(v)


def _pairs(op: str, pred: object, target: object) -> tuple[list[Any], list[Any]]:
    """Validate (pred, target): same length, not empty, numbers or Values."""
    p = _as_list(op, "pred", pred)
    t = _as_list(op, "target", target)
    if len(p) != len(t):
        raise ValueError(f"{op}: length mismatch, {len(p)} predictions and {len(t)} targets")
    if not p:
        raise ValueError(f"{op}: empty batch (no predictions)")
    for what, seq in (("prediction", p), ("target", t)):
        for i, v in enumerate(seq):
            if isinstance(v, bool) or not isinstance(v, (Value, numbers.Real)):
                raise TypeError(f"{op}: {what} {i} must be a Value or a number, got {v!r}")
    return p, t


def _reduce(op: str, terms: list[Value], reduction: str) -> Value:
    """sum_i terms_i as one n-ary node, divided by n for "mean"."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    total = Value.sum(terms)
    total.label = "\u03a3"  # drawings and the step text call the sum by name
    return total / len(terms) if reduction == "mean" else total


def _named(value: Value, name: str) -> Value:
    """Label an interior node of a loss (``e``, or ``e3`` for sample 3 of a batch) for drawings."""
    value.label = name
    return value


def _tags(n: int) -> list[str]:
    """Suffixes for the per-sample nodes of a loss: none for one sample, 0 .. n-1 for a batch."""
    return [""] if n == 1 else [str(i) for i in range(n)]


def _value(v: Value | Number) -> Value:
    return v if isinstance(v, Value) else Value(v, requires_grad=False)


@collector.building_graph
def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean squared error, the course's regression loss: (1/n) sum_i (pred_i - target_i)^2.

    d/dpred_i = (2/n) (pred_i - target_i): the error itself, pushed back into the network.
    """
    p, t = _pairs("mse_loss", pred, target)
    _check_reduction("mse_loss", reduction)
    tags = _tags(len(p))
    errors = [_named(_value(a) - b, f"e{k}") for k, a, b in zip(tags, p, t)]
    squares = [_named(e**2, f"e{k}\u00b2") for k, e in zip(tags, errors)]
    return _reduce("mse_loss", squares, reduction)


@collector.building_graph
def mae_loss(pred: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean absolute error: (1/n) sum_i |pred_i - target_i| (derivative sign(error)/n, 0 at 0).

    Less sensitive to outliers than MSE: every error pulls with the same force.
    """
    p, t = _pairs("mae_loss", pred, target)
    _check_reduction("mae_loss", reduction)
    return _reduce("mae_loss", [abs(_value(a) - b) for a, b in zip(p, t)], reduction)


@collector.building_graph
def huber_loss(pred: Any, target: Any, delta: float = 1.0, reduction: str = "mean") -> Value:
    """Huber loss (torch.nn.HuberLoss): quadratic near 0, linear in the tails.

        l(d) = d^2 / 2                  if |d| <= delta
             = delta (|d| - delta / 2)   otherwise,        d = pred - target

    Value and slope (d, then +-delta) are continuous at |d| = delta: MSE's smooth minimum with
    MAE's robustness to outliers.
    """
    p, t = _pairs("huber_loss", pred, target)
    _check_reduction("huber_loss", reduction)
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
        raise ValueError(f"huber_loss: delta must be a number > 0, got {delta!r}")
    # one piecewise op per sample (engine.huber), so the branch is taken from the data whenever
    # the graph runs, a compiled replay included
    terms = [huber(_value(a) - b, float(delta)) for a, b in zip(p, t)]
    return _reduce("huber_loss", terms, reduction)


@collector.building_graph
def hinge_loss(scores: Any, labels: Any, reduction: str = "mean") -> Value:
    """The SVM "max-margin" loss of micrograd's demo: (1/n) sum_i relu(1 - y_i s_i), y_i = +-1.

    A sample costs nothing once it is on the right side with margin y s >= 1; otherwise its
    gradient is -y_i / n on its score, pushing the score towards its label.
    """
    s, y = _pairs("hinge_loss", scores, labels)
    _check_reduction("hinge_loss", reduction)
    for i, label in enumerate(y):
        if float(label) not in (-1.0, 1.0):
            raise ValueError(
                f"hinge_loss: labels must be -1 or +1, label {i} is {float(label)!r} "
                f"(convert 0/1 labels with 2 * y - 1)"
            )
    tags = _tags(len(s))
    scaled = [_named(label * _value(a), f"ts{k}") for k, a, label in zip(tags, s, y)]  # t s
    margins = [_named(1 - ts, f"1-ts{k}") for k, ts in zip(tags, scaled)]
    hinges = [_named(m.relu(), f"hinge{k}") for k, m in zip(tags, margins)]
    return _reduce("hinge_loss", hinges, reduction)


@collector.building_graph
def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Value:
    """Binary cross-entropy on raw scores z (logits), targets y in [0, 1]:

        l(z, y) = -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = softplus(z) - y z

    using log sigmoid(z) = -softplus(-z) and log(1 - sigmoid(z)) = -softplus(z). The engine's
    ``softplus`` is computed as max(z, 0) + log1p(exp(-|z|)), which never overflows, so the loss is
    exact for |z| in the hundreds (where sigmoid(z) rounds to 0 or 1 and log(0) would be -inf).
    d l/dz = sigmoid(z) - y: one node's local derivative, with no kink at z = 0.
    """
    z, y = _pairs("binary_cross_entropy_with_logits", logits, targets)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    for i, target in enumerate(y):
        if not 0.0 <= float(target) <= 1.0:
            raise ValueError(
                f"binary_cross_entropy_with_logits: targets must be in [0, 1], "
                f"target {i} is {float(target)!r}"
            )
    terms = [_value(a).softplus() - b * _value(a) for a, b in zip(z, y)]
    return _reduce("binary_cross_entropy_with_logits", terms, reduction)


@collector.building_graph
def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Value:
    """Softmax cross-entropy for k classes: l = -log softmax(z)_t = logsumexp(z) - z_t.

    Args:
        logits: a list of samples, each a list of k class scores (or one sample: a list of k
            scores, with ``target`` a single int).
        target: the class index of each sample (ints in 0..k-1).

    The log-sum-exp trick: with m = max_k z_k,  logsumexp(z) = m + log sum_k exp(z_k - m). Every
    exponent is <= 0, so nothing overflows, and the largest term is exp(0) = 1, so the log never
    sees 0. m is taken as a constant: the result is the same for every m, so d/dm = 0 and the
    gradient d l/dz_k = softmax(z)_k - [k == t] is unaffected.
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    if isinstance(target, bool):
        raise TypeError(
            f"{op}: target must be an int class index (or a list of them), got {target!r}"
        )
    if isinstance(target, (numbers.Integral, Value)):  # one sample: k scores and its class
        logits, target = [logits], [target]
    rows = _as_list(op, "logits", logits)
    targets = _as_list(op, "target", target)
    if len(rows) != len(targets):
        raise ValueError(
            f"{op}: length mismatch, {len(rows)} samples of logits and {len(targets)} targets"
        )
    if not rows:
        raise ValueError(f"{op}: empty batch (no samples)")
    k = None
    terms = []
    for i, (row, t) in enumerate(zip(rows, targets)):
        if isinstance(row, (Value, numbers.Real, *_NOT_NUMBERS)) or not isinstance(row, Sequence):
            raise TypeError(f"{op}: sample {i} must be a list of class scores, got {row!r}")
        if k is None:
            k = len(row)
            if k < 1:
                raise ValueError(f"{op}: sample 0 has no class scores")
        elif len(row) != k:
            raise ValueError(f"{op}: sample {i} has {len(row)} class scores, sample 0 has {k}")
        label = _class_index(op, i, t, k)
        zs = [_value(z) for z in row]
        m = max_shift(zs)  # the max, as a node whose derivative is 0: the gradient ignores it
        lse = m + Value.sum([(z - m).exp() for z in zs]).log()
        # z_t as one_hot(t) . z rather than zs[t], so no parent is chosen by the label: the graph
        # is the same for every label, and a compiled step reads the labels as data
        terms.append(lse - dot(_one_hot(t, label, k), zs))
    return _reduce(op, terms, reduction)


def _class_index(op: str, i: int, t: object, k: int) -> int:
    """Target i as a class index in 0..k-1: an int, or a Value holding one (a traced label)."""
    number: object = t
    if isinstance(t, Value) and t.data.is_integer():
        number = int(t.data)
    if isinstance(number, bool) or not isinstance(number, numbers.Integral):
        raise TypeError(f"{op}: target {i} must be an int class index, got {t!r}")
    label = int(number)  # type: ignore[call-overload]
    if not 0 <= label < k:
        raise ValueError(
            f"{op}: target {i} is class {label}, out of range for {k} classes (0..{k - 1})"
        )
    return label


def _one_hot(t: object, label: int, k: int) -> list[Any]:
    """[t == j for j < k]: numbers for an int label, ``eq`` nodes (derivative 0) for a Value."""
    if isinstance(t, Value):
        return [eq(t, float(j)) for j in range(k)]
    return [1.0 if j == label else 0.0 for j in range(k)]


@collector.building_graph
def softmax(logits: Sequence[Value | Number]) -> list[Value]:
    """softmax(z)_k = exp(z_k - m) / sum_j exp(z_j - m) with m = max z (no overflow)."""
    if isinstance(logits, (*_NOT_NUMBERS, set, frozenset, dict)):  # no numbers, or no order
        raise TypeError(f"softmax: logits must be a list of scores, got {logits!r}")
    zs = [_value(z) for z in logits]
    if not zs:
        raise ValueError("softmax: no scores")
    m = max_shift(zs)
    exps = [(z - m).exp() for z in zs]
    total = Value.sum(exps)
    return [e / total for e in exps]


@collector.building_graph
def l2_penalty(params: Sequence[Value], weight: float) -> Value:
    """weight * sum_p p^2 (L2 regularisation, "weight decay"), as one ``dot(params, params)`` node.

    Its gradient 2 weight p pulls every parameter towards 0. micrograd's demo adds
    ``1e-4 * sum(p*p)`` to the hinge loss.
    """
    params = list(params)
    if not params:
        raise ValueError("l2_penalty: no parameters")
    return weight * dot(params, params)


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
