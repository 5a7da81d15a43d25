"""Hypothesis strategies for property-testing gradients: random expression graphs over a few inputs.

Use them to check your own code the way this package checks itself::

    from hypothesis import given
    from tinygrad_edu.gradcheck import gradcheck
    from tinygrad_edu.testing import expressions

    @given(expressions(max_inputs=3, max_ops=12))
    def test_engine_matches_finite_differences(expr):
        assert gradcheck(expr, expr.inputs)

An ``Expression`` is a recipe: a list of steps, each an op applied to earlier nodes (the inputs
or the results of earlier steps). Steps pick their operands among *all* earlier nodes, so nodes
are reused (shared subexpressions, the case where a gradient must be summed over several paths).
Every op of the engine can be drawn. While a recipe is drawn it is evaluated, and each op is only
applied where it is well defined and smooth with a margin:

* ``log``, ``sqrt`` and ``x**0.5`` see inputs >= ``MARGIN``;
* ``relu``, ``abs`` and ``leaky_relu`` see ``|x| >= MARGIN`` (away from the kink);
* ``/`` and ``x**-1`` see a divisor with ``|b| >= 0.2``; ``exp``, ``2**x``, ``softplus`` see x <= 5;
* values are kept within ``LIMIT``.

When the drawn op is not safe at the current values, the step falls back to ``tanh`` of its first
operand. So finite differences and the engine are expected to agree on every drawn expression.

Calling the expression with Values (``expr(*values)``) replays the recipe and returns the root.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tinygrad_edu.engine import Value, dot

__all__ = [
    "MARGIN",
    "LIMIT",
    "OPS",
    "UNARY_OPS",
    "BINARY_OPS",
    "NARY_OPS",
    "Expression",
    "Step",
    "expressions",
    "input_values",
    "safe_inputs",
]

MARGIN = 0.05  # distance kept from domain edges and kinks
LIMIT = 50.0  # |value| above which no op is applied that could make it grow further

UNARY_OPS = (
    "neg",
    "abs",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "sin",
    "cos",
    "softplus",
    "**2",
    "**3",
    "**-1",
    "**0.5",
    "2**x",
)
BINARY_OPS = ("+", "-", "*", "/", "pow")
NARY_OPS = ("sum", "dot")
OPS = UNARY_OPS + BINARY_OPS + NARY_OPS
"""Every op the strategies can draw: the engine's ops (constant powers by a few exponents)."""


@dataclass(frozen=True)
class Step:
    """One node of a recipe: ``op`` applied to the nodes at ``operands`` (indices, inputs first)."""

    op: str
    operands: tuple[int, ...]


def _apply(op: str, args: Sequence[Value]) -> Value:
    """Apply a recipe op to Values (the one place where recipe names meet engine ops)."""
    x = args[0]
    if op in BINARY_OPS:
        y = args[1]
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            return x / y
        return x**y  # "pow": a Value exponent
    if op == "sum":
        return Value.sum(args)
    if op == "dot":
        half = len(args) // 2
        return dot(args[:half], args[half : 2 * half])
    if op == "neg":
        return -x
    if op == "**2":
        return x**2
    if op == "**3":
        return x**3
    if op == "**-1":
        return x**-1
    if op == "**0.5":
        return x**0.5
    if op == "2**x":
        return 2**x
    if op == "abs":
        return abs(x)
    return getattr(x, op)()  # exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, sin, cos, softplus


def _is_safe(op: str, values: Sequence[float]) -> bool:
    """Whether ``op`` is defined, smooth and bounded around ``values`` (with the margin)."""
    x = values[0]
    if any(abs(v) > LIMIT for v in values) and op not in ("tanh", "sigmoid", "sin", "cos", "neg"):
        return op in ("+", "-", "sum") and sum(abs(v) for v in values) <= 4 * LIMIT
    if op in ("log", "sqrt", "**0.5"):
        return x >= MARGIN
    if op in ("abs", "relu", "leaky_relu"):
        return abs(x) >= MARGIN
    if op == "**-1":
        return abs(x) >= 0.2
    if op == "/":
        return abs(values[1]) >= 0.2
    if op in ("exp", "2**x", "softplus"):
        return x <= 5.0
    if op == "pow":
        return x >= 0.2 and abs(values[1]) <= 3.0 and abs(values[1] * math.log(x)) <= 5.0
    if op == "*":
        return abs(x * values[1]) <= LIMIT
    if op in ("**2", "**3"):
        return abs(x) <= 5.0
    if op == "dot":
        half = len(values) // 2
        return sum(abs(a * b) for a, b in zip(values[:half], values[half:])) <= LIMIT
    return True


@dataclass
class Expression:
    """A random expression graph: inputs, a recipe of steps, and the point it was drawn at.

    Attributes:
        inputs: the point (floats) at which every step is known to be safe.
        steps: the recipe; node i is input i for i < len(inputs), then one node per step.
    """

    inputs: list[float]
    steps: list[Step] = field(default_factory=list)

    def __call__(self, *values: Value | float) -> Value:
        """Replay the recipe on ``values`` (one per input) and return the root (the last node)."""
        if len(values) != len(self.inputs):
            raise TypeError(f"Expression: expected {len(self.inputs)} inputs, got {len(values)}")
        nodes = [v if isinstance(v, Value) else Value(v) for v in values]
        for step in self.steps:
            nodes.append(_apply(step.op, [nodes[i] for i in step.operands]))
        return nodes[-1]

    def leaves(self) -> list[Value]:
        """Fresh leaf Values at the drawn point, labelled x0, x1, ..."""
        return [Value(v, label=f"x{i}") for i, v in enumerate(self.inputs)]

    @property
    def ops_used(self) -> set[str]:
        """The recipe ops that occur in the expression."""
        return {step.op for step in self.steps}

    def formula(self) -> str:
        """A readable formula for the root, e.g. ``tanh((x0 * x1))``; shared nodes are repeated."""
        names = [f"x{i}" for i in range(len(self.inputs))]
        for step in self.steps:
            args = [names[i] for i in step.operands]
            if step.op in BINARY_OPS:
                symbol = "**" if step.op == "pow" else step.op
                names.append(f"({args[0]} {symbol} {args[1]})")
            elif step.op.startswith("**"):
                names.append(f"({args[0]}{step.op})")
            elif step.op == "2**x":
                names.append(f"(2**{args[0]})")
            else:
                names.append(f"{step.op}({', '.join(args)})")
        return names[-1]

    def __repr__(self) -> str:
        return f"Expression({self.formula()} at {self.inputs})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis (and IPython) print with this hook: the formula, not the raw recipe fields
        printer.text(repr(self))


def input_values(low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[float]:
    """Finite floats in [low, high], at least ``MARGIN`` away from 0 (a kink of several ops)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False).filter(
        lambda v: abs(v) >= MARGIN
    )


def safe_inputs(op: str) -> st.SearchStrategy[float]:
    """Floats at which the single recipe op ``op`` (a unary one) is safe to differentiate."""
    if op not in UNARY_OPS:
        raise ValueError(f"safe_inputs: {op!r} is not a unary op; choose from {UNARY_OPS}")
    return input_values(-4.0, 4.0).filter(lambda v: _is_safe(op, [v]))


@st.composite
def expressions(
    draw: st.DrawFn,
    min_inputs: int = 1,
    max_inputs: int = 3,
    min_ops: int = 1,
    max_ops: int = 10,
    ops: Sequence[str] = OPS,
    inputs: Sequence[float] | None = None,
) -> Expression:
    """A strategy for random ``Expression`` graphs.

    Args:
        min_inputs, max_inputs: how many leaf inputs.
        min_ops, max_ops: how many steps (nodes beyond the inputs).
        ops: which ops to draw from (default: all of ``OPS``).
        inputs: a fixed point to build the expression at (then ``min_inputs``/``max_inputs`` are
            ignored). Use it to draw several expressions that are all safe at one point, e.g.
            ``g = data.draw(expressions(inputs=f.inputs))``.

    Each step draws an op and operands among all earlier nodes (so nodes get reused). At least one
    step reads the inputs; the root is the last step.
    """
    unknown = set(ops) - set(OPS)
    if unknown:
        raise ValueError(f"expressions: unknown ops {sorted(unknown)}; choose from {OPS}")
    if inputs is None:
        n_inputs = draw(st.integers(min_inputs, max_inputs))
        values = [draw(input_values()) for _ in range(n_inputs)]
    else:
        values = [float(v) for v in inputs]
        n_inputs = len(values)
        if n_inputs == 0:
            raise ValueError("expressions: inputs must hold at least one number")
    steps: list[Step] = []
    for _ in range(draw(st.integers(min_ops, max_ops))):
        op = draw(st.sampled_from(list(ops)))
        # later nodes are likelier operands, so chains grow deep, yet any node may be reused
        pick = st.just(len(values) - 1) | st.integers(0, len(values) - 1)
        if op in BINARY_OPS:
            operands: tuple[int, ...] = (draw(pick), draw(pick))
        elif op in NARY_OPS:
            size = draw(st.integers(1, 4)) * (2 if op == "dot" else 1)
            operands = tuple(draw(pick) for _ in range(size))
        else:
            operands = (draw(pick),)
        if not _is_safe(op, [values[i] for i in operands]):
            op, operands = "tanh", operands[:1]
        steps.append(Step(op, operands))
        values.append(_apply(op, [Value(values[i]) for i in operands]).data)
    return Expression(values[:n_inputs], steps)
