"""Operators built on the engine: ``grad`` (``create_graph`` for higher order), ``hessian``,
``hvp``, and forward mode: ``jvp`` and ``jacobian(..., mode="forward")``

``Value.backward()`` writes gradients into ``.grad``. ``grad(output, inputs)`` instead *returns*
d output / d input for each input and leaves every ``.grad`` alone. With ``create_graph=True`` the
backward pass is itself built out of Value ops (each op's one rule in ``tinygrad_edu.ops``), so
the gradients it returns are Values in a graph of their own and can be differentiated again:

    >>> x = Value(2.0)
    >>> (dy,) = grad(x**3, [x], create_graph=True)     # 3 x^2 = 12, as a Value
    >>> (d2y,) = grad(dy, [x], create_graph=True)      # 6 x   = 12
    >>> grad(d2y, [x])                                  # 6
    (6.0,)

PyTorch does the same with ``torch.autograd.grad(..., create_graph=True)``.

Forward mode (``jvp``) walks the same recorded graph the other way: parents first, carrying a
tangent, the derivative of each node along one direction v of the inputs,

    tangent(node) = sum_i (d node / d parent_i) * tangent(parent_i),     tangent(x_j) = v_j,

with the very numbers ``backward()`` multiplies by (``node.local_grads``, from the op's one rule).
One forward pass gives J v (one column of the Jacobian for v = e_j); one backward pass gives
u^T J (one row). So for n inputs and m outputs a full Jacobian costs n forward passes or m
backward ones: training (n parameters, m = 1 loss) uses reverse mode. ``jacobian(...,
count=True)`` returns how many chain-rule products each mode spent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, overload

from tinygrad_edu.engine import DERIVATIVE_RULES, Value, dot, enable_grad, topological_order
from tinygrad_edu.ops import rule_args

__all__ = ["grad", "hessian", "hvp", "jacobian", "jvp"]


def _depends_on_inputs(order: list[Value], inputs: Sequence[Value]) -> set[Value]:
    """The nodes of ``order`` that are an input or have one as an ancestor: only they need grads."""
    relevant = set(inputs)
    for node in order:  # parents come before children
        if node not in relevant and any(p in relevant for p in node.parents):
            relevant.add(node)
    return relevant


@overload
def grad(
    output: Value, inputs: Value | Sequence[Value], create_graph: Literal[False] = False
) -> tuple[float, ...]: ...
@overload
def grad(
    output: Value, inputs: Value | Sequence[Value], create_graph: Literal[True]
) -> tuple[Value, ...]: ...
def grad(
    output: Value, inputs: Value | Sequence[Value], create_graph: bool = False
) -> tuple[float, ...] | tuple[Value, ...]:
    """d output / d input for each input, without touching any ``.grad``.

    Args:
        output: the Value to differentiate.
        inputs: a Value or a sequence of Values (leaves or interior nodes) of output's graph.
        create_graph: if False, the gradients are floats. If True, they are Values whose graph
            records how they were computed, so they can be differentiated again (to any order).

    Returns:
        A tuple with one gradient per input; 0 for an input that output does not depend on.
    """
    if isinstance(inputs, Value):
        inputs = (inputs,)
    inputs = tuple(inputs)
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs must be Values, got {type(x).__name__!r}")
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__!r}")
    order = topological_order(output)
    relevant = _depends_on_inputs(order, inputs)
    if create_graph:
        with enable_grad():
            return _grad_graph(output, order, relevant, inputs)
    return _grad_floats(output, order, relevant, inputs)


def _grad_floats(
    output: Value, order: list[Value], relevant: set[Value], inputs: tuple[Value, ...]
) -> tuple[float, ...]:
    """The backward pass of ``Value.backward`` into a dict instead of ``.grad``: the same products
    in the same order, so the same numbers."""
    grads: dict[Value, float] = {output: 1.0}
    for node in reversed(order):
        g = grads.get(node, 0.0)
        for parent, local in zip(node.parents, node.local_grads):
            if parent in relevant:
                grads[parent] = grads.get(parent, 0.0) + local * g
    return tuple(grads.get(x, 0.0) for x in inputs)


def _rule_of(node: Value) -> Callable[..., Sequence[Value | float]]:
    rule = DERIVATIVE_RULES.get(node.op)
    if rule is None:
        raise KeyError(
            f"grad(create_graph=True): no derivative rule for op {node.op!r}; make it with "
            f"custom_op({node.op!r}, data, parents, rule=fn), fn(out, *inputs) returning the "
            f"local derivatives written with operators and tinygrad_edu.ops' math functions"
        )
    return rule


def _local_derivatives(node: Value) -> Sequence[Value | float]:
    """The node's rule evaluated on Values: its local derivatives as graphs of their own."""
    rule = _rule_of(node)
    inputs = rule_args(node.op, node.parents)
    if node.arg is None:
        return rule(node, *inputs)
    return rule(node, *inputs, node.arg)


def _grad_graph(
    output: Value, order: list[Value], relevant: set[Value], inputs: tuple[Value, ...]
) -> tuple[Value, ...]:
    """The backward pass made of Value ops.

    The same rules as the eager ops, and the same accumulation as ``backward()``: contributions
    are added one by one in the order ``backward()`` adds them, so the numbers are ``.grad``'s, bit
    for bit. A contribution is left out only where it is exactly zero in every derivative: a local
    derivative that is the constant 0 times a finite gradient, or any finite local derivative
    times a gradient that nothing reached (where ``backward()`` would add 0 * inf = nan, so do we).
    """
    grads: dict[Value, Value] = {output: Value(1.0, requires_grad=False)}
    for node in reversed(order):
        if not node.parents or not any(p in relevant for p in node.parents):
            continue
        g = grads.get(node)
        for parent, local in zip(node.parents, _local_derivatives(node)):
            if parent not in relevant:
                continue
            if g is None:  # no gradient reached this node: 0, unless times an inf or nan
                local_data = local.data if isinstance(local, Value) else local
                if math.isfinite(local_data):
                    continue
                part = Value(local_data * 0.0, requires_grad=False)
            elif isinstance(local, Value):
                part = local * g
            elif local == 0.0 and math.isfinite(g.data):
                continue
            else:
                part = g if local == 1.0 else g * local
            total = grads.get(parent)
            grads[parent] = part if total is None else total + part
    return tuple(grads.get(x, Value(0.0, requires_grad=False)) for x in inputs)


def _leaves(xs: Sequence[float | Value]) -> list[Value]:
    return [Value(x.data if isinstance(x, Value) else x, label=f"x{i}") for i, x in enumerate(xs)]


# -- forward mode ------------------------------------------------------------------------------


def _order_of_many(outputs: Sequence[Value]) -> list[Value]:
    """Every node some output depends on, each after its parents (one topological order)."""
    order: list[Value] = []
    seen: set[Value] = set()
    for y in outputs:
        for node in topological_order(y):  # a node new here has its parents already in order
            if node not in seen:
                seen.add(node)
                order.append(node)
    return order


def _forward_pass(order: list[Value], seeds: dict[Value, float]) -> tuple[dict[Value, float], int]:
    """Forward accumulation over ``order``: the tangent of every node that depends on a seed.

    tangent(node) = sum_i local_i * tangent(parent_i), parents first. A node that no seed reaches
    (a function of constants alone) has tangent 0 and costs nothing. Returns the tangents and the
    number of products local x tangent taken (one per edge from a node that carries a tangent).
    """
    tangents = dict(seeds)
    products = 0
    for node in order:
        if node in seeds:
            continue
        total: float | None = None
        for parent, local in zip(node.parents, node.local_grads):
            t = tangents.get(parent)
            if t is not None:
                products += 1
                total = local * t if total is None else total + local * t
        if total is not None:
            tangents[node] = total
    return tangents, products


def _as_outputs(result: object, name: str) -> tuple[list[Value | float], bool]:
    """f's result as a list of outputs, and whether it was one Value (or number) alone."""
    if isinstance(result, (Value, int, float)):
        return [result], True
    if isinstance(result, Sequence):
        return list(result), False
    raise TypeError(f"{name}: f must return a Value or a sequence of Values, got {result!r}")


@overload
def jvp(
    f: Callable[..., Value], xs: Sequence[float | Value], vs: Sequence[float]
) -> tuple[float, float]: ...
@overload
def jvp(
    f: Callable[..., Sequence[Value]], xs: Sequence[float | Value], vs: Sequence[float]
) -> tuple[list[float], list[float]]: ...
def jvp(
    f: Callable[..., object], xs: Sequence[float | Value], vs: Sequence[float]
) -> tuple[float, float] | tuple[list[float], list[float]]:
    """f(xs) and its directional derivative along vs, by forward mode (순방향 모드).

    The directional derivative (방향 미분) is J v = d/dt f(xs + t vs) at t = 0: one forward pass
    over f's graph, tangent(node) = sum_i local_i * tangent(parent_i), from tangent(x_j) = v_j.

    Args:
        f: takes ``len(xs)`` Values, returns a Value or a sequence of Values.
        xs: the point (floats, or Values whose data is used).
        vs: the direction, one number per input.

    Returns:
        ``(value, derivative)``: floats for an f returning one Value, lists for a sequence.
    """
    if len(vs) != len(xs):
        raise ValueError(f"jvp: vs has length {len(vs)}, xs has length {len(xs)}")
    leaves = _leaves(xs)
    outputs, single = _as_outputs(f(*leaves), "jvp")
    values = [y for y in outputs if isinstance(y, Value)]
    tangents, _ = _forward_pass(_order_of_many(values), dict(zip(leaves, map(float, vs))))
    data = [y.data if isinstance(y, Value) else float(y) for y in outputs]
    derivative = [tangents.get(y, 0.0) if isinstance(y, Value) else 0.0 for y in outputs]
    if single:
        return data[0], derivative[0]
    return data, derivative


# -- Jacobians in either mode --------------------------------------------------------------------


def _reverse_products(output: Value, inputs: Sequence[Value]) -> int:
    """How many products ``grad(output, inputs)`` takes: one per edge into a node that needs a
    gradient (the inner line of ``_grad_floats``)."""
    order = topological_order(output)
    relevant = _depends_on_inputs(order, inputs)
    return sum(1 for node in order for p in node.parents if p in relevant)


def _jacobian_reverse(outputs: list[Value | float], leaves: list[Value]) -> tuple[list, int]:
    rows, products = [], 0
    for y in outputs:  # one backward pass per output: a row
        if isinstance(y, Value):
            rows.append(list(grad(y, leaves)))
            products += _reverse_products(y, leaves)
        else:
            rows.append([0.0] * len(leaves))
    return rows, products


def _jacobian_forward(outputs: list[Value | float], leaves: list[Value]) -> tuple[list, int]:
    order = _order_of_many([y for y in outputs if isinstance(y, Value)])
    columns, products = [], 0
    for j in range(len(leaves)):  # one forward pass per input, along e_j: a column
        # Every input is seeded (with 0 but at j), as dual numbers would be: a pass costs the
        # edges that depend on any input, whichever column it computes.
        seeds = {leaf: 1.0 if k == j else 0.0 for k, leaf in enumerate(leaves)}
        tangents, spent = _forward_pass(order, seeds)
        columns.append([tangents.get(y, 0.0) if isinstance(y, Value) else 0.0 for y in outputs])
        products += spent
    return [[column[i] for column in columns] for i in range(len(outputs))], products


@overload
def jacobian(
    f: Callable[..., Sequence[Value]],
    xs: Sequence[float | Value],
    mode: Literal["reverse", "forward"] = "reverse",
    count: Literal[False] = False,
) -> list[list[float]]: ...
@overload
def jacobian(
    f: Callable[..., Sequence[Value]],
    xs: Sequence[float | Value],
    mode: Literal["reverse", "forward"] = "reverse",
    *,
    count: Literal[True],
) -> tuple[list[list[float]], int]: ...
def jacobian(
    f: Callable[..., Sequence[Value]],
    xs: Sequence[float | Value],
    mode: Literal["reverse", "forward"] = "reverse",
    count: bool = False,
) -> list[list[float]] | tuple[list[list[float]], int]:
    """J[i][j] = d f_i / d x_j for f taking n Values and returning a sequence of m Values.

    Args:
        mode: ``"reverse"`` (역방향 모드): one backward pass per output, each gives a row;
            ``"forward"`` (순방향 모드): one forward pass per input, each gives a column. Both
            multiply the same local derivatives, so they agree (up to the order of the sums).
        count: also return how many chain-rule products (local derivative x gradient or tangent)
            were taken, one per edge from a node that depends on the inputs, per pass: about
            m x (edges) in reverse mode, n x (edges) in forward mode.

    Returns:
        J as a list of m rows, or ``(J, products)`` with ``count=True``.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")
    leaves = _leaves(xs)
    outputs, _ = _as_outputs(f(*leaves), "jacobian")
    if mode == "reverse":
        rows, products = _jacobian_reverse(outputs, leaves)
    else:
        rows, products = _jacobian_forward(outputs, leaves)
    return (rows, products) if count else rows


def hessian(f: Callable[..., Value], xs: Sequence[float | Value]) -> list[list[float]]:
    """H[i][j] = d^2 f / dx_i dx_j at xs, by differentiating the gradient graph once more.

    Args:
        f: takes ``len(xs)`` Values, returns a scalar Value.
        xs: the point, as floats (or Values, whose data is used).

    Returns:
        The n x n Hessian as a list of rows of floats.
    """
    leaves = _leaves(xs)
    gradients = grad(f(*leaves), leaves, create_graph=True)
    # Row i is the gradient of d f/dx_i: one more backward pass per row.
    return [list(grad(g, leaves)) for g in gradients]


def hvp(f: Callable[..., Value], xs: Sequence[float | Value], v: Sequence[float]) -> list[float]:
    """The Hessian-vector product H v at xs, in two backward passes and without forming H.

    Uses H v = d/dx (grad f(x) . v): the gradient graph is built once (``create_graph=True``),
    dotted with the constant vector v, and differentiated again.
    """
    if len(v) != len(xs):
        raise ValueError(f"hvp: v has length {len(v)}, xs has length {len(xs)}")
    leaves = _leaves(xs)
    gradients = grad(f(*leaves), leaves, create_graph=True)
    return list(grad(dot(gradients, v), leaves))
