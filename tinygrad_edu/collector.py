"""The cyclic garbage collector while ``nn`` builds a graph.

A graph of Values has no reference cycles (a node holds numbers and its parents, never a closure
or its children), so reference counting frees it the moment its output is dropped, and CPython's
cyclic collector can never find garbage in it. Yet the collector counts every new node toward its
youngest generation: building the moons step's graph (about 17,000 tracked objects) set off about
25 young collections, each traversing the part of the graph built so far, and moved the graph into
the older generations, where it set off collections of the whole heap (bench: moons, about a fifth
of the step).

So the forward passes and losses of ``nn`` build their graph with the collector paused
(``gc.disable()``), and on leaving they raise the youngest generation's threshold by the number of
objects the build added. The graph just built then does not count toward the next collection: it
comes after the usual number of *other* allocations, by which time a training step's graph has
usually been freed (and its objects taken off the count again). The first collection after that
puts the threshold back. Nothing else changes: cycles made anywhere else are collected as before,
at the same pace in allocations, and a graph is still freed by reference counting.

Left alone: a collector turned off by the user (or paused by a build in another thread) stays as it
is; a threshold of 0 (automatic collection off) is kept; a threshold the user sets while ours is in
force is kept.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["building_graph", "pause", "resume"]

F = TypeVar("F", bound=Callable[..., Any])

# The user's threshold while ours (raised by a build) is in force, and ours; both None otherwise.
# The lock keeps the pair and the collector's threshold in step when a collection in another thread
# runs the callback in the middle of ``resume`` (a threshold of ours must never be saved as the
# user's, or each build would raise it further).
_saved: tuple[int, int, int] | None = None
_ours: tuple[int, int, int] | None = None
_lock = threading.Lock()


def pause() -> bool:
    """Pause automatic collection for a build; returns whether ``resume`` must restart it."""
    if not gc.isenabled():  # the user's choice, or an enclosing build (any thread): leave it
        return False
    gc.disable()
    return True


def resume(paused: bool) -> None:
    """End a build begun by ``pause``: restart the collector, not counting the graph just built."""
    global _saved, _ours
    if not paused:
        return
    with _lock:  # the collector is off here, so this thread cannot start a collection
        young = gc.get_count()[0]  # tracked objects made since the last collection: the graph
        current = gc.get_threshold()
        user = _saved if _saved is not None and current == _ours else current
        if user[0] > 0:  # 0 turns automatic collection off: nothing to shift
            _saved, _ours = user, (young + user[0], user[1], user[2])
            gc.set_threshold(*_ours)
    gc.enable()


def _restore(phase: str, info: dict[str, int]) -> None:
    """gc callback: at the start of a collection, put the user's threshold back."""
    global _saved, _ours
    if phase != "start" or _saved is None:
        return
    with _lock:
        if _saved is not None and gc.get_threshold() == _ours:  # unless the user set one since
            gc.set_threshold(*_saved)
        _saved = _ours = None


gc.callbacks.append(_restore)


def building_graph(fn: F) -> F:
    """Decorate a function that builds a graph: it runs with the collector paused (see above)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        paused = pause()
        try:
            return fn(*args, **kwargs)
        finally:
            resume(paused)

    return wrapper  # type: ignore[return-value]
