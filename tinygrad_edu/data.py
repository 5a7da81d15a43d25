"""Seeded toy datasets generated in code, train/validation/test splits, and batching.

Nothing is downloaded: every dataset is a few lines of math plus a ``random.Random(seed)`` stream,
so the same seed gives the same numbers on every machine (no global random state is touched).

Samples are plain Python lists: ``X`` is a list of feature lists (``[[x1, x2], ...]``, or
``[[x], ...]`` for 1-D inputs) and ``y`` a list of targets (floats for regression, ints for
classes). A model applied to ``X`` with ``model.forward_batch(X)`` gives one prediction per sample.

The course's three ways of feeding the data to gradient descent are all ``batches``:

- batch gradient descent: ``batch_size=None``, one step per epoch on all the data (smooth path);
- mini-batch: ``batch_size=k``, ceil(n / k) steps per epoch on shuffled groups of k samples;
- stochastic: ``batch_size=1``, n steps per epoch, one sample each (noisy path).

An *epoch* is one pass over the whole training set; the order is reshuffled every epoch, from the
seed and the epoch number, so a run is reproducible and every epoch sees a different order.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = [
    "batches",
    "make_circles",
    "make_moons",
    "make_regression_1d",
    "make_spirals",
    "regression_curve",
    "train_val_test_split",
]

# The 1-D regression task of the course: x uniform on [-2, 2], y = sin(2x) + 0.3x + noise.
REGRESSION_X_RANGE = (-2.0, 2.0)


def regression_curve(x: float) -> float:
    """The true curve of ``make_regression_1d``: f(x) = sin(2x) + 0.3 x.

    On [-2, 2] it has two bumps and a slope (about 1.3 periods of the sine), so a straight line
    fits it badly (MSE about 0.4) while a 2-layer ReLU network with 16 hidden units, a piecewise
    linear function with up to 16 kinks, fits it to well below the noise.
    """
    return math.sin(2.0 * x) + 0.3 * x


def make_regression_1d(
    n: int = 200, noise: float = 0.1, seed: int = 0
) -> tuple[list[list[float]], list[float]]:
    """Noisy samples of ``regression_curve``: x ~ U(-2, 2), y = f(x) + N(0, noise^2).

    The noise variance ``noise**2`` (0.01 by default) is the best test MSE any model can reach
    (the Bayes error): a model that has learnt f exactly still misses each y by its noise.

    Returns:
        (X, y): X a list of n one-element lists ``[x]``, y a list of n floats.
    """
    _check_count("make_regression_1d", "n", n)
    _check_noise("make_regression_1d", noise)
    rng = _rng("make_regression_1d", seed)
    low, high = REGRESSION_X_RANGE
    xs = [rng.uniform(low, high) for _ in range(n)]
    X = [[x] for x in xs]
    y = [regression_curve(x) + rng.gauss(0.0, noise) for x in xs]
    return X, y


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int = 0
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``), labels 0 and 1.

    Class 0: (cos t, sin t) for t in [0, pi]; class 1: (1 - cos t, 1 - sin t - 0.5), each point
    plus N(0, noise^2) on both coordinates; n // 2 points in class 0, the rest in class 1; the
    samples are shuffled. For micrograd's hinge-loss demo use the labels as ``2 * y - 1`` (-1/+1).
    """
    _check_count("make_moons", "n", n)
    _check_noise("make_moons", noise)
    rng = _rng("make_moons", seed)
    n_outer = n // 2
    n_inner = n - n_outer
    points: list[tuple[list[float], int]] = []
    for i in range(n_outer):
        t = math.pi * i / (n_outer - 1) if n_outer > 1 else 0.0
        points.append(([math.cos(t), math.sin(t)], 0))
    for i in range(n_inner):
        t = math.pi * i / (n_inner - 1) if n_inner > 1 else 0.0
        points.append(([1.0 - math.cos(t), 1.0 - math.sin(t) - 0.5], 1))
    return _noisy_shuffled(points, noise, rng)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[list[list[float]], list[int]]:
    """A circle of radius ``factor`` (label 1) inside the unit circle (label 0), as sklearn's.

    Points are evenly spaced in angle on each circle, plus N(0, noise^2) on both coordinates, then
    shuffled. Not linearly separable: a linear model gets about 50%; one hidden layer solves it.
    """
    _check_count("make_circles", "n", n)
    _check_noise("make_circles", noise)
    if (
        isinstance(factor, bool)
        or not isinstance(factor, numbers.Real)
        or not 0.0 < factor < 1.0  # also False for NaN
    ):
        raise ValueError(f"make_circles: factor must be a number in (0, 1), got {factor!r}")
    rng = _rng("make_circles", seed)
    n_outer = n // 2
    n_inner = n - n_outer
    points: list[tuple[list[float], int]] = []
    for i in range(n_outer):
        t = 2.0 * math.pi * i / n_outer
        points.append(([math.cos(t), math.sin(t)], 0))
    for i in range(n_inner):
        t = 2.0 * math.pi * i / n_inner
        points.append(([factor * math.cos(t), factor * math.sin(t)], 1))
    return _noisy_shuffled(points, noise, rng)


def make_spirals(
    n_per_class: int = 50, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[list[list[float]], list[int]]:
    """k interleaved spiral arms (the CS231n toy set), labels 0..k-1: a multi-class task.

    Arm j: radius r = i / (n - 1) for i = 0..n-1, angle theta = 4 (j + r) + N(0, noise^2),
    point (r sin theta, r cos theta). Each arm turns through 4 radians; ``noise`` jitters the
    angle (as in CS231n), not the coordinates. Samples are shuffled.
    """
    _check_count("make_spirals", "n_per_class", n_per_class)
    _check_count("make_spirals", "n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be at least 2, got {n_classes!r}")
    _check_noise("make_spirals", noise)
    rng = _rng("make_spirals", seed)
    points: list[tuple[list[float], int]] = []
    for j in range(n_classes):
        for i in range(n_per_class):
            r = i / (n_per_class - 1) if n_per_class > 1 else 1.0
            theta = 4.0 * (j + r) + rng.gauss(0.0, noise)
            points.append(([r * math.sin(theta), r * math.cos(theta)], j))
    rng.shuffle(points)
    return [p for p, _ in points], [label for _, label in points]


def train_val_test_split(
    X: Sequence[Any], y: Sequence[Any], val: float = 0.2, test: float = 0.2, seed: int = 0
) -> tuple[tuple[list[Any], list[Any]], tuple[list[Any], list[Any]], tuple[list[Any], list[Any]]]:
    """Split (X, y) into disjoint training, validation and test sets that together cover it.

    The sample indices are shuffled with ``random.Random(seed)``; the first ``round(test * n)``
    go to the test set, the next ``round(val * n)`` to the validation set, the rest to training.
    Train on the first, choose hyperparameters / stop early on the second, and look at the third
    once, at the end: it is the honest estimate of the error on new data.

    Returns:
        ((X_train, y_train), (X_val, y_val), (X_test, y_test)), each a pair of lists.
    """
    _check_pair("train_val_test_split", X, y)
    for name, frac in (("val", val), ("test", test)):
        if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0.0 <= frac < 1.0:
            raise ValueError(
                f"train_val_test_split: {name} must be a fraction in [0, 1), got {frac!r}"
            )
    n = len(X)
    n_test = round(test * n)
    n_val = round(val * n)
    if n - n_test - n_val < 1:
        raise ValueError(
            f"train_val_test_split: val={val!r} and test={test!r} leave no training samples "
            f"out of {n}"
        )
    order = list(range(n))
    _rng("train_val_test_split", seed).shuffle(order)
    test_idx = order[:n_test]
    val_idx = order[n_test : n_test + n_val]
    train_idx = order[n_test + n_val :]

    def take(idx: list[int]) -> tuple[list[Any], list[Any]]:
        return [X[i] for i in idx], [y[i] for i in idx]

    return take(train_idx), take(val_idx), take(test_idx)


def batches(
    X: Sequence[Any],
    y: Sequence[Any],
    batch_size: int | None,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = False,
    epoch: int = 0,
) -> Iterator[tuple[list[Any], list[Any]]]:
    """Yield the (X_batch, y_batch) pairs of one epoch.

    Args:
        X, y: the samples and their targets (same length, not empty).
        batch_size: ``None`` for the full batch (batch gradient descent), ``1`` for stochastic
            gradient descent, ``k`` for mini-batches of k samples.
        shuffle: visit the samples in a random order (else in the given order).
        seed, epoch: the order of epoch e is a permutation drawn from
            ``random.Random(f"batches:{seed}:{epoch}")``: the same (seed, epoch) always gives the
            same order, and each epoch a new one. (A string seed is hashed with SHA-512 by
            ``random``, independently of PYTHONHASHSEED.)
        drop_last: drop a last batch smaller than ``batch_size`` (so every step averages over the
            same number of samples); by default it is kept, and every sample is seen each epoch.
    """
    _check_pair("batches", X, y)
    _check_seed("batches", seed)
    _check_seed("batches", epoch, "epoch")
    for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
        if not isinstance(flag, bool):  # "no" would count as True
            raise TypeError(f"batches: {name} must be True or False, got {flag!r}")
    n = len(X)
    if batch_size is None:
        size = n
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batches: batch_size must be an int or None, got {batch_size!r}")
    elif batch_size < 1:
        raise ValueError(
            f"batches: batch_size must be >= 1 (or None for the full batch), got {batch_size!r}"
        )
    else:
        size = int(batch_size)
    order = list(range(n))
    if shuffle:
        random.Random(f"batches:{seed}:{epoch}").shuffle(order)
    for start in range(0, n, size):
        idx = order[start : start + size]
        if drop_last and len(idx) < size:
            return
        yield [X[i] for i in idx], [y[i] for i in idx]


# -- helpers ---------------------------------------------------------------------------------------


def _noisy_shuffled(
    points: list[tuple[list[float], int]], noise: float, rng: random.Random
) -> tuple[list[list[float]], list[int]]:
    """Add N(0, noise^2) to every coordinate, then shuffle the samples (same rng: reproducible)."""
    noisy = [([c + rng.gauss(0.0, noise) for c in p], label) for p, label in points]
    rng.shuffle(noisy)
    return [p for p, _ in noisy], [label for _, label in noisy]


def _check_seed(op: str, seed: object, name: str = "seed") -> int:
    # An int, never None: random.Random(None) would seed from the OS and the run could not be
    # repeated (and a float or str seed is easy to pass by mistake, e.g. a fraction for a seed).
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {seed!r}")
    return int(seed)


def _rng(op: str, seed: object) -> random.Random:
    """A private ``random.Random`` stream for one call (the global random state is not used)."""
    return random.Random(_check_seed(op, seed))


def _check_count(op: str, name: str, n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {n!r}")


def _check_noise(op: str, noise: object) -> None:
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"{op}: noise must be a finite number >= 0, got {noise!r}")


def _check_pair(op: str, X: Sequence[Any], y: Sequence[Any]) -> None:
    if len(X) != len(y):
        raise ValueError(f"{op}: X and y differ in length ({len(X)} samples, {len(y)} targets)")
    if len(X) == 0:
        raise ValueError(f"{op}: empty dataset (no samples)")
