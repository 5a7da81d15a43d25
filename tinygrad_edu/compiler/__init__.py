"""``compile``: trace a training step once, then replay it as Python or NumPy.

A training loop builds the same graph at every step; only the numbers change. ``compile`` runs
``fn`` once per input shape with its inputs as data (``trace``), keeps the graph, and turns it into

* ``backend="python"``: straight-line Python, the forward and then ``backward()``'s loop unrolled,
  one line per chain-rule product (``step.source``): gradients bit for bit equal to eager ones;
* ``backend="numpy"``: the graph's levels as NumPy calls: a few calls per (depth, op) group
  forward, a scatter-add backward; gradients equal to eager ones to rounding.

Both backends get each op's local derivative from its one rule in ``tinygrad_edu.ops``, called on
symbols or on arrays: compiling is one more interpreter of the same rules, not a second table.
::

    step = tinygrad_edu.compile(lambda X, y: nn.mse_loss(model.forward_batch(X), y),
                                model.parameters())
    loss = step(X, y)   # a float; every parameter's .grad filled as backward() would (adding)

What a replay cannot repeat is refused while tracing, with the file and line: a Python decision on
the data of a Value that depends on the parameters (``if v``, ``float(v)``, ``v.data``), which would
be frozen at this trace's decision. Ops decide inside the graph: relu, abs, nn.huber_loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_edu.compiler.tracing import Graph, TraceError, flatten, trace
from tinygrad_edu.engine import Value

__all__ = ["BACKENDS", "CompiledStep", "MAX_PYTHON_EDGES", "TraceError", "compile"]

BACKENDS = ("python", "numpy")

#: Past this many edges the python backend's compile time and memory grow too large (seconds, and
#: gigabytes near a million edges); ``compile`` then refuses and suggests numpy. bench measures it.
MAX_PYTHON_EDGES = 250_000

#: Up to this many nodes the python source says each line's op (a graph small enough to read).
COMMENTED_NODES = 400


@dataclass
class _Traced:
    """One input shape's compiled step."""

    run: Callable[[list[float], list[float]], tuple[float, list[float]]]
    grad_slots: list[int]  # which params the returned gradients belong to, in order
    source: str | None
    nodes: int
    edges: int
    compile_seconds: float


class CompiledStep:
    """``step(*inputs)``: the loss as a float, each parameter's ``.grad`` filled (added to).

    Attributes:
        backend: "python" or "numpy".
        params: the parameters, in order.
        traces: how many input shapes have been traced (one compiled step each).
    """

    def __init__(self, fn: Callable[..., Value], params: Sequence[Value], backend: str) -> None:
        self.fn = fn
        self.params = list(params)
        self.backend = backend
        self._compiled: dict[tuple[int, ...], _Traced] = {}
        self._last: _Traced | None = None

    @property
    def traces(self) -> int:
        return len(self._compiled)

    @property
    def source(self) -> str:
        """The generated Python of the latest call's shape (python backend)."""
        if self.backend != "python":
            raise AttributeError(f"step.source: the {self.backend} backend generates no source")
        if self._last is None:
            raise AttributeError("step.source: nothing is compiled yet; call step(*inputs) first")
        assert self._last.source is not None
        return self._last.source

    @property
    def compile_seconds(self) -> float:
        """Seconds the latest call's shape took to trace and compile."""
        return self._last.compile_seconds if self._last else 0.0

    @property
    def edges(self) -> int:
        """Edges of the latest call's traced graph."""
        return self._last.edges if self._last else 0

    def __call__(self, *inputs: Any) -> float:
        key, flat = flatten(inputs)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(key, flat)
        self._last = compiled
        params = self.params
        loss, grads = compiled.run([p.data for p in params], flat)
        # backward() adds to a leaf's earlier gradient: (this call's sum) + earlier
        for slot, g in zip(compiled.grad_slots, grads):
            p = params[slot]
            p.grad = g + p.grad if p.grad != 0.0 else g
        return loss

    def _compile(self, key: tuple[int, ...], flat: list[float]) -> _Traced:
        start = time.perf_counter()
        graph = trace(self.fn, self.params, key, flat)
        if self.backend == "python":
            return _python(graph, start)
        return _numpy(graph, start)

    def __repr__(self) -> str:
        return (
            f"CompiledStep(backend={self.backend!r}, params={len(self.params)}, "
            f"traces={self.traces})"
        )


def _python(graph: Graph, start: float) -> _Traced:
    from tinygrad_edu.compiler import python_backend

    if graph.edges > MAX_PYTHON_EDGES:
        raise ValueError(
            f"compile: this step's graph has {graph.edges:,} edges, past the python backend's "
            f"{MAX_PYTHON_EDGES:,} (its source and compile time grow with every edge); use "
            f'backend="numpy", which handles millions'
        )
    source, slots = python_backend.generate(graph, comments=len(graph.ops) <= COMMENTED_NODES)
    run = python_backend.build(source)
    return _Traced(run, slots, source, len(graph.ops), graph.edges, time.perf_counter() - start)


def _numpy(graph: Graph, start: float) -> _Traced:
    from tinygrad_edu.compiler.numpy_backend import NumpyStep

    step = NumpyStep(graph)
    return _Traced(
        step.run, step.param_slots, None, len(graph.ops), graph.edges, time.perf_counter() - start
    )


def compile(  # noqa: A001 (the name of the API; the builtin stays builtins.compile)
    fn: Callable[..., Value], params: Sequence[Value], backend: str = "python"
) -> CompiledStep:
    """Compile the training step ``fn`` over ``params``: ``step = compile(fn, params)``.

    Args:
        fn: ``fn(*inputs)`` builds the loss, a scalar Value, from the parameters and its inputs
            (numbers, or lists and nested lists of numbers: data, read again at every call).
        params: the Values to differentiate (``model.parameters()``); a Value that needs a
            gradient and is not among them is refused while tracing.
        backend: "python" (readable source, gradients bit for bit eager's) or "numpy" (fastest,
            gradients to rounding).

    Returns:
        A ``CompiledStep``: ``step(*inputs)`` traces on the first call with each input shape, then
        returns the loss and adds d loss / d p to each ``p.grad``, as ``fn(*inputs).backward()``.

    Raises:
        TypeError / ValueError naming the argument: ``fn`` not callable, a ``params`` entry that
        is not a Value, an unknown backend. At the first call: ``TraceError`` for what a replay
        cannot repeat, TypeError for inputs that are not numbers or lists, or for an ``fn``
        that does not return a scalar Value.
    """
    if not callable(fn):
        raise TypeError(f"compile: fn must be callable (it builds the loss), got {fn!r}")
    if isinstance(params, Value) or not isinstance(params, (list, tuple)):
        params = _as_list(params)
    unique: list[Value] = []
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(
                f"compile: params[{i}] is {type(p).__name__} {p!r:.40}, not a Parameter or Value"
            )
        if id(p) not in seen:  # listed twice, a parameter still gets its gradient once
            seen.add(id(p))
            unique.append(p)
    if backend not in BACKENDS:
        raise ValueError(f"compile: backend must be one of {BACKENDS}, got {backend!r}")
    return CompiledStep(fn, unique, backend)


def _as_list(params: Any) -> list[Any]:
    if isinstance(params, Value):
        raise TypeError("compile: params must be a list of Values (e.g. model.parameters())")
    try:
        return list(params)
    except TypeError:
        raise TypeError(
            f"compile: params must be a list of Values (e.g. model.parameters()), got "
            f"{type(params).__name__}"
        ) from None
