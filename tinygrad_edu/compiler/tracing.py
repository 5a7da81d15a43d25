"""Tracing: run ``fn`` once on stand-in Values and keep the graph it builds as a plain ``Graph``.

Every number of the inputs becomes an *input leaf* (data, read again at every call, never a
constant); each parameter is a *parameter leaf*; every other leaf is a constant of the trace. While
``fn`` runs, the engine hands each new node to the tracer (the mode bit ``_TRACE``), which

* records the parents of nodes that depend on inputs only (the eager engine drops them, since no
  gradient flows there; a replay must recompute them from the new inputs), and
* turns every node into a ``_TracedValue``: reading the data of a Value that depends on the
  parameters outside an op (``if v``, ``float(v)``, ``v.data``, ``v > 0``) raises ``TraceError``
  naming the line, since a replay would repeat the decision or number of this one trace; so do a
  branch on an input, ``v.detach()`` / ``Value(v)`` of a traced Value, and ``no_grad`` inside fn.

The ``Graph`` keeps indices and numbers only, in ``topological_order``: the backends never see a
Value, and the order is the one in which ``backward()`` would visit the same graph.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tinygrad_edu import engine, nn, ops
from tinygrad_edu.engine import Parameter, Value, topological_order
from tinygrad_edu.modes import _MODE, _RECORD, _TRACE, _TRACER

__all__ = ["Graph", "TraceError", "flatten", "trace"]

LEAF, PARAM, INPUT, CONST = "", "param", "input", "const"


class TraceError(RuntimeError):
    """``fn`` did something while traced that a replay could not repeat; the message says what."""


# ----------------------------------------------------------------------------------------------
# Inputs: nested lists of numbers, flattened; the nesting is the shape a compiled step is for
# ----------------------------------------------------------------------------------------------


def flatten(inputs: Sequence[Any]) -> tuple[tuple[int, ...], list[float]]:
    """(shape key, numbers) of ``inputs``: every number in order, and the nesting as a key.

    The key lists each list's length and -1 for each number, depth first, so two inputs share a
    key exactly when they have the same nesting (a prefix code: ``[1, [2]]`` and ``[[1], 2]``
    differ). NumPy arrays count as their ``tolist()``.
    """
    key: list[int] = [len(inputs)]
    found: list[float] = []
    for i, item in enumerate(inputs):
        try:
            _flatten_into(item, key, found)
        except _BadInput as bad:
            where = f"input {i}{_path_to(item, bad.item) or ''}"
            raise TypeError(
                f"compile: {where} is {type(bad.item).__name__} {bad.item!r:.60}; a compiled "
                f"step takes numbers and lists (nested lists) of numbers as its inputs"
            ) from None
    return tuple(key), found


class _BadInput(Exception):
    def __init__(self, item: Any) -> None:
        self.item = item


def _path_to(root: Any, target: Any) -> str | None:
    """``[3][1]`` if ``root[3][1] is target`` (searched only to word an error)."""
    if root is target:
        return ""
    if isinstance(root, (list, tuple)):
        for i, x in enumerate(root):
            path = _path_to(x, target)
            if path is not None:
                return f"[{i}]{path}"
    return None


_NUMBER_TYPES = frozenset((float, int))


def _flatten_into(item: Any, key: list[int], found: list[float]) -> None:
    kind = type(item)
    if kind is float or kind is int:
        key.append(-1)
        found.append(float(item))
    elif kind is list or kind is tuple:
        key.append(len(item))
        if _NUMBER_TYPES.issuperset(map(type, item)):  # a row of numbers: no call per number
            key.extend([-1] * len(item))
            found.extend(map(float, item))
        elif _is_matrix(item):  # rows of numbers of one length (a batch): no call per row
            width = len(item[0])
            key.extend(([width] + [-1] * width) * len(item))
            found.extend(map(float, itertools.chain.from_iterable(item)))
        else:
            for x in item:
                _flatten_into(x, key, found)
    elif isinstance(item, numbers.Real) and not isinstance(item, Value):
        key.append(-1)
        found.append(float(item))
    elif hasattr(item, "tolist") and hasattr(item, "shape"):  # a NumPy array
        _flatten_into(item.tolist(), key, found)
    elif isinstance(item, (list, tuple)):
        _flatten_into(list(item), key, found)
    else:
        raise _BadInput(item)


def _is_matrix(rows: list[Any] | tuple[Any, ...]) -> bool:
    """Whether ``rows`` are lists of numbers, all of one length."""
    if not all(type(row) is list for row in rows):
        return False
    return len(set(map(len, rows))) == 1 and _NUMBER_TYPES.issuperset(
        map(type, itertools.chain.from_iterable(rows))
    )


def _rebuild(key: tuple[int, ...], leaves: list[Value], names: list[str]) -> list[Any]:
    """The inputs again, with ``leaves`` in place of the numbers (the inverse of ``flatten``).

    Each leaf is labelled by where it sits: ``x`` for the argument x, ``X_3_1`` for X[3][1].
    """
    lengths = iter(key)
    values = iter(leaves)

    def build(path: str) -> Any:
        n = next(lengths)
        if n == -1:
            leaf = next(values)
            leaf.label = path
            return leaf
        return [build(f"{path}_{i}") for i in range(n)]

    return [build(name) for name in names[: next(lengths)]]


def _argument_names(fn: Callable[..., Any], n: int) -> list[str]:
    """The names of fn's first n positional parameters where it has them, else x0, x1, ..."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(names) < n:
        return [f"x{i}" for i in range(n)]
    return names[:n]


# ----------------------------------------------------------------------------------------------
# The traced Values: their data is off limits to code outside the engine, if they need a gradient
# ----------------------------------------------------------------------------------------------

_DATA = Value.__dict__["data"]  # the slot that holds a Value's number
_ENGINE_FILES = {os.path.abspath(f) for f in (engine.__file__, ops.__file__)}
# nn's layers read their weights' and inputs' data once per pass and hand it to engine._dot_data:
# those two functions only, not the rest of nn (state_dict reads data too).
_NN_FILE = os.path.abspath(nn.__file__)
_NN_READERS = ("_prepare", "_run_layer")

_INSTEAD = {
    "branch": (
        "a Python branch on it would take this trace's branch at every call; write the choice as "
        "a piecewise op (v.relu(), abs(v), v.leaky_relu(), engine.huber, or a custom op with a "
        "where() rule)"
    ),
    "number": (
        "the replay would reuse this trace's number; keep computing with the Value itself (ops "
        "keep it in the graph), or for a constant shift such as max(z.data) in log-sum-exp use "
        "engine.max_shift (a node with derivative 0)"
    ),
}
# engine code that copies a Value's number into a new constant (Value(v), v.detach()): in a
# replay that constant would keep this trace's number
_FREEZING = {"__init__", "detach"}


def _site(depth: int) -> str:
    frame = sys._getframe(depth + 1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


_PACKAGE = os.path.dirname(os.path.abspath(engine.__file__)) + os.sep


def _user_site() -> str:
    """``file:line`` of the innermost frame outside this package (the user's line)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE
    ):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _refuse(v: Value, access: str, kind: str, depth: int = 1) -> TraceError:
    name = f" ({v.label})" if v.label else ""
    source = "parameters" if v.requires_grad else "inputs"
    return TraceError(
        f"compile: {_site(depth + 1)} reads the data of a Value{name} that depends on the "
        f"{source} ({access}) while fn is traced; {_INSTEAD[kind]}"
    )


def _read_by_nn(code: Any) -> bool:
    """Whether a data read comes from nn's layer code, which computes a dot node with it."""
    return code.co_name in _NN_READERS and os.path.abspath(code.co_filename) == _NN_FILE


class _TracedValue(Value):
    """A node of a traced graph: if it depends on the parameters, only the engine reads its data.

    Branches (``if v``, ``v > 0``) are refused on inputs too: data is read again at every call,
    but a branch on it would not be taken again. Reading an input's number (``float(x)``, to check
    a label) is allowed.
    """

    __slots__ = ()

    @property  # type: ignore[override]
    def data(self) -> float:
        if self.requires_grad or self.live:
            code = sys._getframe(1).f_code
            if os.path.abspath(code.co_filename) not in _ENGINE_FILES:
                if self.requires_grad and not _read_by_nn(code):
                    raise _refuse(self, "v.data", "number")
            elif code.co_name in _FREEZING:
                raise _refuse(self, f"Value(v) or v.detach(), in {code.co_name}", "number")
        return _DATA.__get__(self)  # type: ignore[no-any-return]

    @data.setter
    def data(self, value: float) -> None:
        _DATA.__set__(self, value)

    def _number(self, access: str, kind: str) -> float:
        if self.requires_grad or (kind == "branch" and self.live):
            raise _refuse(self, access, kind, depth=2)
        return _DATA.__get__(self)  # type: ignore[no-any-return]

    def __float__(self) -> float:
        return self._number("float(v)", "number")

    def item(self) -> float:
        return self._number("v.item()", "number")

    def __bool__(self) -> bool:
        return self._number("bool(v), as in `if v:`", "branch") != 0.0

    def __lt__(self, other: Any) -> bool:
        return self._number("v < ...", "branch") < float(other)

    def __le__(self, other: Any) -> bool:
        return self._number("v <= ...", "branch") <= float(other)

    def __gt__(self, other: Any) -> bool:
        return self._number("v > ...", "branch") > float(other)

    def __ge__(self, other: Any) -> bool:
        return self._number("v >= ...", "branch") >= float(other)

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, _TracedValue) and not other.requires_grad and other.live:
            raise TraceError(
                f"compile: {_site(1)} raises a Value to the power of an input while fn is traced; "
                f"the engine takes a constant exponent as a number, so the replay would keep "
                f"this trace's exponent; write x ** y as (y * x.log()).exp() for x > 0"
            )
        return Value.__pow__(self, other)

    @property
    def live(self) -> bool:
        """Whether this node is recomputed by a replay (it has parents, or is an input)."""
        return bool(self.parents)


class _TracedParameter(_TracedValue, Parameter):
    __slots__ = ()


class _TracedInput(_TracedValue):
    """An input leaf: data, read again at every call."""

    __slots__ = ()

    @property
    def live(self) -> bool:
        return True


# ----------------------------------------------------------------------------------------------
# The graph
# ----------------------------------------------------------------------------------------------


@dataclass
class Graph:
    """One traced step, as columns indexed by node (nodes in topological order, root last).

    Attributes:
        ops: each node's op ('' for a leaf).
        parents: each node's parent indices.
        args: each node's constant argument (or None).
        kinds: for leaves PARAM, INPUT or CONST; '' for the rest.
        slots: for a PARAM its index into ``params``, for an INPUT into the flat inputs.
        constants: for a CONST its number.
        needs_grad: whether a gradient flows into the node (it depends on a parameter, or is one):
            the nodes ``backward()`` would give a gradient.
        labels: each node's label (or None).
    """

    ops: list[str] = field(default_factory=list)
    parents: list[tuple[int, ...]] = field(default_factory=list)
    args: list[float | None] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    constants: list[float] = field(default_factory=list)
    needs_grad: list[bool] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)
    n_inputs: int = 0
    n_params: int = 0

    @property
    def root(self) -> int:
        return len(self.ops) - 1

    @property
    def edges(self) -> int:
        return sum(map(len, self.parents))


class _Tracer:
    """Receives each new node from the engine while ``fn`` runs."""

    def __init__(self, live_leaves: set[int]) -> None:
        self.live = live_leaves  # ids of the parameter and input leaves

    def __call__(self, out: Value, parents: tuple[Value, ...], local: Sequence[float]) -> None:
        out.__class__ = _TracedValue
        if out.parents:
            return
        # No gradient flows here, so the engine kept no parents; keep them if the node depends
        # on the inputs or parameters (a replay recomputes it), and fold it into a constant if not.
        live = self.live
        for parent in parents:
            if parent.parents or id(parent) in live:
                if not _MODE.get() & _RECORD:
                    raise TraceError(
                        f"compile: {_user_site()} computes under no_grad while fn is "
                        f"traced; the result would be a constant of this trace in every replay. "
                        f"Leave no_grad out of fn (engine.max_shift is a node with derivative 0)"
                    )
                out.parents = parents
                out.local_grads = tuple(local)
                return


def trace(
    fn: Callable[..., Any], params: Sequence[Value], key: tuple[int, ...], flat: list[float]
) -> Graph:
    """Run ``fn`` on input leaves holding ``flat`` (nested as ``key``); return its ``Graph``."""
    leaves = [Value(x, requires_grad=False) for x in flat]
    for leaf in leaves:
        leaf.__class__ = _TracedInput
    inputs = _rebuild(key, leaves, _argument_names(fn, key[0]))
    classes = [p.__class__ for p in params]
    live = {id(v) for v in leaves} | {id(p) for p in params}
    mode_token = _MODE.set(
        _MODE.get() | _TRACE | _RECORD
    )  # traced with grad on, whatever the caller
    tracer_token = _TRACER.set(_Tracer(live))
    try:
        for p in params:
            p.__class__ = _TracedParameter if isinstance(p, Parameter) else _TracedValue
        root = fn(*inputs)
        if not isinstance(root, Value):
            raise TypeError(
                f"compile: fn must return the loss as one scalar Value, got {type(root).__name__}"
                + (" (a list: sum it, or pick one)" if isinstance(root, (list, tuple)) else "")
            )
        return _graph(root, params, leaves)
    finally:
        _TRACER.reset(tracer_token)
        _MODE.reset(mode_token)
        for p, cls in zip(params, classes):
            p.__class__ = cls


def _graph(root: Value, params: Sequence[Value], leaves: list[Value]) -> Graph:
    """The columns of ``Graph`` from the traced Values."""
    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    param_slot = {id(p): i for i, p in enumerate(params)}
    input_slot = {id(v): i for i, v in enumerate(leaves)}
    graph = Graph(n_inputs=len(leaves), n_params=len(params))
    for node in order:
        data = _DATA.__get__(node)
        kind, slot = LEAF, -1
        if id(node) in param_slot:
            kind, slot = PARAM, param_slot[id(node)]
        elif id(node) in input_slot:
            kind, slot = INPUT, input_slot[id(node)]
        elif not node.parents:
            if node.requires_grad and node.op == "":
                raise TraceError(
                    f"compile: fn uses {node!r}, a Value that needs a gradient but is not in "
                    f"params; pass it in params (e.g. model.parameters()), or make it a constant "
                    f"with requires_grad=False"
                )
            kind = CONST
        elif node.op not in ops.OPS:
            raise TraceError(
                f"compile: the custom op {node.op!r} cannot be replayed (its forward is not "
                f"recorded, only its value); write it from built-in ops"
            )
        graph.ops.append(node.op if kind == LEAF else "")
        graph.parents.append(tuple(index[id(p)] for p in node.parents) if kind == LEAF else ())
        graph.args.append(node.arg)
        graph.kinds.append(kind)
        graph.slots.append(slot)
        graph.constants.append(data if kind == CONST else math.nan)
        graph.needs_grad.append(node.requires_grad or kind == PARAM)
        graph.labels.append(node.label)
    return graph
