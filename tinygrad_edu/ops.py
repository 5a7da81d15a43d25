"""Each primitive op once: its forward on floats and its local-derivative rule, side by side.

A rule is a function ``rule(out, *inputs)`` that returns d out / d input for each input
(``rule(out, *inputs, arg)`` for the three ops with a constant argument; ``dot`` takes its inputs
grouped, see ``rule_args``). It is written with Python's operators and the few math functions
below, so the *same* function is read by every interpreter of the graph:

* the eager engine calls it with floats when an op runs (``Value.tanh`` stores its result in
  ``local_grads``);
* ``autodiff.grad(..., create_graph=True)`` calls it with Values, so the local derivative is itself
  a graph that can be differentiated again (second and higher derivatives);
* further interpreters (source text, arrays) register their own versions of the math functions
  with ``register_math``.

The math functions (``exp log sqrt sin cos sigmoid div power sign where``) follow IEEE 754 as
PyTorch does: ``div(1.0, 0.0)`` is inf and ``log(0.0)`` is -inf rather than an exception, so a rule
evaluated at an edge point (sqrt at 0, ``0 ** y``) gives what ``backward()`` gives there. The
user-facing ops in ``engine`` check their domain first and raise an error naming the op; the rules
never raise.

A piecewise rule (relu, abs, leaky_relu, huber) says its branch once with
``where(condition, a, b)``; on floats and Values the condition is a plain bool, and the two
branches are constant tuples, so a ReLU stores a shared tuple instead of making a new one per node.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "Op",
    "OPS",
    "DERIVATIVE_RULES",
    "register_math",
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "sigmoid",
    "div",
    "power",
    "sign",
    "where",
    "fsum",
    "rule_args",
]

T = TypeVar("T")
Rule = Callable[..., Sequence[Any]]

_INF = math.inf
_NAN = math.nan


# ----------------------------------------------------------------------------------------------
# The math functions on floats (IEEE: inf and nan instead of exceptions)
# ----------------------------------------------------------------------------------------------


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -_INF if x == 0.0 else _NAN  # log 0 = -inf; log of a negative or nan is nan


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else _NAN


def _sin(x: float) -> float:
    try:
        return math.sin(x)
    except ValueError:  # sin(inf)
        return _NAN


def _cos(x: float) -> float:
    try:
        return math.cos(x)
    except ValueError:
        return _NAN


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow: e^-x is only taken for x >= 0, e^x for x < 0."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)  # nan stays nan
    return e / (1.0 + e)


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return _NAN  # 0/0 and nan/0
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _is_odd_integer(n: float) -> bool:
    return math.isfinite(n) and n == int(n) and int(n) % 2 == 1


def _pow(x: float, n: float) -> float:
    """x ** n as C's pow: 0 ** -1 is inf, a negative base to a non-integer power is nan."""
    try:
        return math.pow(x, n)
    except OverflowError:
        return -_INF if (x < 0.0 and _is_odd_integer(n)) else _INF
    except ValueError:
        if x == 0.0:  # zero to a negative power
            return math.copysign(_INF, x) if _is_odd_integer(n) else _INF
        return _NAN


def _fsum(xs: Sequence[float]) -> float:
    """The exactly rounded sum; where that fails (inf - inf, overflow) what ``+`` gives."""
    try:
        return math.fsum(xs)
    except (ValueError, OverflowError):
        return _plus_sum(xs)


def _plus_sum(xs: Iterable[float]) -> float:
    """x_1 + x_2 + ... left to right: inf and nan where ``fsum`` has no float answer."""
    total = 0.0
    for x in xs:
        total += x
    return total


def _sign(x: float) -> float:
    """1, -1, else 0 (at 0, and at nan as torch.sign)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0


# ----------------------------------------------------------------------------------------------
# Dispatch: a float goes straight to the functions above; any other type to its registered
# namespace (engine registers Value's; a compiler registers its own).
# ----------------------------------------------------------------------------------------------

_NAMESPACES: dict[type, Any] = {}


def register_math(kind: type, namespace: Any) -> None:
    """Make the math functions work on ``kind``: ``namespace.exp(x)`` etc. are called for it.

    ``namespace`` needs the attributes ``exp log sqrt sin cos sigmoid div power sign``; subclasses
    of ``kind`` use it too.
    """
    _NAMESPACES[kind] = namespace


def _namespace(x: object) -> Any:
    kind = type(x)
    found = _NAMESPACES.get(kind)
    if found is None:
        for base in kind.__mro__[1:]:
            found = _NAMESPACES.get(base)
            if found is not None:
                _NAMESPACES[kind] = found
                break
        else:
            raise TypeError(f"no math functions registered for {kind.__name__!r} (register_math)")
    return found


def _is_number(x: object) -> bool:
    return type(x) is float or type(x) is int


def exp(x: Any) -> Any:
    """e^x (inf past 709.78)."""
    return _exp(x) if _is_number(x) else _namespace(x).exp(x)


def log(x: Any) -> Any:
    """ln x: -inf at 0, nan below."""
    return _log(x) if _is_number(x) else _namespace(x).log(x)


def sqrt(x: Any) -> Any:
    """The square root, nan below 0."""
    return _sqrt(x) if _is_number(x) else _namespace(x).sqrt(x)


def sin(x: Any) -> Any:
    """Sine (nan at +-inf)."""
    return _sin(x) if _is_number(x) else _namespace(x).sin(x)


def cos(x: Any) -> Any:
    """Cosine (nan at +-inf)."""
    return _cos(x) if _is_number(x) else _namespace(x).cos(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x)."""
    return _sigmoid(x) if _is_number(x) else _namespace(x).sigmoid(x)


def div(a: Any, b: Any) -> Any:
    """a / b with IEEE's answers at b = 0 (+-inf, or nan for 0 / 0)."""
    if _is_number(a) and _is_number(b):
        return _div(a, b)
    return _namespace(b if _is_number(a) else a).div(a, b)


def power(x: Any, n: Any) -> Any:
    """x ** n with C's answers at the edges (0 ** -1 = inf, (-8) ** 0.5 = nan)."""
    if _is_number(x) and _is_number(n):
        return _pow(x, n)
    return _namespace(n if _is_number(x) else x).power(x, n)


def sign(x: Any) -> Any:
    """sign(x) as a number: 1, -1, 0 at 0 (and at nan, as torch.sign).

    Piecewise constant, so its derivative is 0: even on a Value it is a plain float."""
    return _sign(x) if _is_number(x) else _namespace(x).sign(x)


def where(condition: Any, a: T, b: T) -> T:
    """``a`` if ``condition`` else ``b``: the one form of a branch that every interpreter reads.

    On floats and Values the condition is a bool (comparisons of Values compare their data).
    """
    if condition is True or condition is False:
        return a if condition else b
    return _namespace(condition).where(condition, a, b)  # type: ignore[no-any-return]


def fsum(xs: Sequence[float]) -> float:
    """The exactly rounded sum of floats; inf or nan where ``+`` would give them."""
    return _fsum(xs)


# ----------------------------------------------------------------------------------------------
# The ops: forward on floats, and the rule. ``out`` is the op's result, then come its inputs.
# ----------------------------------------------------------------------------------------------


class Op(NamedTuple):
    """A primitive op: its forward on floats (IEEE, never raising), its rule, its math."""

    forward: Callable[..., float]
    rule: Rule
    math: str
    has_arg: bool = False  # the rule and forward take a constant argument after the inputs


_ONES_2 = (1.0, 1.0)
_ADD_SUB = (1.0, -1.0)
_ONE = (1.0,)
_ZERO = (0.0,)
_MINUS_ONE = (-1.0,)


def d_add(out: Any, a: Any, b: Any) -> Sequence[Any]:
    return _ONES_2  # d(a+b)/da = 1, d(a+b)/db = 1


def d_sub(out: Any, a: Any, b: Any) -> Sequence[Any]:
    return _ADD_SUB  # d(a-b)/da = 1, d(a-b)/db = -1


def d_mul(out: Any, a: Any, b: Any) -> Sequence[Any]:
    return (b, a)  # d(ab)/da = b, d(ab)/db = a


def d_div(out: Any, a: Any, b: Any) -> Sequence[Any]:
    return (div(1.0, b), -div(out, b))  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b


def d_pow_const(out: Any, x: Any, n: float) -> Sequence[Any]:
    # d x^n/dx = n x^(n-1): 0 for n = 0 (even where x^-1 is inf), 1 for n = 1 (0^0 = 1)
    if n == 0.0:
        return _ZERO
    if n == 1.0:
        return _ONE
    return (n * power(x, n - 1.0),)


def d_const_pow(out: Any, x: Any, c: float) -> Sequence[Any]:
    return (out * log(c),)  # d c^x/dx = c^x ln c, for a constant base c > 0


def d_pow(out: Any, x: Any, y: Any) -> Sequence[Any]:
    # d x^y/dx = y x^(y-1);  d x^y/dy = x^y ln x, and 0 at x = 0 (PyTorch's choice)
    return (y * power(x, y - 1.0), where(x > 0.0, out * log(x), 0.0))


def d_neg(out: Any, x: Any) -> Sequence[Any]:
    return _MINUS_ONE  # d(-x)/dx = -1


def d_abs(out: Any, x: Any) -> Sequence[Any]:
    return (sign(x),)  # d|x|/dx = sign(x), 0 at the kink (PyTorch's choice)


def d_exp(out: Any, x: Any) -> Sequence[Any]:
    return (out,)  # d e^x/dx = e^x


def d_log(out: Any, x: Any) -> Sequence[Any]:
    return (div(1.0, x),)  # d ln x/dx = 1/x


def d_sqrt(out: Any, x: Any) -> Sequence[Any]:
    return (div(0.5, out),)  # d sqrt(x)/dx = 1 / (2 sqrt(x)): inf at 0


def d_tanh(out: Any, x: Any) -> Sequence[Any]:
    return (1.0 - out * out,)  # d tanh(x)/dx = 1 - tanh(x)^2


def d_sigmoid(out: Any, x: Any) -> Sequence[Any]:
    return (out * (1.0 - out),)  # d s(x)/dx = s(x) (1 - s(x))


def d_relu(out: Any, x: Any) -> Sequence[Any]:
    # d relu(x)/dx = 0 if x <= 0 else 1: relu'(0) = 0, and 1 at nan (torch's threshold_backward)
    return where(x <= 0.0, _ZERO, _ONE)


def d_leaky_relu(out: Any, x: Any, slope: float) -> Sequence[Any]:
    return where(x > 0.0, _ONE, (slope,))  # d/dx = 1 if x > 0 else slope


def d_sin(out: Any, x: Any) -> Sequence[Any]:
    return (cos(x),)  # d sin(x)/dx = cos(x)


def d_cos(out: Any, x: Any) -> Sequence[Any]:
    return (-sin(x),)  # d cos(x)/dx = -sin(x)


def d_softplus(out: Any, x: Any) -> Sequence[Any]:
    return (sigmoid(x),)  # d log(1 + e^x)/dx = sigmoid(x)


def d_sum(out: Any, *xs: Any) -> Sequence[Any]:
    return (1.0,) * len(xs)  # d(x_1 + ... + x_n)/dx_i = 1


def d_dot(out: Any, ws: Sequence[Any], xs: Sequence[Any], *bias: Any) -> Sequence[Any]:
    # d(w.x + b)/dw_i = x_i, d/dx_i = w_i, d/db = 1. The parents are (*ws, *xs[, b]); the rule
    # takes them grouped (rule_args), so the eager op builds one tuple, not three (bench: moons)
    if bias:
        return (*xs, *ws, 1.0)
    return (*xs, *ws)


def d_huber(out: Any, d: Any, delta: float) -> Sequence[Any]:
    # d/dd [d^2 / 2 if |d| <= delta else delta (|d| - delta / 2)] = d, else delta sign(d)
    return where(abs(d) <= delta, (d,), (delta * sign(d),))


def d_max_shift(out: Any, *xs: Any) -> Sequence[Any]:
    # m = max_i x_i taken as a constant: log-sum-exp is m + log sum_i e^(x_i - m) for every m, so
    # its gradient does not depend on m, and d m/dx_i = 0 by definition (a "stop gradient")
    return (0.0,) * len(xs)


def d_eq(out: Any, x: Any, k: float) -> Sequence[Any]:
    return _ZERO  # [x == k] is piecewise constant: d/dx = 0 (a one-hot entry of a label)


def rule_args(op: str, inputs: Sequence[Any]) -> tuple[Any, ...]:
    """The arguments after ``out`` with which ``op``'s rule is called, from its flat inputs.

    Every op takes its inputs as they are, except ``dot``: ``(ws, xs[, b])``.
    """
    if op == "dot":
        n = len(inputs) >> 1
        return (tuple(inputs[:n]), tuple(inputs[n : 2 * n]), *inputs[2 * n :])
    return tuple(inputs)


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # max(0, x); nan stays nan (x <= 0 is False for nan)


def _leaky_relu(x: float, slope: float) -> float:
    return x if x > 0.0 else slope * x


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(_exp(-abs(x)))  # log(1 + e^x), stably for large |x|


def _dot(ws: Sequence[float], xs: Sequence[float], *bias: float) -> float:
    return _fsum([*(w * x for w, x in zip(ws, xs)), *bias])


def _sum(*xs: float) -> float:
    return _fsum(xs)


def _huber(d: float, delta: float) -> float:
    return 0.5 * d**2 if abs(d) <= delta else delta * (abs(d) - 0.5 * delta)


def _max_shift(*xs: float) -> float:
    return max(xs)


def _eq(x: float, k: float) -> float:
    return 1.0 if x == k else 0.0


OPS: dict[str, Op] = {
    "+": Op(lambda a, b: a + b, d_add, "d(a+b)/da = 1, d(a+b)/db = 1"),
    "-": Op(lambda a, b: a - b, d_sub, "d(a-b)/da = 1, d(a-b)/db = -1"),
    "*": Op(lambda a, b: a * b, d_mul, "d(ab)/da = b, d(ab)/db = a"),
    "/": Op(_div, d_div, "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2"),
    "**": Op(_pow, d_pow_const, "d x^n/dx = n x^(n-1)", has_arg=True),
    "c**x": Op(lambda x, c: _pow(c, x), d_const_pow, "d c^x/dx = c^x ln c", has_arg=True),
    "pow": Op(_pow, d_pow, "d x^y/dx = y x^(y-1), d x^y/dy = x^y ln x"),
    "neg": Op(lambda x: -x, d_neg, "d(-x)/dx = -1"),
    "abs": Op(abs, d_abs, "d|x|/dx = sign(x)"),
    "exp": Op(_exp, d_exp, "d e^x/dx = e^x"),
    "log": Op(_log, d_log, "d ln x/dx = 1/x"),
    "sqrt": Op(_sqrt, d_sqrt, "d sqrt(x)/dx = 1 / (2 sqrt(x))"),
    "tanh": Op(math.tanh, d_tanh, "d tanh(x)/dx = 1 - tanh(x)^2"),
    "sigmoid": Op(_sigmoid, d_sigmoid, "d s(x)/dx = s(x) (1 - s(x))"),
    "relu": Op(_relu, d_relu, "d relu(x)/dx = 1 if x > 0 else 0"),
    "leaky_relu": Op(_leaky_relu, d_leaky_relu, "d/dx = 1 if x > 0 else slope", has_arg=True),
    "sin": Op(_sin, d_sin, "d sin(x)/dx = cos(x)"),
    "cos": Op(_cos, d_cos, "d cos(x)/dx = -sin(x)"),
    "softplus": Op(_softplus, d_softplus, "d log(1 + e^x)/dx = sigmoid(x)"),
    "sum": Op(_sum, d_sum, "d(x_1 + ... + x_n)/dx_i = 1"),
    "dot": Op(_dot, d_dot, "d(w.x + b)/dw_i = x_i, d/dx_i = w_i, d/db = 1"),
    # the losses' pieces: Huber's two branches as one op, log-sum-exp's shift, a label's one-hot
    "huber": Op(_huber, d_huber, "d/dd = d if |d| <= delta else delta sign(d)", has_arg=True),
    "max_shift": Op(_max_shift, d_max_shift, "d m/dx_i = 0 (a constant shift)"),
    "==": Op(_eq, d_eq, "d [x == k]/dx = 0", has_arg=True),
}

#: ``DERIVATIVE_RULES[op](out, *inputs[, arg])``: the rule of every op, built-in and custom.
#: ``custom_op(..., rule=fn)`` adds its rule here.
DERIVATIVE_RULES: dict[str, Rule] = {name: op.rule for name, op in OPS.items()}

BUILTIN_OPS = frozenset(OPS)
