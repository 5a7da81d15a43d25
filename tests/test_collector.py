"""The cyclic collector while nn builds a graph (tinygrad_edu.collector)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from tinygrad_edu import collector, nn
from tinygrad_edu.engine import Value


@pytest.fixture(autouse=True)
def _gc_as_it_was() -> Iterator[None]:
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.collect()  # start each test with the user's threshold and an empty young generation
    yield
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Count the collections that start while the generator is open."""
    starts: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            starts.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield starts
    finally:
        gc.callbacks.remove(count)


def _moons_like() -> tuple[nn.MLP, list[list[float]], list[int]]:
    model = nn.MLP(2, [16, 16, 1], seed=0)
    X = [[0.01 * i, -0.02 * i] for i in range(100)]
    return model, X, [1 if i % 2 else -1 for i in range(100)]


def test_building_a_graph_sets_off_no_collection_and_it_is_still_freed_by_refcount(
    collections: list[int],
) -> None:
    model, X, y = _moons_like()
    loss = nn.hinge_loss(model.forward_batch(X), y)
    assert gc.get_count()[0] > 10_000  # tracked objects made: 14 young collections' worth
    assert collections == []  # without the pause: about 25 young collections and older ones
    loss.backward()
    alive = weakref.ref(loss.parents[0])
    del loss
    assert alive() is None  # freed at once, with no collection
    assert collections == []


def test_the_threshold_does_not_count_the_graph_and_is_put_back_by_the_next_collection() -> None:
    user = gc.get_threshold()
    model, X, _ = _moons_like()
    before = gc.get_count()[0]
    scores = model.forward_batch(X)
    made = gc.get_count()[0] - before
    assert made > 10_000 and gc.isenabled()
    raised = gc.get_threshold()
    assert raised[1:] == user[1:]
    assert abs(raised[0] - (gc.get_count()[0] + user[0])) <= 5  # the graph plus the usual margin
    gc.collect()
    assert gc.get_threshold() == user
    del scores


def test_cycles_made_after_a_graph_is_freed_are_still_collected_automatically(
    collections: list[int],
) -> None:
    model, X, _ = _moons_like()
    scores = model.forward_batch(X)
    del scores  # the graph's objects come off the young generation's count again

    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the cyclic collector frees it

    first = Node()
    watch = weakref.ref(first)
    del first
    for _ in range(3 * gc.get_threshold()[0]):
        Node()
    assert collections, "no automatic collection ran"
    assert watch() is None


def test_a_user_setting_is_left_alone() -> None:
    model, X, _ = _moons_like()
    gc.disable()  # the user's choice: a build must not turn the collector back on
    model.forward_batch(X)
    assert not gc.isenabled()
    gc.enable()
    gc.set_threshold(0)  # automatic collection off: nothing to shift
    model.forward_batch(X)
    assert gc.get_threshold()[0] == 0
    gc.set_threshold(700, 10, 10)
    model.forward_batch(X)
    gc.set_threshold(5000, 10, 10)  # set while ours is in force: kept by the next collection
    gc.collect()
    assert gc.get_threshold() == (5000, 10, 10)


def test_the_collector_restarts_when_a_forward_raises() -> None:
    class Broken(nn.Module):
        def forward(self, x: Any) -> Any:
            assert not gc.isenabled()  # paused while the model runs
            raise RuntimeError("broken forward")

    with pytest.raises(RuntimeError, match="broken forward"):
        Broken()([1.0])
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="broken forward"):
        Broken().forward_batch([[1.0], [2.0]])
    assert gc.isenabled()


def test_losses_build_with_the_collector_paused() -> None:
    seen = []

    def spy(pred: Any, target: Any) -> Value:
        seen.append(gc.isenabled())
        return nn.mse_loss(pred, target)

    # A nested build leaves the outer pause alone: paused inside, restarted after.
    paused_spy = collector.building_graph(spy)
    loss = paused_spy([Value(1.0)], [2.0])
    assert seen == [False] and gc.isenabled() and loss.data == 1.0
    assert paused_spy.__name__ == "spy"  # functools.wraps: the docs show the loss itself
    assert nn.mse_loss.__doc__ and "mse" in nn.mse_loss.__name__


def test_builds_in_a_row_and_collections_in_another_thread_never_ratchet_the_threshold() -> None:
    import threading

    user = gc.get_threshold()
    model, X, _ = _moons_like()
    stop = threading.Event()

    def collect() -> None:
        while not stop.is_set():
            gc.collect(0)

    other = threading.Thread(target=collect)
    other.start()
    try:
        for _ in range(20):
            model.forward_batch(X)  # each graph freed at once
            # at most one graph's worth (about 18,000) above the user's; a threshold of ours saved
            # as the user's would add one more graph's worth at every build
            assert gc.get_threshold()[0] < user[0] + 30_000
    finally:
        stop.set()
        other.join()
    gc.collect()
    assert gc.get_threshold() == user
