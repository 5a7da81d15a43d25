"""The numpy backend: a traced step replayed a graph level at a time, with arrays.

Forward: nodes are grouped by (depth, op, number of parents, constant argument). A group's nodes
do not depend on one another, so after gathering their parents' values into an (m nodes x k
parents) array, one NumPy call computes all of them.

Backward: every edge that carries a gradient has its local derivative d child / d parent in one
flat array, ``local``, laid out a depth at a time (deepest first) and, within a depth, sorted by
parent. A child is always deeper than its parents, so once the deeper depths are done, the
gradients of a depth's nodes are complete, whatever their ops, and back-propagation is a few NumPy
calls a depth::

    products = local[depth's edges] * grads[their children]       # the chain rule, edge by edge
    grads[their parents] += the sum of each parent's run            # np.add.reduceat

The local derivatives come from each op's rule in ``tinygrad_edu.ops``, called two ways. At compile
time once on stand-ins for a group's inputs (``_StandIn``): a rule that returns its inputs, its
output or numbers as they are (d(ab)/da = b; dot's x_i, w_i and 1; e^x's e^x; +, -, sum) makes its
local derivatives copies of other nodes' values, so one gather ``values[local_source]`` fills them
for all such groups at every step. Any other rule (relu's ``where``, ``div`` ...) raises TypeError
on the stand-ins, and is called on the group's arrays at every step (the math functions registered
for arrays below). The sums run in another order than ``backward()``'s, so gradients agree with
eager ones to rounding (1e-12), not bit for bit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_edu import ops
from tinygrad_edu.compiler.tracing import CONST, INPUT, PARAM, Graph

__all__ = ["NumpyStep"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^-|x| only (as ops._sigmoid)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sign(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0.0, 1.0, np.where(x < 0.0, -1.0, 0.0))  # 0 at nan, as ops.sign


class _ArrayMath:
    """The math functions of ``ops`` on arrays (element by element)."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    sigmoid = staticmethod(_sigmoid)
    div = staticmethod(np.divide)
    power = staticmethod(np.power)
    sign = staticmethod(_sign)

    @staticmethod
    def where(condition: np.ndarray, a: Any, b: Any) -> Any:
        if isinstance(a, tuple):
            return tuple(np.where(condition, x, y) for x, y in zip(a, b))
        return np.where(condition, a, b)


ops.register_math(np.ndarray, _ArrayMath)


def _dot(a: np.ndarray, arg: Any) -> np.ndarray:
    n = a.shape[1] // 2
    total = np.einsum("ij,ij->i", a[:, :n], a[:, n : 2 * n])
    return total + a[:, 2 * n] if a.shape[1] % 2 else total


# Each op's forward on a group: ``a`` holds the parents' values, one column per parent.
FORWARD: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    "+": lambda a, arg: a[:, 0] + a[:, 1],
    "-": lambda a, arg: a[:, 0] - a[:, 1],
    "*": lambda a, arg: a[:, 0] * a[:, 1],
    "/": lambda a, arg: a[:, 0] / a[:, 1],
    "**": lambda a, arg: np.power(a[:, 0], arg),
    "c**x": lambda a, arg: np.power(arg, a[:, 0]),
    "pow": lambda a, arg: np.power(a[:, 0], a[:, 1]),
    "neg": lambda a, arg: -a[:, 0],
    "abs": lambda a, arg: np.abs(a[:, 0]),
    "exp": lambda a, arg: np.exp(a[:, 0]),
    "log": lambda a, arg: np.log(a[:, 0]),
    "sqrt": lambda a, arg: np.sqrt(a[:, 0]),
    "tanh": lambda a, arg: np.tanh(a[:, 0]),
    "sigmoid": lambda a, arg: _sigmoid(a[:, 0]),
    "relu": lambda a, arg: np.where(a[:, 0] <= 0.0, 0.0, a[:, 0]),
    "leaky_relu": lambda a, arg: np.where(a[:, 0] > 0.0, a[:, 0], arg * a[:, 0]),
    "sin": lambda a, arg: np.sin(a[:, 0]),
    "cos": lambda a, arg: np.cos(a[:, 0]),
    "softplus": lambda a, arg: np.maximum(a[:, 0], 0.0) + np.log1p(np.exp(-np.abs(a[:, 0]))),
    "sum": lambda a, arg: a.sum(axis=1),
    "dot": _dot,
    "huber": lambda a, arg: np.where(
        np.abs(a[:, 0]) <= arg, 0.5 * a[:, 0] ** 2, arg * (np.abs(a[:, 0]) - 0.5 * arg)
    ),
    "max_shift": lambda a, arg: a.max(axis=1),
    "==": lambda a, arg: np.where(a[:, 0] == arg, 1.0, 0.0),
}


class _StandIn:
    """Input ``position`` of a group (``OUTPUT``: the group's own value) while a rule runs once at
    compile time. Arithmetic, comparisons, truth and the math functions raise TypeError on it, so
    a rule goes through only if it returns its inputs untouched, or numbers."""

    __slots__ = ("position",)

    def __init__(self, position: int) -> None:
        self.position = position

    def __bool__(self) -> bool:
        raise TypeError("a stand-in has no truth value")

    def __eq__(self, other: object) -> bool:
        raise TypeError("a stand-in cannot be compared")

    __hash__ = None  # type: ignore[assignment]


OUTPUT = -1


def _gathered_rule(op: str, k: int, arg: Any) -> list[_StandIn | float] | None:
    """The local derivatives of ``op`` with ``k`` inputs as stand-ins and numbers, or None.

    None when the rule computes with its inputs (it must then run on each step's arrays).
    """
    _, rule, _, has_arg = ops.OPS[op]
    inputs = ops.rule_args(op, [_StandIn(j) for j in range(k)])
    try:
        local = rule(_StandIn(OUTPUT), *inputs, arg) if has_arg else rule(_StandIn(OUTPUT), *inputs)
    except TypeError:
        return None
    if all(type(d) is _StandIn or type(d) is float or type(d) is int for d in local):
        return [d if type(d) is _StandIn else float(d) for d in local]
    return None


@dataclass
class _Group:
    """Nodes of one (depth, op, fan-in, argument): index arrays laid out (input position, node)."""

    op: str
    arg: Any
    depth: int
    nodes: np.ndarray  # (m,) node indices
    parents: np.ndarray  # (k, m): parents[j, r] is input j of node r
    needs_grad: bool
    # Backward of a group whose rule runs on arrays at every step (None for the others): the input
    # positions with a parent that needs a gradient (None: all), of those rows' (k', m) entries
    # the edges whose parent needs one (None: all), and their places in ``local``.
    rule_rows: list[int] | None = None
    take: np.ndarray | None = None
    positions: np.ndarray | None = None


@dataclass
class _Level:
    """One depth's edges in backward, sorted by parent: ``local[start:stop]`` are their local
    derivatives, ``children`` their children; each parent's run begins at ``starts`` (None: every
    run is one edge, as below an activation, and nothing needs summing), and ``targets`` are those
    parents (each once)."""

    start: int
    stop: int
    children: np.ndarray
    starts: np.ndarray | None
    targets: np.ndarray


class NumpyStep:
    """A traced step as groups of index arrays; ``run(P, X)`` returns (loss, grads)."""

    def __init__(self, graph: Graph) -> None:
        n = len(graph.ops)
        kinds = graph.kinds
        self.size = n
        self.root = graph.root
        self.param_nodes = np.array([i for i in range(n) if kinds[i] == PARAM], dtype=np.intp)
        self.param_slots = [graph.slots[i] for i in self.param_nodes]
        self.param_index = np.array(self.param_slots, dtype=np.intp)
        self.input_nodes = np.array([i for i in range(n) if kinds[i] == INPUT], dtype=np.intp)
        self.input_slots = np.array([graph.slots[i] for i in self.input_nodes], dtype=np.intp)
        self.groups = _groups(graph)
        # the numbers among the local derivatives (1 and -1 of +, -, sum, dot's bias) get a slot
        # each after the nodes' values, so the gather that copies local derivatives copies them too
        self.derivative_constants: list[float] = []
        self._constant_slots: dict[tuple[float, float], int] = {}  # keyed with the sign of 0
        self.local_source, self.levels = self._lay_out_backward(np.array(graph.needs_grad))
        constants = [c if k == CONST else 0.0 for c, k in zip(graph.constants, kinds)]
        self.initial = np.array(constants + self.derivative_constants)
        self.nbytes = self.local_source.nbytes + sum(
            a.nbytes
            for g in self.groups
            for a in (g.nodes, g.parents, g.take, g.positions)
            if a is not None
        )
        self.nbytes += sum(
            a.nbytes
            for lv in self.levels
            for a in (lv.children, lv.starts, lv.targets)
            if a is not None
        )

    def run(self, params: list[float], inputs: list[float]) -> tuple[float, list[float]]:
        values = self.initial.copy()  # the nodes' values, then the constant local derivatives
        values[self.param_nodes] = np.asarray(params)[self.param_index]
        if len(self.input_nodes):
            values[self.input_nodes] = np.asarray(inputs)[self.input_slots]
        with np.errstate(all="ignore"):  # IEEE inf and nan, as the rules on floats give
            ruled = []  # the groups whose rule runs on arrays, with their parents' values
            for g in self.groups:
                a = values.take(g.parents)  # (k, m)
                values[g.nodes] = FORWARD[g.op](a.T, g.arg)
                if g.positions is not None:
                    ruled.append((g, a))
            # np.take: a plain gather, faster than indexing with an array (values[index])
            local = values.take(self.local_source)
            for g, a in ruled:
                local[g.positions] = _rule_locals(g, a, values)
            grads = np.zeros(self.size)
            grads[self.root] = 1.0
            for level in self.levels:  # deepest first
                products = local[level.start : level.stop] * grads.take(level.children)
                if level.starts is not None:  # sum each parent's run of products
                    products = np.add.reduceat(products, level.starts)
                grads[level.targets] += products
        return float(values[self.root]), grads[self.param_nodes].tolist()

    def _lay_out_backward(self, needs: np.ndarray) -> tuple[np.ndarray, list[_Level]]:
        """``local_source`` (where each edge's local derivative is copied from) and the levels."""
        by_depth: dict[int, list[tuple[_Group, np.ndarray, np.ndarray, np.ndarray]]]
        by_depth = defaultdict(list)
        for g in self.groups:
            if g.needs_grad:
                by_depth[g.depth].append((g, *self._edges(g, needs)))
        sources, levels, offset = [], [], 0
        for depth in sorted(by_depth, reverse=True):
            edges = by_depth[depth]
            parents = np.concatenate([e[1] for e in edges])
            if not len(parents):
                continue
            order = np.argsort(parents, kind="stable")
            place = np.empty_like(order)
            place[order] = np.arange(offset, offset + len(order))
            begin = 0
            for g, p, _, _ in edges:  # where a rule group's edges land in `local`
                if g.positions is not None:
                    g.positions = place[begin : begin + len(p)]
                begin += len(p)
            parents = parents[order]
            starts = np.flatnonzero(np.r_[True, parents[1:] != parents[:-1]])
            children = np.concatenate([e[2] for e in edges])[order]
            sources.append(np.concatenate([e[3] for e in edges])[order])
            runs = None if len(starts) == len(parents) else starts
            levels.append(_Level(offset, offset + len(order), children, runs, parents[starts]))
            offset += len(order)
        local_source = np.concatenate(sources) if sources else np.zeros(0, dtype=np.intp)
        return local_source, levels

    def _edges(self, g: _Group, needs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (parent, child, source) of each edge of ``g`` whose parent needs a gradient.

        ``source`` is the slot of ``values`` that holds the edge's local derivative for a group
        whose rule returns values as they are; 0 (overwritten at every step) for the others.
        """
        k = len(g.parents)
        rows = np.flatnonzero(needs[g.parents].any(axis=1))
        parents = g.parents[rows]
        mask = needs[parents]
        children = np.broadcast_to(g.nodes, parents.shape)[mask]
        gathered = _gathered_rule(g.op, k, g.arg)
        if gathered is None:
            g.rule_rows = None if len(rows) == k else rows.tolist()
            g.take = None if mask.all() else np.flatnonzero(mask)
            g.positions = np.zeros(0, dtype=np.intp)  # placed by _lay_out_backward
            return parents[mask], children, np.zeros(len(children), dtype=np.intp)
        sources = np.empty_like(parents)
        for row, j in enumerate(rows):
            d = gathered[j]
            if isinstance(d, _StandIn):
                sources[row] = g.nodes if d.position == OUTPUT else g.parents[d.position]
            else:
                sources[row] = self._constant_slot(d)
        return parents[mask], children, sources[mask]

    def _constant_slot(self, c: float) -> int:
        key = (c, math.copysign(1.0, c))
        if key not in self._constant_slots:
            self._constant_slots[key] = self.size + len(self.derivative_constants)
            self.derivative_constants.append(c)
        return self._constant_slots[key]


def _rule_locals(g: _Group, a: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The local derivatives of a group's edges, from its op's rule on this step's arrays."""
    _, rule, _, has_arg = ops.OPS[g.op]
    inputs = ops.rule_args(g.op, list(a))  # a row of values per input position
    out = values.take(g.nodes)
    local = rule(out, *inputs, g.arg) if has_arg else rule(out, *inputs)
    if g.rule_rows is not None:
        local = [local[j] for j in g.rule_rows]
    m = a.shape[1]
    rows = [d if type(d) is np.ndarray else np.full(m, d) for d in local]
    flat = rows[0] if len(rows) == 1 else np.concatenate(rows)  # one input: no stacking
    return flat if g.take is None else flat.take(g.take)


def _groups(graph: Graph) -> list[_Group]:
    """The non-leaf nodes grouped by (depth, op, fan-in, argument, needs_grad), by depth."""
    depth = [0] * len(graph.ops)
    members: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, (op, parents) in enumerate(zip(graph.ops, graph.parents)):
        if not op:
            continue
        depth[i] = 1 + max(depth[j] for j in parents)
        members[(depth[i], op, len(parents), graph.args[i], graph.needs_grad[i])].append(i)
    groups = []
    for (d, op, _, arg, needs_grad), nodes in sorted(members.items(), key=lambda kv: kv[0][0]):
        groups.append(
            _Group(
                op,
                arg,
                d,
                np.array(nodes, dtype=np.intp),
                np.array([graph.parents[i] for i in nodes], dtype=np.intp).T.copy(),
                needs_grad,
            )
        )
    return groups
