"""Operators built on the engine: ``grad`` (``create_graph`` for higher order), ``hessian``, ``hvp``

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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, overload

from tinygrad_edu.engine import DERIVATIVE_RULES, Value, dot, enable_grad, topological_order
from tinygrad_edu.ops import rule_args

__all__ = ["grad", "hessian", "hvp", "jacobian"]


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


def jacobian(f: Callable[..., Sequence[Value]], xs: Sequence[float | Value]) -> list[list[float]]:
    """J[i][j] = d f_i / d x_j for f taking n Values and returning a sequence of Values."""
    leaves = _leaves(xs)
    outputs = f(*leaves)
    return [list(grad(y, leaves)) if isinstance(y, Value) else [0.0] * len(leaves) for y in outputs]


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
