"""Tests of tinygrad_edu.data: seeded datasets, splits and batching."""

import math
import statistics

import pytest

from tinygrad_edu.data import (
    batches,
    make_circles,
    make_moons,
    make_regression_1d,
    make_spirals,
    regression_curve,
    train_val_test_split,
)

# -- datasets ------------------------------------------------------------------------------------


def test_regression_curve_closed_form():
    assert regression_curve(0.0) == 0.0
    assert regression_curve(1.0) == pytest.approx(math.sin(2.0) + 0.3)
    assert regression_curve(-2.0) == pytest.approx(math.sin(-4.0) - 0.6)


def test_regression_1d_shape_range_and_noise():
    X, y = make_regression_1d(n=2000, noise=0.1, seed=3)
    assert len(X) == len(y) == 2000
    assert all(isinstance(x, list) and len(x) == 1 for x in X)
    assert all(-2.0 <= x[0] <= 2.0 for x in X)
    residuals = [t - regression_curve(x[0]) for x, t in zip(X, y)]
    # the residuals are the noise: mean 0, standard deviation 0.1 (2000 samples: +-~5%)
    assert abs(statistics.fmean(residuals)) < 0.01
    assert statistics.stdev(residuals) == pytest.approx(0.1, rel=0.08)


def test_regression_1d_noise_zero_is_the_curve():
    X, y = make_regression_1d(n=50, noise=0.0, seed=1)
    assert all(t == regression_curve(x[0]) for x, t in zip(X, y))


def test_datasets_are_deterministic_and_seed_dependent():
    for make in (make_regression_1d, make_moons, make_circles, make_spirals):
        assert make(seed=5) == make(seed=5)
        assert make(seed=5) != make(seed=6)


def test_moons_noise_free_points_lie_on_the_two_half_circles():
    X, y = make_moons(n=101, noise=0.0, seed=0)
    assert sorted(y) == [0] * 50 + [1] * 51
    for (a, b), label in zip(X, y):
        if label == 0:  # (cos t, sin t), t in [0, pi]
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # (1 - cos t, 1 - sin t - 0.5): unit circle around (1, 0.5), lower half
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_moons_are_shuffled():
    _, y = make_moons(n=100, seed=0)
    assert y != sorted(y)


def test_circles_radii_and_labels():
    X, y = make_circles(n=80, noise=0.0, factor=0.3, seed=0)
    assert y.count(0) == 40 and y.count(1) == 40
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)


def test_spirals_classes_and_radius():
    X, y = make_spirals(n_per_class=30, n_classes=4, noise=0.0, seed=0)
    assert len(X) == 120
    assert sorted(set(y)) == [0, 1, 2, 3]
    assert all(y.count(c) == 30 for c in range(4))
    assert max(math.hypot(a, b) for a, b in X) == pytest.approx(1.0)
    # noise-free arm j: angle 4 (j + r) with r the radius, point (r sin, r cos)
    for (a, b), label in zip(X, y):
        r = math.hypot(a, b)
        theta = 4.0 * (label + r)
        assert a == pytest.approx(r * math.sin(theta), abs=1e-12)
        assert b == pytest.approx(r * math.cos(theta), abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_regression_1d(n=0),
        lambda: make_regression_1d(noise=-0.1),
        lambda: make_moons(n=-3),
        lambda: make_circles(factor=1.5),
        lambda: make_spirals(n_classes=1),
        lambda: make_moons(noise=float("nan")),
        lambda: make_circles(factor="0.5"),
        lambda: make_circles(factor=float("nan")),
    ],
)
def test_dataset_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_regression_1d(seed=None),  # None would seed from the OS: not repeatable
        lambda: make_moons(seed=1.5),
        lambda: make_circles(seed="0"),
        lambda: make_spirals(seed=True),
        lambda: train_val_test_split(X10, Y10, seed=None),
        lambda: list(batches(X10, Y10, 2, seed=None)),
        lambda: list(batches(X10, Y10, 2, epoch=1.0)),
    ],
)
def test_seeds_must_be_ints(call):
    with pytest.raises(TypeError, match="must be an int"):
        call()


# -- train / validation / test split ------------------------------------------------------------


def test_split_is_disjoint_covering_and_sized():
    X = [[float(i)] for i in range(100)]
    y = list(range(100))
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, val=0.2, test=0.1, seed=0)
    assert (len(ytr), len(yva), len(yte)) == (70, 20, 10)
    assert sorted(ytr + yva + yte) == y  # covering, and disjoint (no index twice)
    for Xs, ys in ((Xtr, ytr), (Xva, yva), (Xte, yte)):
        assert all(x[0] == t for x, t in zip(Xs, ys))  # pairs stay together


def test_split_is_deterministic_and_shuffled():
    X = [[i] for i in range(50)]
    y = list(range(50))
    assert train_val_test_split(X, y, seed=1) == train_val_test_split(X, y, seed=1)
    assert train_val_test_split(X, y, seed=1) != train_val_test_split(X, y, seed=2)
    (_, ytr), _, _ = train_val_test_split(X, y, seed=1)
    assert ytr != sorted(ytr)


def test_split_zero_fractions():
    X, y = [[1], [2], [3]], [1, 2, 3]
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, val=0.0, test=0.0)
    assert sorted(ytr) == [1, 2, 3] and yva == [] and yte == []


@pytest.mark.parametrize(
    "kwargs", [{"val": 0.5, "test": 0.5}, {"val": 1.0}, {"test": -0.1}, {"val": "0.2"}]
)
def test_split_bad_fractions_raise(kwargs):
    with pytest.raises(ValueError):
        train_val_test_split([[0]] * 10, [0] * 10, **kwargs)


def test_split_length_mismatch_raises():
    with pytest.raises(ValueError, match="differ in length"):
        train_val_test_split([[0], [1]], [0])


# -- batches -------------------------------------------------------------------------------------

X10 = [[i] for i in range(10)]
Y10 = list(range(10))


def test_full_batch_is_one_batch_of_everything():
    out = list(batches(X10, Y10, None, shuffle=False))
    assert out == [(X10, Y10)]


def test_stochastic_is_one_sample_per_step():
    out = list(batches(X10, Y10, 1, seed=0))
    assert len(out) == 10
    assert all(len(xb) == len(yb) == 1 for xb, yb in out)
    assert sorted(yb[0] for _, yb in out) == Y10


def test_mini_batches_cover_each_sample_once_and_keep_pairs():
    out = list(batches(X10, Y10, 4, seed=3))
    assert [len(yb) for _, yb in out] == [4, 4, 2]
    seen = [t for _, yb in out for t in yb]
    assert sorted(seen) == Y10
    for xb, yb in out:
        assert [x[0] for x in xb] == yb


def test_drop_last():
    out = list(batches(X10, Y10, 4, seed=3, drop_last=True))
    assert [len(yb) for _, yb in out] == [4, 4]


def test_no_shuffle_keeps_order():
    out = list(batches(X10, Y10, 3, shuffle=False))
    assert [yb for _, yb in out] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_reshuffled_each_epoch_reproducibly():
    def order(seed, epoch):
        return [t for _, yb in batches(X10, Y10, 3, seed=seed, epoch=epoch) for t in yb]

    assert order(0, 0) == order(0, 0)
    assert order(0, 0) != order(0, 1)  # a new order every epoch
    assert order(0, 0) != order(1, 0)  # and per seed
    assert sorted(order(0, 7)) == Y10


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size_raises(bad):
    with pytest.raises((ValueError, TypeError), match="batch_size"):
        list(batches(X10, Y10, bad))


def test_batches_bad_data_raises():
    with pytest.raises(ValueError, match="differ in length"):
        list(batches(X10, Y10[:3], 2))
    with pytest.raises(ValueError, match="empty"):
        list(batches([], [], 2))
