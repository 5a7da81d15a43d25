"""The python backend: a traced step written out as straight-line Python, forward then backward.

Backward is ``backward()``'s loop unrolled: for each node in reverse topological order, for each
parent, one line ``d_parent += local * d_node``. The local derivative is the op's own rule from
``tinygrad_edu.ops``, called here on *symbols*: ``Sym`` overloads the operators to build source
text instead of numbers, and registers the math functions (``exp``, ``div``, ``where`` ...) for
itself, so ``d_tanh(out, x)`` returns the text ``1.0 - v5 * v5``. The rule is evaluated in the
generated code with the very float functions the eager op uses, and contributions are added in
``backward()``'s order, so the gradients equal eager's bit for bit (one liberty: eager sums each
gradient from 0.0, the source assigns the first product, so a gradient that is exactly zero may
come out as -0.0 where eager has 0.0, which compares equal).

Constants are folded where that is exact: constant leaves become literals, a rule's arithmetic on
constants is done once here, ``1.0 * d`` is ``d`` and ``-1.0 * d`` is ``-d``.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
import types
from collections.abc import Callable
from typing import Any

from tinygrad_edu import ops
from tinygrad_edu.compiler.tracing import CONST, INPUT, PARAM, Graph

__all__ = ["Sym", "generate", "build"]

# Python's operator precedence, low to high, as far as the generated code needs it.
_IF, _COMPARE, _ADD, _MUL, _UNARY, _POW, _ATOM = 1, 5, 10, 11, 12, 13, 100


class Sym:
    """A piece of source text standing for a float, with the precedence of its outermost op."""

    __slots__ = ("text", "prec")

    def __init__(self, text: str, prec: int = _ATOM) -> None:
        self.text = text
        self.prec = prec

    def __repr__(self) -> str:
        return self.text

    # binary operators: the right operand gets parentheses at equal precedence too, since float
    # arithmetic is not associative ((a + b) + c is not a + (b + c))
    def _binary(self, symbol: str, prec: int, left: Any, right: Any) -> Sym:
        return Sym(f"{_text(left, prec, False)} {symbol} {_text(right, prec, True)}", prec)

    def __add__(self, other: Any) -> Sym:
        return self._binary("+", _ADD, self, other)

    def __radd__(self, other: Any) -> Sym:
        return self._binary("+", _ADD, other, self)

    def __sub__(self, other: Any) -> Sym:
        return self._binary("-", _ADD, self, other)

    def __rsub__(self, other: Any) -> Sym:
        return self._binary("-", _ADD, other, self)

    def __mul__(self, other: Any) -> Any:
        return multiply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return multiply(other, self)

    def __truediv__(self, other: Any) -> Sym:
        return self._binary("/", _MUL, self, other)

    def __rtruediv__(self, other: Any) -> Sym:
        return self._binary("/", _MUL, other, self)

    def __neg__(self) -> Sym:
        return Sym(f"-{_text(self, _UNARY, False)}", _UNARY)

    def __pos__(self) -> Sym:
        return self

    def __abs__(self) -> Sym:
        return _call("abs", self)

    def __lt__(self, other: Any) -> Sym:
        return self._binary("<", _COMPARE, self, other)

    def __le__(self, other: Any) -> Sym:
        return self._binary("<=", _COMPARE, self, other)

    def __gt__(self, other: Any) -> Sym:
        return self._binary(">", _COMPARE, self, other)

    def __ge__(self, other: Any) -> Sym:
        return self._binary(">=", _COMPARE, self, other)

    def __bool__(self) -> bool:
        raise TypeError("a rule branches on a symbol with `if`; use ops.where(condition, a, b)")


def literal(x: float) -> Sym:
    """A float as source that reads back as the same float (inf and nan by name)."""
    if math.isnan(x):
        return Sym("nan")
    if math.isinf(x):
        return Sym("inf" if x > 0 else "-inf", _ATOM if x > 0 else _UNARY)
    text = repr(float(x))
    return Sym(text, _UNARY if text.startswith("-") else _ATOM)


def _text(x: Any, prec: int, right: bool) -> str:
    s = x if isinstance(x, Sym) else literal(x)
    if s.prec < prec or (right and s.prec == prec) or (prec == _COMPARE and s.prec == prec):
        return f"({s.text})"
    return s.text


def multiply(a: Any, b: Any) -> Any:
    """a * b, folding the exact cases: 1 * b = b and -1 * b = -b (also for inf and nan)."""
    for one, other in ((a, b), (b, a)):
        if type(one) is float:
            if one == 1.0:
                return other
            if one == -1.0:
                return -other
    if not isinstance(a, Sym) and not isinstance(b, Sym):
        return a * b
    return Sym(f"{_text(a, _MUL, False)} * {_text(b, _MUL, True)}", _MUL)


def _call(name: str, *args: Any) -> Sym:
    return Sym(f"{name}({', '.join(_text(a, 0, False) for a in args)})")


class _SymMath:
    """The math functions of ``ops`` on symbols: a call of the same float function, as text."""

    @staticmethod
    def exp(x: Sym) -> Sym:
        return _call("exp", x)

    @staticmethod
    def log(x: Sym) -> Sym:
        return _call("log", x)

    @staticmethod
    def sqrt(x: Sym) -> Sym:
        return _call("sqrt", x)

    @staticmethod
    def sin(x: Sym) -> Sym:
        return _call("sin", x)

    @staticmethod
    def cos(x: Sym) -> Sym:
        return _call("cos", x)

    @staticmethod
    def sigmoid(x: Sym) -> Sym:
        return _call("sigmoid", x)

    @staticmethod
    def div(a: Any, b: Any) -> Sym:
        return _call("div", a, b)

    @staticmethod
    def power(x: Any, n: Any) -> Any:
        if n == 1.0 and type(n) is float:  # x ** 1 = x exactly
            return x
        return _call("power", x, n)

    @staticmethod
    def sign(x: Sym) -> Sym:
        return _call("sign", x)

    @staticmethod
    def where(condition: Sym, a: Any, b: Any) -> Any:
        if isinstance(a, tuple):
            return tuple(_choose(condition, x, y) for x, y in zip(a, b))
        return _choose(condition, a, b)


def _choose(condition: Sym, a: Any, b: Any) -> Any:
    if (
        type(a) is float
        and type(b) is float
        and a == b
        and math.copysign(1, a) == math.copysign(1, b)
    ):
        return a
    return Sym(f"{_text(a, _IF + 1, False)} if {condition.text} else {_text(b, _IF, False)}", _IF)


ops.register_math(Sym, _SymMath)

# The names the generated code calls: the float functions the eager ops and rules use.
NAMESPACE: dict[str, Any] = {
    "exp": ops._exp,
    "log": ops._log,
    "sqrt": ops._sqrt,
    "sin": ops._sin,
    "cos": ops._cos,
    "sigmoid": ops._sigmoid,
    "div": ops._div,
    "power": ops._pow,
    "sign": ops._sign,
    "fsum": ops._fsum,
    "tanh": math.tanh,
    "softplus": ops._softplus,
    "inf": math.inf,
    "nan": math.nan,
}

# The forward of each op as source, from its input texts (and its constant argument): the same
# float operations as the eager op.
_FORWARD: dict[str, Callable[..., str]] = {
    "+": lambda a, b: f"{a} + {b}",
    "-": lambda a, b: f"{a} - {b}",
    "*": lambda a, b: f"{a} * {b}",
    "/": lambda a, b: f"div({a}, {b})",
    "**": lambda x, n: f"{x} ** {n}" if _is_integer(n) else f"power({x}, {n})",
    "c**x": lambda x, c: f"power({c}, {x})",
    "pow": lambda x, y: f"power({x}, {y})",
    "neg": lambda x: f"-{x}",
    "abs": lambda x: f"abs({x})",
    "relu": lambda x: f"0.0 if {x} <= 0.0 else {x}",
    "leaky_relu": lambda x, s: f"{x} if {x} > 0.0 else {s} * {x}",
    "sum": lambda *xs: f"fsum(({', '.join(xs)},))",
}


def _is_integer(text: str) -> bool:
    """Whether the literal ``text`` is a whole number (then ``x ** n`` is real for every x)."""
    n = float(text)
    return math.isfinite(n) and n == int(n)


def _forward_line(op: str, inputs: list[str], arg: float | None) -> str:
    if op == "dot":
        n = len(inputs) // 2
        terms = [f"{w} * {x}" for w, x in zip(inputs[:n], inputs[n : 2 * n])] + inputs[2 * n :]
        return f"fsum(({', '.join(terms)},))"
    if op in _FORWARD:
        return _FORWARD[op](*inputs, *(() if arg is None else (literal(arg).text,)))
    name = f"f_{_identifier(op)}"
    NAMESPACE.setdefault(name, ops.OPS[op].forward)
    extra = "" if arg is None else f", {literal(arg).text}"
    return f"{name}({', '.join(inputs)}{extra})"


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    return name


def _names(graph: Graph) -> list[str]:
    """A variable name per node: its label where it has one (the parameter ``L0.N0.w0`` is
    ``L0_N0_w0``, the loss's ``e²`` is ``e2``), else its op and a count (``dot3``, ``relu3``)."""
    names: list[str] = []
    used: set[str] = set(NAMESPACE) | {"P", "X", "step", "_"}
    counts: dict[str, int] = {}
    for i, (op, label) in enumerate(zip(graph.ops, graph.labels)):
        if i == graph.root and not label:
            name = "loss"
        elif label:
            name = _identifier(label.translate(_SUPERSCRIPTS))
        else:
            prefix = op if op.isidentifier() else "v"
            counts[prefix] = counts.get(prefix, 0) + 1
            name = f"{prefix}{counts[prefix]}"
        base, k = name, 1
        while name in used or f"d_{name}" in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        names.append(name)
    return names


_SUPERSCRIPTS = str.maketrans("²³", "23")


def generate(graph: Graph, comments: bool) -> tuple[str, list[int]]:
    """The source of ``step(P, X) -> (loss, grads)`` and the parameter slots ``grads`` are for."""
    names = _names(graph)
    symbols: list[Any] = []
    lines = ["def step(P, X):"]
    params = [i for i, k in enumerate(graph.kinds) if k == PARAM]
    inputs = [i for i, k in enumerate(graph.kinds) if k == INPUT]
    lines.append(f"    {_unpack(graph, names, params, graph.n_params)} = P")
    lines.append(f"    {_unpack(graph, names, inputs, graph.n_inputs)} = X")
    lines.append("    # forward")
    for i, (op, kind) in enumerate(zip(graph.ops, graph.kinds)):
        if kind == CONST:
            symbols.append(graph.constants[i])
            continue
        symbols.append(Sym(names[i]))
        if op:
            texts = [_text(symbols[j], _POW + 1, False) for j in graph.parents[i]]
            comment = f"  # {op}" if comments else ""
            lines.append(f"    {names[i]} = {_forward_line(op, texts, graph.args[i])}{comment}")
    lines.append("    # backward: d_node is d loss / d node, summed in backward()'s order")
    started = _backward_lines(graph, names, symbols, lines, comments)
    grads = [i for i in params if i in started]
    root = symbols[graph.root]
    lines.append(
        f"    return {_text(root, 0, False)}, [{', '.join('d_' + names[i] for i in grads)}]"
    )
    return "\n".join(lines) + "\n", [graph.slots[i] for i in grads]


def _unpack(graph: Graph, names: list[str], nodes: list[int], size: int) -> str:
    """The target of unpacking P or X: each node's name at its slot, ``_`` for unused slots."""
    by_slot = {graph.slots[i]: names[i] for i in nodes}
    targets = [by_slot.get(k, "_") for k in range(size)]
    return f"({targets[0]},)" if size == 1 else f"({', '.join(targets)})" if size else "()"


def _backward_lines(
    graph: Graph, names: list[str], symbols: list[Any], lines: list[str], comments: bool
) -> set[int]:
    """Append one line per chain-rule product; return the nodes that received a gradient.

    A gradient that is one constant (d loss/d loss = 1, then 1/n through a mean) is carried on as
    that number, so the products below it are folded where that is exact.
    """
    started: set[int] = set()
    constant: dict[int, float] = {graph.root: 1.0}  # gradients known to be a single number
    root = graph.root
    for i in range(root, -1, -1):
        op, parents = graph.ops[i], graph.parents[i]
        if not (op and graph.needs_grad[i]) or (i != root and i not in started):
            continue
        upstream: Any = constant.get(i, Sym(f"d_{names[i]}"))
        _, rule, _, has_arg = ops.OPS[op]
        inputs = ops.rule_args(op, [symbols[j] for j in parents])
        out = symbols[i]
        local = rule(out, *inputs, graph.args[i]) if has_arg else rule(out, *inputs)
        comment = f"  # {op}: {ops.OPS[op].math}" if comments else ""
        for j, d in zip(parents, local):
            if not graph.needs_grad[j]:
                continue
            product = multiply(d, upstream)
            text = _text(product, 0, False)
            if j in started:
                lines.append(f"    d_{names[j]} += {text}{comment}")
                constant.pop(j, None)
            else:
                lines.append(f"    d_{names[j]} = {text}{comment}")
                started.add(j)
                if type(product) is float and not graph.kinds[j]:
                    constant[j] = product
            comment = ""
    return started


def build(source: str) -> Callable[[list[float], list[float]], tuple[float, list[float]]]:
    """The function ``step`` of ``source``, compiled.

    Its sums call ``math.fsum`` itself (a Python wrapper per ``dot`` node would cost about a tenth
    of the moons step); where that raises, at inf - inf or an overflow, the same code runs again
    with ``ops._fsum``, which then gives what ``+`` gives, as the eager ``dot`` and ``sum`` do.
    """
    namespace = dict(NAMESPACE)
    code = builtins.compile(source, "<tinygrad_edu.compile>", "exec")
    exec(code, namespace)  # the generated source: its only names are those of NAMESPACE
    careful: Callable[[list[float], list[float]], tuple[float, list[float]]] = namespace["step"]
    fast = types.FunctionType(careful.__code__, {**namespace, "fsum": math.fsum})

    def step(P: list[float], X: list[float]) -> tuple[float, list[float]]:
        try:
            return fast(P, X)  # type: ignore[no-any-return]
        except (ValueError, OverflowError):
            return careful(P, X)

    return step
