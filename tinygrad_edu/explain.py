"""Explain a gradient: every path it sums, the formula on every edge, and what a nudge does.

``backward()`` computes dL/dx as one number. Three ways to see where that number comes from:

* ``paths(root, x)``: the multivariate chain rule written out. dL/dx is the sum, over every path
  from x up to L, of the product of the local derivatives along that path::

      dL/dx = sum over paths x -> ... -> L of  prod over the path's edges (d child / d parent)

  A node used twice lies on two edges, so it gets two paths (and the sum of their products): that
  is why ``backward()`` *adds* into ``.grad`` (``+=``) instead of assigning.
* ``local_formula(node, i)``: the local derivative on an edge as a formula and its number, e.g.
  ``("∂e/∂a = b", -3.0)``. The formula is not a second table: the op's one rule in
  ``tinygrad_edu.ops`` is called with symbols (``Symbol``) instead of floats, and its operators
  and math functions build text.
* ``nudge(root, leaf, h)``: change one leaf by h, replay the graph, and compare the actual change of
  the root with the first-order prediction ``grad * h`` and the second-order one
  ``grad * h + ½ h² d²L/dleaf²``. The gradient is "what happens if I wiggle this".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_edu import ops
from tinygrad_edu.engine import DERIVATIVE_RULES, Value, topological_order

__all__ = [
    "DEFAULT_MAX_PATHS",
    "Nudge",
    "Path",
    "Symbol",
    "TooManyPathsError",
    "backprop_text",
    "count_paths",
    "local_formula",
    "nudge",
    "paths",
    "replay",
    "rule_formulas",
]

DEFAULT_MAX_PATHS = 1000
"""``paths`` refuses to list more (their number can double with every layer of a graph)."""


# ----------------------------------------------------------------------------------------------
# §1 Every path from a node to the root
# ----------------------------------------------------------------------------------------------


class TooManyPathsError(ValueError):
    """``paths`` was asked to list more paths than ``max_paths``; the message gives their count."""


@dataclass(frozen=True)
class Path:
    """One path from a node up to the root.

    Attributes:
        nodes: the Values along it, from the node (first) to the root (last).
        local_grads: d nodes[k+1] / d nodes[k] for each edge of the path, bottom to top.
        parent_indices: for each edge, which parent of nodes[k+1] the edge comes from (a node used
            twice by the same op, as in ``a * a``, has two edges to it).
        product: the product of ``local_grads``: this path's share of d root / d node.
    """

    nodes: tuple[Value, ...]
    local_grads: tuple[float, ...]
    parent_indices: tuple[int, ...]
    product: float

    def __len__(self) -> int:
        return len(self.local_grads)


def count_paths(root: Value, node: Value) -> int:
    """How many paths lead from ``node`` up to ``root``, counted without listing them.

    The count obeys the same recursion as the gradient, with 1 in place of every local derivative:
    paths(node) = 1, and for every other v, paths(v) = sum over v's parent edges of paths(parent).
    One pass over the graph in topological order, so graphs with 2^50 paths are counted at once.
    """
    counts: dict[Value, int] = {node: 1}
    for v in topological_order(root):
        if v is not node:
            counts[v] = sum(counts.get(p, 0) for p in v.parents)
    return counts.get(root, 0)


def paths(root: Value, node: Value, max_paths: int = DEFAULT_MAX_PATHS) -> list[Path]:
    """Every path from ``node`` up to ``root``, each with the product of its local derivatives.

    After ``root.backward()``, ``sum(p.product for p in paths(root, node))`` is ``node.grad`` (up to
    rounding: the sum is taken in another order than backward's). A node the root does not depend
    on has no paths (and gradient 0); the root itself has one path of no edges, product 1.

    Args:
        root: the output L.
        node: any Value of root's graph (a leaf or an interior node).
        max_paths: refuse to list more than this many.

    Raises:
        TooManyPathsError: there are more than ``max_paths`` paths; the message says how many.
    """
    count = count_paths(root, node)
    if count > max_paths:
        raise TooManyPathsError(
            f"paths: {count} paths lead from the node to the root, more than max_paths="
            f"{max_paths}; pass a larger max_paths, or pick a node nearer to the root "
            f"(backward() needs no list: it sums all of them in one pass over the edges)"
        )
    reaches = _reaching(root, node)
    found: list[Path] = []
    # Depth-first from the root down to the node, on an explicit stack (no recursion limit): each
    # entry is a partial path, listed top-down, as the nodes and the edges (parent index, local).
    stack: list[tuple[tuple[Value, ...], tuple[tuple[int, float], ...]]] = []
    if root in reaches:
        stack.append(((root,), ()))
    while stack:
        top_down, edges = stack.pop()
        bottom = top_down[-1]
        if bottom is node:
            found.append(_path(top_down, edges))
            continue
        for i in reversed(range(len(bottom.parents))):  # reversed: first parent's paths first
            parent = bottom.parents[i]
            if parent in reaches:
                stack.append(((*top_down, parent), (*edges, (i, bottom.local_grads[i]))))
    return found


def _reaching(root: Value, node: Value) -> set[Value]:
    """The nodes of root's graph that have ``node`` among their ancestors (node included)."""
    reaches = {node}
    for v in topological_order(root):
        if any(p in reaches for p in v.parents):
            reaches.add(v)
    return reaches


def _path(top_down: tuple[Value, ...], edges: tuple[tuple[int, float], ...]) -> Path:
    local_grads = tuple(local for _, local in reversed(edges))
    product = 1.0
    for local in local_grads:
        product *= local
    return Path(
        nodes=tuple(reversed(top_down)),
        local_grads=local_grads,
        parent_indices=tuple(i for i, _ in reversed(edges)),
        product=product,
    )


# ----------------------------------------------------------------------------------------------
# §2 Formulas: the op's rule called with symbols
# ----------------------------------------------------------------------------------------------

# Binding strength of an expression's outermost operator: an operand that binds less tightly than
# its operator needs parentheses. ``a if c else b`` < comparison < + - < × / < unary - < ^ < atoms.
_CONDITIONAL, _COMPARE, _SUM, _PRODUCT, _NEGATION, _POWER, _ATOM = range(7)
_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _number(x: float) -> str:
    """A constant in a formula: 1 rather than 1.0, 0.5, 1e-06."""
    return f"{x:.4g}" if x != int(x) or abs(x) >= 1e6 else str(int(x))


class Symbol:
    """A piece of formula text that a rule can compute with, as it computes with floats.

    ``Symbol("a") * Symbol("b")`` is the symbol ``a·b``; ``1.0 - t * t`` is ``1 - t²``. Registered
    with ``ops.register_math``, so ``exp``, ``log``, ``where`` ... of a Symbol build text too, and
    ``ops.DERIVATIVE_RULES["tanh"](Symbol("t"), Symbol("z"))`` is ``(Symbol("1 - t²"),)``.
    """

    __slots__ = ("text", "binding")

    def __init__(self, text: str, binding: int = _ATOM) -> None:
        self.text = text
        self.binding = binding

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Symbol({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    # arithmetic: each builds the text of the operation from its operands' texts
    def __add__(self, other: Any) -> Symbol:
        return _binary(self, "+", other, _SUM)

    def __radd__(self, other: Any) -> Symbol:
        return _binary(other, "+", self, _SUM)

    def __sub__(self, other: Any) -> Symbol:
        return _binary(self, "-", other, _SUM)

    def __rsub__(self, other: Any) -> Symbol:
        return _binary(other, "-", self, _SUM)

    def __mul__(self, other: Any) -> Symbol:
        if isinstance(other, Symbol) and other.text == self.text:
            return _SymbolMath.power(self, 2.0)  # t·t reads better as t²
        return _product(self, other)

    def __rmul__(self, other: Any) -> Symbol:
        return _product(other, self)

    def __truediv__(self, other: Any) -> Symbol:
        return _SymbolMath.div(self, other)

    def __rtruediv__(self, other: Any) -> Symbol:
        return _SymbolMath.div(other, self)

    def __neg__(self) -> Symbol:
        return Symbol(f"-{_operand(self, _PRODUCT)}", _NEGATION)  # -a·b and -a/b need none

    def __abs__(self) -> Symbol:
        return Symbol(f"|{self.text}|")  # the bars group: an atom

    # comparisons make a condition, for where(condition, a, b)
    def __gt__(self, other: Any) -> Symbol:  # type: ignore[override]
        return _binary(self, ">", other, _COMPARE)

    def __ge__(self, other: Any) -> Symbol:
        return _binary(self, "≥", other, _COMPARE)

    def __lt__(self, other: Any) -> Symbol:
        return _binary(self, "<", other, _COMPARE)

    def __le__(self, other: Any) -> Symbol:
        return _binary(self, "≤", other, _COMPARE)


class _Constant(float):
    """A constant argument of an op (the base of 2**x, an exponent, a slope) inside a rule.

    It is a float, so the rule computes with it as with a number (``n == 0.0``, ``n - 1.0``); only
    a math function of it stays text: ``log(c)`` is ``ln 2``, not 0.6931.
    """


def _text(x: Any) -> Symbol:
    if isinstance(x, Symbol):
        return x
    return Symbol(_number(float(x)))


def _operand(x: Any, binding: int, right: bool = False) -> str:
    """The text of an operand, in parentheses if it binds less tightly than its operator.

    The right operand of - and / also needs them at equal binding: a - (b - c), a/(b·c).
    """
    symbol = _text(x)
    if symbol.binding < binding or (right and symbol.binding == binding and binding != _ATOM):
        return f"({symbol.text})"
    if right and binding >= _SUM and symbol.text.startswith("-"):
        return f"({symbol.text})"  # a negative right operand: a - (-1), x·(-2)
    return symbol.text


def _binary(a: Any, operator: str, b: Any, binding: int) -> Symbol:
    right = operator in ("-", "/")
    return Symbol(f"{_operand(a, binding)} {operator} {_operand(b, binding, right)}", binding)


def _product(a: Any, b: Any) -> Symbol:
    """a·b, with a factor of 1 left out and of -1 written as a sign: 1·x is x, -1·x is -x."""
    for one, other in ((a, b), (b, a)):
        if not isinstance(one, Symbol) and float(one) in (1.0, -1.0):
            return _text(other) if float(one) == 1.0 else -_text(other)
    return Symbol(f"{_operand(a, _PRODUCT)}·{_operand(b, _PRODUCT, right=True)}", _PRODUCT)


def _call(name: str, x: Any) -> Symbol:
    return Symbol(f"{name}({_text(x).text})")


class _SymbolMath:
    """The math functions of ``ops`` on Symbols: each writes its own name."""

    @staticmethod
    def exp(x: Any) -> Symbol:
        return _call("exp", x)

    @staticmethod
    def log(x: Any) -> Symbol:
        if isinstance(x, _Constant):
            return Symbol(f"ln {_number(x)}", _POWER)  # binds as a function call: y·ln 2
        return _call("ln", x)

    @staticmethod
    def sqrt(x: Any) -> Symbol:
        return _call("sqrt", x)

    @staticmethod
    def sin(x: Any) -> Symbol:
        return _call("sin", x)

    @staticmethod
    def cos(x: Any) -> Symbol:
        return _call("cos", x)

    @staticmethod
    def sigmoid(x: Any) -> Symbol:
        return _call("σ", x)

    @staticmethod
    def div(a: Any, b: Any) -> Symbol:
        return Symbol(f"{_operand(a, _PRODUCT)}/{_operand(b, _PRODUCT, right=True)}", _PRODUCT)

    @staticmethod
    def power(x: Any, n: Any) -> Symbol:
        if not isinstance(n, Symbol) and float(n) == 1.0:
            return _text(x)
        base = _operand(x, _POWER + 1)
        if not isinstance(n, Symbol) and float(n) == int(n) and abs(n) < 10:
            return Symbol(base + str(int(n)).translate(_SUPERSCRIPTS), _POWER)
        return Symbol(f"{base}^{_operand(n, _POWER + 1)}", _POWER)

    @staticmethod
    def sign(x: Any) -> Symbol:
        return _call("sign", x)

    @staticmethod
    def where(condition: Symbol, a: Any, b: Any) -> Any:
        # a branch of constant tuples (relu's (0,) or (1,)) is a tuple of branches
        if isinstance(a, tuple):
            return tuple(_SymbolMath.where(condition, x, y) for x, y in zip(a, b))
        text = f"{_operand(a, _COMPARE)} if {condition.text} else {_operand(b, _COMPARE)}"
        return Symbol(text, _CONDITIONAL)


ops.register_math(Symbol, _SymbolMath)
ops.register_math(_Constant, _SymbolMath)


def rule_formulas(
    op: str, out: str, inputs: Sequence[str], arg: float | None = None
) -> tuple[str, ...]:
    """The local derivatives of ``op`` as text, from its one rule called with symbols.

    ``rule_formulas("*", "e", ["a", "b"])`` is ``("b", "a")``;
    ``rule_formulas("tanh", "t", ["z"])`` is ``("1 - t²",)``.
    """
    rule = DERIVATIVE_RULES.get(op)
    if rule is None:
        raise KeyError(f"rule_formulas: no derivative rule for op {op!r}")
    args = ops.rule_args(op, [Symbol(name) for name in inputs])
    if arg is None:
        result = rule(Symbol(out), *args)
    else:
        result = rule(Symbol(out), *args, _Constant(arg))
    return tuple(_text(d).text for d in result)


def _default_names(node: Value) -> tuple[str, list[str]]:
    """Labels where there are any; a constant by its value; else y for the node and a, b, x..."""

    def name(v: Value, fallback: str) -> str:
        if v.label:
            return v.label
        return _number(v.data) if not v.parents and not v.requires_grad else fallback

    n = len(node.parents)
    fallbacks = ["x"] if n == 1 else ["a", "b"] if n == 2 else [f"x{i + 1}" for i in range(n)]
    return name(node, "y"), [name(p, f) for p, f in zip(node.parents, fallbacks)]


def local_formula(
    node: Value, parent_index: int, names: Mapping[Value, str] | None = None
) -> tuple[str, float]:
    """The local derivative on the edge from ``node.parents[parent_index]`` to ``node``.

    Returns ``(text, value)``, e.g. ``("∂e/∂a = b", -3.0)`` for e = a * b with b = -3: the text from
    the op's rule called with the names, the value the one ``backward()`` multiplies by
    (``node.local_grads[parent_index]``). An op with no rule (a ``custom_op`` given numbers) has
    no formula: its text is ``∂e/∂a`` alone.

    Args:
        names: how to call the Values (default: their labels; a constant by its value; otherwise
            y for the node and x, or a and b, or x1..xn for its parents).
    """
    if not 0 <= parent_index < len(node.parents):
        raise IndexError(
            f"local_formula: parent_index {parent_index} out of range: the node has "
            f"{len(node.parents)} parents"
        )
    out_name, parent_names = _default_names(node)
    if names is not None:
        out_name = names.get(node, out_name)
        parent_names = [names.get(p, d) for p, d in zip(node.parents, parent_names)]
    value = node.local_grads[parent_index]
    head = f"∂{out_name}/∂{parent_names[parent_index]}"
    if node.op not in DERIVATIVE_RULES:
        return head, value
    formula = rule_formulas(node.op, out_name, parent_names, node.arg)[parent_index]
    return f"{head} = {formula}", value


def backprop_text(root: Value, grad: float = 1.0) -> str:
    """``viz.backprop_steps(root)`` as text, each product with the formula of its local derivative.

    For e = a * b with b = -3::

        step 1: e = a * b    (upstream de/de = 1)
          de/da += (∂e/∂a = b = -3) x 1 = -3 (total -3)
    """
    from tinygrad_edu import viz  # graphviz loads only when this text is asked for

    steps = viz.backprop_steps(root, grad)
    names = {step.node: step.name for step in steps}
    names.update({p.parent: p.parent_name for step in steps for p in step.products})
    lines = []
    for step in steps:
        lines.append(
            f"step {step.index + 1}: {step.formula}    "
            f"(upstream d{step.output_name}/d{step.name} = {viz.format_number(step.upstream)})"
        )
        for i, p in enumerate(step.products):
            if viz.node_kind(p.parent) == "constant":
                continue  # as BackpropStep's text: constants get gradients nobody needs
            text, value = local_formula(step.node, i, names)
            f = viz.format_number
            lines.append(
                f"  d{p.output_name}/d{p.parent_name} += ({text} = {f(value)}) x {f(p.upstream)}"
                f" = {f(p.contribution)} (total {f(p.running_total)})"
            )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# §4 Nudge a leaf
# ----------------------------------------------------------------------------------------------


def replay(root: Value, changes: Mapping[Value, float]) -> dict[Value, float]:
    """The data of every node of root's graph with some nodes' data changed: the graph re-run.

    Each node after a changed one is recomputed by its op's forward from ``ops.OPS``, in
    topological order (parents first), with the changed data; nothing is modified, the new data is
    returned in a dict. Nodes that depend on no changed node keep their data.

    Raises:
        KeyError: a node to recompute was made by a ``custom_op``, whose forward is not known.
    """
    new: dict[Value, float] = {}
    for v in topological_order(root):
        if v in changes:
            new[v] = float(changes[v])
        elif not any(p in new for p in v.parents):
            continue  # unaffected: keeps its data
        else:
            op = ops.OPS.get(v.op)
            if op is None:
                raise KeyError(
                    f"replay: op {v.op!r} is a custom op, whose forward is not known, so the graph "
                    f"cannot be re-evaluated through it"
                )
            data = ops.rule_args(v.op, [new.get(p, p.data) for p in v.parents])
            new[v] = op.forward(*data, v.arg) if op.has_arg else op.forward(*data)
    return new


@dataclass(frozen=True)
class Nudge:
    """What changing one leaf by h does to the root, next to what the derivatives predict.

    Attributes:
        h: the change of the leaf.
        before, after: the root's data before and after.
        grad: d root / d leaf.
        second_derivative: d² root / d leaf².
        predicted: ``grad * h`` (first order: the tangent line).
        predicted_second_order: ``grad * h + ½ h² second_derivative`` (the tangent parabola).
        actual: ``after - before``.
    """

    h: float
    before: float
    after: float
    grad: float
    second_derivative: float
    predicted: float
    predicted_second_order: float
    actual: float

    def __str__(self) -> str:
        return (
            f"h = {self.h:g}: actual change {self.actual:.6g}, predicted {self.predicted:.6g} "
            f"(first order), {self.predicted_second_order:.6g} (second order)"
        )


def nudge(root: Value, leaf: Value, h: float) -> Nudge:
    """Change ``leaf`` by ``h``, re-evaluate root's graph, and compare with the predictions.

    By Taylor, root(leaf + h) - root(leaf) = g h + ½ h² g' + O(h³), with g = d root/d leaf and g'
    = d² root/d leaf²: the first-order error shrinks as h², the second-order one as h³. The
    derivatives come from ``autodiff.grad`` (g' through ``create_graph=True``), the actual change
    from ``replay``; no ``.grad`` and no data are changed.
    """
    from tinygrad_edu.autodiff import grad  # autodiff imports nothing from here; lazy anyway

    h = float(h)
    if leaf is not root and leaf not in set(topological_order(root)):
        raise ValueError("nudge: the leaf is not part of the root's graph")
    (first,) = grad(root, [leaf], create_graph=True)
    (second,) = grad(first, [leaf])
    after = replay(root, {leaf: leaf.data + h}).get(root, root.data)
    g = first.data
    return Nudge(
        h=h,
        before=root.data,
        after=after,
        grad=g,
        second_derivative=second,
        predicted=g * h,
        predicted_second_order=g * h + 0.5 * h * h * second,
        actual=after - root.data,
    )
