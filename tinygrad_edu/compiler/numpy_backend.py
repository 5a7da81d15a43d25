"""The numpy backend: a traced step replayed a graph level at a time, with arrays.

Nodes are grouped by (depth, op, number of parents, constant argument): a group's nodes do not
depend on one another, so one NumPy call computes all of them. Forward gathers each group's parent
values into an (m nodes x k parents) array and applies the op's array forward; backward goes through
the groups deepest first, calls the op's own rule from ``tinygrad_edu.ops`` on the group's columns
(the math functions registered for arrays below), multiplies by the group's upstream gradients and
scatter-adds the products into the parents' gradients (``np.add.at``: a parent used several times
receives the sum). The sums run in another order than ``backward()``'s, so gradients agree with
eager ones to rounding (1e-12), not bit for bit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
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


def _no_indices() -> np.ndarray:
    return np.zeros(0, dtype=np.intp)


@dataclass
class _Group:
    """Nodes of one (depth, op, fan-in, argument): index arrays laid out (input position, node)."""

    op: str
    arg: Any
    nodes: np.ndarray  # (m,) node indices
    parents: np.ndarray  # (k, m): parents[j, r] is input j of node r
    needs_grad: bool
    # Backward, for the products whose parent needs a gradient: their flat positions in (k, m)
    # (None: all of them), in the order that sorts them by parent, and where each parent's run
    # starts; np.add.reduceat then sums each parent's products in one pass.
    rows: list[int] | None = None  # the input positions with some parent that needs one (None: all)
    edges: np.ndarray | None = None
    order: np.ndarray = field(default_factory=_no_indices)
    starts: np.ndarray = field(default_factory=_no_indices)
    targets: np.ndarray = field(default_factory=_no_indices)  # the parent of each run

    def prepare_backward(self, needs_grad: np.ndarray) -> None:
        # an input position whose parents all need no gradient (a layer's inputs: 42% of the
        # digits-shaped step's edges) is left out of backward altogether
        rows = np.flatnonzero(needs_grad[self.parents].any(axis=1)).tolist()
        self.rows = None if len(rows) == len(self.parents) else rows
        flat = self.parents[rows].ravel()
        edges = np.flatnonzero(needs_grad[flat])
        self.edges = None if len(edges) == len(flat) else edges
        parents = flat[edges]
        self.order = np.argsort(parents, kind="stable")
        parents = parents[self.order]
        if len(parents):
            self.starts = np.flatnonzero(np.r_[True, parents[1:] != parents[:-1]])
            self.targets = parents[self.starts]


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
        self.initial = np.array([c if k == CONST else 0.0 for c, k in zip(graph.constants, kinds)])
        self.groups = _groups(graph)
        needs = np.array(graph.needs_grad, dtype=bool)
        for g in self.groups:
            if g.needs_grad:
                g.prepare_backward(needs)
        self.nbytes = sum(
            a.nbytes
            for g in self.groups
            for a in (g.nodes, g.parents, g.edges, g.order, g.starts, g.targets)
            if a is not None
        )

    def run(self, params: list[float], inputs: list[float]) -> tuple[float, list[float]]:
        values = self.initial.copy()
        values[self.param_nodes] = np.asarray(params)[self.param_index]
        if len(self.input_nodes):
            values[self.input_nodes] = np.asarray(inputs)[self.input_slots]
        gathered = []  # each group's parent values, for its backward
        with np.errstate(all="ignore"):  # IEEE inf and nan, as the rules on floats give
            for g in self.groups:
                a = values[g.parents]  # (k, m)
                gathered.append(a)
                values[g.nodes] = FORWARD[g.op](a.T, g.arg)
            grads = np.zeros(self.size)
            grads[self.root] = 1.0
            for g, a in zip(reversed(self.groups), reversed(gathered)):
                if g.needs_grad:
                    _backward_group(g, a, values, grads)
        return float(values[self.root]), grads[self.param_nodes].tolist()


_ARRAY, _FLOAT = {np.ndarray}, {float}


def _backward_group(g: _Group, a: np.ndarray, values: np.ndarray, grads: np.ndarray) -> None:
    """Add one group's chain-rule products ``local * upstream`` into its parents' gradients."""
    _, rule, _, has_arg = ops.OPS[g.op]
    inputs = ops.rule_args(g.op, list(a))  # a row of values per input position
    out = values[g.nodes]
    local = rule(out, *inputs, g.arg) if has_arg else rule(out, *inputs)
    if g.rows is not None:
        local = [local[j] for j in g.rows]
    k, m = len(local), a.shape[1]
    types = set(map(type, local))
    if types == _ARRAY:
        rows = np.array(local)
    elif types == _FLOAT:
        rows = np.array(local)[:, None]
    else:  # arrays and numbers (dot's bias: 1.0)
        rows = np.array([d if type(d) is np.ndarray else np.full(m, d) for d in local])
    products = np.broadcast_to(rows * grads[g.nodes], (k, m)).ravel()  # d node/d in * d loss/d node
    if g.edges is not None:
        products = products[g.edges]
    if len(products):
        grads[g.targets] += np.add.reduceat(products[g.order], g.starts)


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
    for (_, op, _, arg, needs_grad), nodes in sorted(members.items(), key=lambda kv: kv[0][0]):
        groups.append(
            _Group(
                op,
                arg,
                np.array(nodes, dtype=np.intp),
                np.array([graph.parents[i] for i in nodes], dtype=np.intp).T.copy(),
                needs_grad,
            )
        )
    return groups
