"""The autograd engine: ``Value``, its primitive operations, ``backward()`` and the gradient modes.

A ``Value`` wraps one Python float. Every operation on Values makes a new Value that remembers

* ``parents``: the Values it was computed from, in a fixed order (a tuple, never a set), and
* ``local_grads``: for each parent p, the number d self / d p, worked out when the op ran.

That is the whole computation graph. ``backward()`` walks it once in reverse topological order and
applies the chain rule exactly as written on the board::

    parent.grad += local_grad * node.grad        # d L/d parent += d node/d parent * d L/d node

A node used k times receives the sum of its k contributions (the multivariate chain rule).

Design decisions (measured, see DESIGN.md):

* Nodes point only to their parents and keep numbers, not closures, so the graph has no reference
  cycles: it is freed by reference counting the moment the output is dropped, and Python's cyclic
  garbage collector never has to crawl it.
* The topological sort uses an explicit stack, so a 1,000,000-deep chain back-propagates under the
  default recursion limit.
* ``Value.sum`` and ``dot`` are n-ary: a neuron ``w . x + b`` is one node of fan-in n, not n
  additions.
* Each op's local-derivative rule is also written once as a function of Values
  (``DERIVATIVE_RULES``), which ``tinygrad_edu.autodiff.grad(..., create_graph=True)`` calls to
  build the backward pass out of Value ops, so gradients can be differentiated again, to any order.

Primitive ops: ``+ - * / **`` (constant exponent, constant base, Value exponent), unary ``-``,
``abs``, ``exp``, ``log``, ``sqrt``, ``tanh``, ``sigmoid``, ``relu``, ``leaky_relu``, ``sin``,
``cos``, ``softplus``, ``sum`` and ``dot``. At kinks PyTorch's convention holds: relu'(0) = 0 and
abs'(0) = 0.
"""

from __future__ import annotations

import math
import numbers
import operator
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Union

from tinygrad_edu.modes import (
    _ANOMALY,
    _MODE,
    _RECORD,
    AnomalyError,
    _creation_site,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)

__all__ = [
    "Value",
    "Parameter",
    "Number",
    "dot",
    "dot_of_values",
    "custom_op",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
    "topological_order",
    "DERIVATIVE_RULES",
]

Number = Union[int, float]  # noqa: UP007 (a runtime alias, kept valid on Python 3.10)


# ----------------------------------------------------------------------------------------------
# Value
# ----------------------------------------------------------------------------------------------


def _to_float(x: object, op: str) -> float:
    """Convert an accepted number (int, float, bool, NumPy real scalar) to float, or raise."""
    if isinstance(x, (float, int)):  # bool is an int
        return float(x)
    if isinstance(x, numbers.Real):  # NumPy floating and integer scalars, Fraction
        return float(x)
    raise TypeError(
        f"{op}: unsupported operand type {type(x).__name__!r} "
        f"(expected a Value or a real number: int, float, bool, NumPy scalar)"
    )


def _as_value(x: object, op: str) -> Value:
    """A Value as is; a plain number as a constant leaf (``requires_grad=False``)."""
    if isinstance(x, Value):
        return x
    return _node(_to_float(x, op), "", (), ())  # the fast path of Value(x, requires_grad=False)


# Where each node was made, recorded only inside detect_anomaly. A side table rather than a slot:
# every Value would pay 8 bytes for a field that is almost always empty (see bench.py, memory).
_ORIGINS: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()


def _as_values(items: Iterable[object], op: str) -> tuple[Value, ...]:
    """A tuple of Values from Values and plain numbers (numbers become constant leaves)."""
    items = tuple(items)
    # One C-level pass over the types (_VALUE_TYPES, defined after Parameter) decides the common
    # case, all Values, without a Python loop:
    # 1.1 us for 16 Values, against 2.8 us for calling _as_value on each (timeit, CPython 3.11).
    if _VALUE_TYPES.issuperset(map(type, items)):
        return items  # type: ignore[return-value]
    return tuple(_as_value(x, op) for x in items)


def _node(
    data: float,
    op: str,
    parents: tuple[Value, ...],
    local_grads: tuple[float, ...],
    arg: float | None = None,
) -> Value:
    """Make an op's result; record its edges in grad mode if some parent needs a gradient."""
    out = Value.__new__(Value)  # skips __init__'s conversion and checks: 0.56 us, not 0.93 us
    out.data = data
    out.grad = 0.0
    out.label = None
    out.op = op
    out.arg = arg
    out.parents = ()
    out.local_grads = ()
    out.requires_grad = False  # a constant leaf, unless grad mode is on and some parent needs grad
    mode = _MODE.get()
    if mode & _RECORD:
        for parent in parents:  # a plain loop: cheaper than any() with a generator on this hot path
            if parent.requires_grad:
                out.parents = parents
                out.local_grads = local_grads
                out.requires_grad = True
                break
    if mode & _ANOMALY:
        origin = _ORIGINS[out] = _creation_site()
        if parents and not math.isfinite(data):  # a constant leaf (no parents) produced nothing
            raise AnomalyError(
                f"{op}: forward produced {data!r} from inputs "
                f"{[p.data for p in parents]} at {origin}"
            )
    return out


def _overflow(op: str, value: object) -> OverflowError:
    return OverflowError(f"{op}: result overflows a float for input {value!r}")


class Value:
    """One scalar in a computation graph.

    Attributes:
        data: the number (a Python float).
        grad: d output / d self after ``output.backward()``; 0.0 at first. Leaves (no parents)
            accumulate across ``backward()`` calls, as in PyTorch; interior nodes show the gradient
            of the latest call only (PyTorch does not keep interior gradients at all).
        label: an optional name, used by ``repr`` and the drawings.
        op: the name of the op that made this Value ('' for a leaf).
        parents: the Values it was computed from, in order.
        local_grads: for each parent p, d self / d p.
        requires_grad: whether gradients flow to this Value. User-made Values: True by default;
            constants that ops make from plain numbers, and results under ``no_grad``: False.
        arg: the op's constant argument, if any (the exponent of ``x ** 3``, the slope of
            ``leaky_relu``, the base of ``2 ** x``).
        origin: ``file:line`` where it was made (only recorded inside ``detect_anomaly``).
    """

    # Slots, not a __dict__: 104 bytes per Value instead of 145 (tracemalloc, CPython 3.11).
    __slots__ = (
        "data",
        "grad",
        "label",
        "op",
        "parents",
        "local_grads",
        "requires_grad",
        "arg",
        "__weakref__",
    )
    # Make NumPy scalars on the left defer to our reflected methods (np.float64(2) * v).
    __array_ufunc__ = None

    def __init__(
        self, data: float | int | Value, label: str | None = None, requires_grad: bool = True
    ) -> None:
        if isinstance(data, Value):
            data = data.data
        self.data: float = _to_float(data, "Value")
        self.grad: float = 0.0
        self.label: str | None = label
        self.op: str = ""
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()
        self.requires_grad: bool = bool(requires_grad)
        self.arg: float | None = None
        if _MODE.get() & _ANOMALY:
            _ORIGINS[self] = _creation_site()

    @property
    def origin(self) -> str | None:
        """``file:line`` where this Value was made, if it was made inside ``detect_anomaly``."""
        return _ORIGINS.get(self)

    # -- binary arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other, "+")
        # d(a+b)/da = 1, d(a+b)/db = 1
        return _node(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __radd__(self, other: Number) -> Value:
        return _as_value(other, "+") + self

    def __sub__(self, other: Value | Number) -> Value:
        other = _as_value(other, "-")
        # d(a-b)/da = 1, d(a-b)/db = -1
        return _node(self.data - other.data, "-", (self, other), (1.0, -1.0))

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other, "-") - self

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other, "*")
        # d(ab)/da = b, d(ab)/db = a
        return _node(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __rmul__(self, other: Number) -> Value:
        return _as_value(other, "*") * self

    def __truediv__(self, other: Value | Number) -> Value:
        other = _as_value(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({a!r} / {b!r})")
        out = a / b
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b
        return _node(out, "/", (self, other), (1.0 / b, -out / b))

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other, "/") / self

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value) and other.requires_grad:
            return _pow_value(self, other)
        n = other.data if isinstance(other, Value) else _to_float(other, "**")
        x = self.data
        out = _checked_pow(x, n, "**")
        # d x^n/dx = n x^(n-1); at x = 0: 0 for n = 0, inf for 0 < n < 1 (as PyTorch)
        if x == 0.0 and n < 1.0:
            local = 0.0 if n == 0.0 else math.inf
        else:
            local = n * _checked_pow(x, n - 1.0, "**")
        return _node(out, "**", (self,), (local,), arg=n)

    def __rpow__(self, other: Number) -> Value:
        if isinstance(other, Value):  # pragma: no cover - Python calls __pow__ then
            return other**self
        c = _to_float(other, "**")
        if c <= 0.0:  # no real logarithm: the general rule decides (and explains) what is allowed
            return _as_value(c, "**") ** self
        out = _checked_pow(c, self.data, "**")
        # d c^x/dx = c^x ln c
        return _node(out, "c**x", (self,), (out * math.log(c),), arg=c)

    # -- unary ops -----------------------------------------------------------------------------

    def __neg__(self) -> Value:
        # d(-x)/dx = -1
        return _node(-self.data, "neg", (self,), (-1.0,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        x = self.data
        # d|x|/dx = sign(x), and 0 at the kink x = 0 (PyTorch's choice)
        return _node(abs(x), "abs", (self,), (_sign(x),))

    def abs(self) -> Value:
        """|x|, with derivative sign(x) and 0 at 0."""
        return self.__abs__()

    def exp(self) -> Value:
        """e^x; raises OverflowError naming the input past x ~ 709.78."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise _overflow("exp", self.data) from None
        # d e^x/dx = e^x
        return _node(out, "exp", (self,), (out,))

    def log(self) -> Value:
        """Natural logarithm, defined for x > 0."""
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log: input must be > 0, got {x!r}")
        # d ln x/dx = 1/x
        return _node(math.log(x), "log", (self,), (1.0 / x,))

    def sqrt(self) -> Value:
        """Square root, defined for x >= 0 (derivative inf at 0)."""
        x = self.data
        if not x >= 0.0:
            raise ValueError(f"sqrt: input must be >= 0, got {x!r}")
        out = math.sqrt(x)
        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        return _node(out, "sqrt", (self,), (0.5 / out if out > 0.0 else math.inf,))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        t = math.tanh(self.data)
        # d tanh(x)/dx = 1 - tanh(x)^2
        return _node(t, "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        """The logistic function 1 / (1 + e^-x), computed without overflow."""
        s = _sigmoid(self.data)
        # d s(x)/dx = s(x) (1 - s(x))
        return _node(s, "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        """max(0, x), with derivative 1 for x > 0 and 0 for x <= 0 (relu'(0) = 0)."""
        x = self.data
        # d relu(x)/dx = 1 if x > 0 else 0. The two literal tuples are constants: no new tuple per
        # node (48 bytes less per ReLU; 3,300 ReLUs per moons step).
        if x > 0.0:
            return _node(x, "relu", (self,), (1.0,))
        return _node(0.0, "relu", (self,), (0.0,))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, slope * x otherwise (derivative 1 or slope; slope at 0)."""
        slope = _to_float(slope, "leaky_relu")
        x = self.data
        # d/dx = 1 if x > 0 else slope
        if x > 0.0:
            return _node(x, "leaky_relu", (self,), (1.0,), arg=slope)
        return _node(slope * x, "leaky_relu", (self,), (slope,), arg=slope)

    def sin(self) -> Value:
        """Sine."""
        # d sin(x)/dx = cos(x)
        return _node(math.sin(self.data), "sin", (self,), (math.cos(self.data),))

    def cos(self) -> Value:
        """Cosine."""
        # d cos(x)/dx = -sin(x)
        return _node(math.cos(self.data), "cos", (self,), (-math.sin(self.data),))

    def softplus(self) -> Value:
        """log(1 + e^x), computed stably for large |x|."""
        x = self.data
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        # d softplus(x)/dx = sigmoid(x)
        return _node(out, "softplus", (self,), (_sigmoid(x),))

    # -- n-ary ops -----------------------------------------------------------------------------

    @staticmethod
    def sum(values: Iterable[Value | Number]) -> Value:
        """The sum of many Values as one node of fan-in n (each local derivative is 1)."""
        parents = _as_values(values, "sum")
        return _node(math.fsum(p.data for p in parents), "sum", parents, (1.0,) * len(parents))

    # -- graph utilities -----------------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Back-propagate d self / d node into every node's ``.grad``.

        Leaves accumulate (``+=``) across calls, as in PyTorch; interior nodes are reset first, so
        they show this call's gradient only. Iterative: no recursion limit on depth.
        """
        seed = _to_float(grad, "backward")
        order = topological_order(self)
        # This call's gradients are summed from zero everywhere; a leaf's earlier gradient is added
        # back at the end, so two calls give exactly twice the gradient of one.
        earlier = []
        for node in order:
            if node.grad != 0.0 and not node.parents:
                earlier.append((node, node.grad))
            node.grad = 0.0
        self.grad = seed
        if _MODE.get() & _ANOMALY:
            _backward_checked(order)
        else:
            # The chain rule, once per node, from the output back to the leaves.
            for node in reversed(order):
                g = node.grad
                for parent, local in zip(node.parents, node.local_grads):
                    parent.grad += local * g
        for leaf, g in earlier:
            leaf.grad += g

    def detach(self) -> Value:
        """A new constant leaf with the same data: no parents, ``requires_grad=False``."""
        return Value(self.data, label=self.label, requires_grad=False)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0."""
        self.grad = 0.0

    def is_leaf(self) -> bool:
        """True if this Value has no parents (a parameter, an input or a constant)."""
        return not self.parents

    # -- conversions and display ---------------------------------------------------------------

    def __float__(self) -> float:
        return self.data

    def item(self) -> float:
        """The data as a Python float (PyTorch's name)."""
        return self.data

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # Comparisons look at the data only (no gradient flows through them).
    def __lt__(self, other: Value | Number) -> bool:
        return self.data < _as_value(other, "<").data

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= _as_value(other, "<=").data

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > _as_value(other, ">").data

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= _as_value(other, ">=").data


class Parameter(Value):
    """A Value that a model learns (weights and biases). Drawn differently from inputs."""

    __slots__ = ()


_VALUE_TYPES: frozenset[type] = frozenset((Value, Parameter))  # the types _as_values passes as is


def dot(
    ws: Sequence[Value | Number], xs: Sequence[Value | Number], bias: Value | Number | None = None
) -> Value:
    """sum_i w_i x_i (+ bias) as one node: d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1.

    This is a neuron's pre-activation ``w . x + b`` in a single node of fan-in 2n (+1): a shallower
    graph than n multiplications and n additions, clearer to draw and several times faster.
    Plain numbers on either side are taken as constants. The parents are ``(*ws, *xs[, bias])``.
    """
    if len(ws) != len(xs):
        raise ValueError(f"dot: length mismatch, {len(ws)} weights and {len(xs)} inputs")
    b = None if bias is None else _as_value(bias, "dot")
    return dot_of_values(_as_values(ws, "dot"), _as_values(xs, "dot"), b)


def dot_of_values(
    weights: Sequence[Value], inputs: Sequence[Value], bias: Value | None = None
) -> Value:
    """``dot`` for operands already known to be Values, with as many weights as inputs.

    ``nn``'s neurons call it directly: their weights are Parameters and their inputs were made
    Values once per sample, so ``dot``'s operand checks would only repeat work. Skipping them makes
    a neuron a third cheaper (4.6 us to 3.1 us at fan-in 16, timeit) and the moons step of
    ``bench.py`` 29 ms to 25 ms.
    """
    w_data = [w.data for w in weights]
    x_data = [x.data for x in inputs]
    # fsum: exactly rounded, so a neuron's output does not depend on the order of its inputs or
    # on the Python version (3.12 changed sum() of floats). map(mul) keeps the products in C;
    # the comprehensions above are faster than map(attrgetter) (0.4 us, not 0.9 us, for 16).
    if bias is None:
        total = math.fsum(map(operator.mul, w_data, x_data))
        return _node(total, "dot", (*weights, *inputs), (*x_data, *w_data))
    total = math.fsum((*map(operator.mul, w_data, x_data), bias.data))
    return _node(total, "dot", (*weights, *inputs, bias), (*x_data, *w_data, 1.0))


def custom_op(
    op: str,
    data: float,
    parents: Sequence[Value | Number],
    local_grads: Sequence[float],
) -> Value:
    """The result of an op you define yourself, recorded like a built-in one.

    You compute the op's value ``data`` and, for each parent p, its local derivative
    d out / d p; ``backward()`` then applies the chain rule through it as through any other node,
    ``no_grad`` and ``detect_anomaly`` apply, and the drawings show it under its name. For example
    |x|^3 as one node::

        def abs_cubed(x):
            return custom_op("|x|^3", abs(x.data) ** 3, (x,), (3 * x.data * abs(x.data),))

    Getting the local derivatives right is up to you: check them with ``gradcheck``. For
    ``grad(..., create_graph=True)`` (second derivatives) also register the rule written with Value
    ops, ``DERIVATIVE_RULES[op] = lambda node: (...)``, as for the built-in ops.

    Raises:
        ValueError: ``op`` is empty or a built-in op's name, or the lengths of ``parents`` and
            ``local_grads`` differ.
    """
    if not isinstance(op, str) or not op:
        raise ValueError(f"custom_op: op must be a non-empty name, got {op!r}")
    if op in _BUILTIN_OPS:
        raise ValueError(
            f"custom_op: {op!r} is a built-in op (its derivative rule would be used for yours); "
            f"choose another name"
        )
    nodes = _as_values(parents, op)
    locals_ = tuple(_to_float(g, op) for g in local_grads)
    if len(locals_) != len(nodes):
        raise ValueError(
            f"{op}: {len(nodes)} parents but {len(locals_)} local derivatives (one per parent)"
        )
    return _node(_to_float(data, op), op, nodes, locals_)


# ----------------------------------------------------------------------------------------------
# helpers of the ops
# ----------------------------------------------------------------------------------------------


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _checked_pow(x: float, n: float, op: str) -> float:
    """x ** n for floats, with errors that name the op (never a complex result)."""
    if x < 0.0 and n != int(n):
        raise ValueError(f"{op}: negative base {x!r} to a non-integer power {n!r} is not real")
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"{op}: zero base to a negative power ({x!r} ** {n!r})")
    try:
        return x**n
    except OverflowError:
        raise _overflow(op, (x, n)) from None


def _pow_value(base: Value, exponent: Value) -> Value:
    """x ** y with y a Value that needs a gradient; needs x > 0 (x = 0 with y > 0 allowed)."""
    x, y = base.data, exponent.data
    if x < 0.0 or (x == 0.0 and y <= 0.0):
        raise ValueError(
            f"**: with a differentiable exponent the base must be > 0 (or 0 with exponent > 0), "
            f"got {x!r} ** {y!r}"
        )
    out = _checked_pow(x, y, "**")
    # d x^y/dx = y x^(y-1),  d x^y/dy = x^y ln x  (0 at x = 0)
    dx = y * _checked_pow(x, y - 1.0, "**") if (x != 0.0 or y >= 1.0) else math.inf
    dy = out * math.log(x) if x > 0.0 else 0.0
    return _node(out, "pow", (base, exponent), (dx, dy))


def _backward_checked(order: list[Value]) -> None:
    """The backward loop of ``detect_anomaly``: stop at the first NaN or inf, naming the node."""
    for node in reversed(order):
        g = node.grad
        for parent, local in zip(node.parents, node.local_grads):
            contribution = local * g
            parent.grad += contribution
            if not math.isfinite(parent.grad):
                where = node.origin or "<made outside detect_anomaly>"
                raise AnomalyError(
                    f"backward of {node.op!r} (created at {where}) produced {parent.grad!r}: "
                    f"local derivative {local!r} x upstream gradient {g!r}"
                )


def topological_order(root: Value) -> list[Value]:
    """All nodes that ``root`` depends on, each after its parents (root last).

    Iterative depth-first search with an explicit stack, so depth is unlimited. Deterministic:
    parents are visited in their stored order.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[Value | None] = [root]
    # A node is pushed, then a None marker above it, then its unvisited parents above that: when the
    # marker comes off the stack, all of the node's parents are done and the node goes in the order.
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())  # type: ignore[arg-type]
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append(node)
        stack.append(None)
        for parent in reversed(node.parents):
            if parent not in visited:
                stack.append(parent)
    return order


# ----------------------------------------------------------------------------------------------
# Local-derivative rules written with Value ops, for higher-order derivatives.
# Each takes (node) and returns d node / d parent for each parent, as Values or floats; they
# compute the same numbers as the float rules above, but as a graph that can be differentiated.
# ----------------------------------------------------------------------------------------------


def _rule_pow_const(node: Value) -> tuple[Value | float, ...]:
    (x,) = node.parents
    n = node.arg
    assert n is not None
    if n == 0.0:
        return (0.0,)
    if n == 1.0:
        return (1.0,)
    return (n * x ** (n - 1.0),)


def _rule_pow_value(node: Value) -> tuple[Value | float, ...]:
    x, y = node.parents
    return (y * x ** (y - 1.0), node * x.log())


def _rule_dot(node: Value) -> tuple[Value | float, ...]:
    n = len(node.parents) // 2  # parents are (*ws, *xs) or (*ws, *xs, bias)
    ws, xs = node.parents[:n], node.parents[n : 2 * n]
    return xs + ws + ((1.0,) if len(node.parents) % 2 else ())


DERIVATIVE_RULES: dict[str, Callable[[Value], tuple[Value | float, ...]]] = {
    "+": lambda node: (1.0, 1.0),
    "-": lambda node: (1.0, -1.0),
    "*": lambda node: (node.parents[1], node.parents[0]),
    "/": lambda node: (1.0 / node.parents[1], -node / node.parents[1]),
    "**": _rule_pow_const,
    "c**x": lambda node: (node * math.log(node.arg or 0.0),),  # arg: the constant base c > 0
    "pow": _rule_pow_value,
    "neg": lambda node: (-1.0,),
    "abs": lambda node: (node.local_grads[0],),  # sign(x): piecewise constant
    "exp": lambda node: (node,),
    "log": lambda node: (1.0 / node.parents[0],),
    "sqrt": lambda node: (0.5 / node,),
    "tanh": lambda node: (1.0 - node * node,),
    "sigmoid": lambda node: (node * (1.0 - node),),
    "relu": lambda node: (node.local_grads[0],),  # 0 or 1: piecewise constant
    "leaky_relu": lambda node: (node.local_grads[0],),  # 1 or slope
    "sin": lambda node: (node.parents[0].cos(),),
    "cos": lambda node: (-node.parents[0].sin(),),
    "softplus": lambda node: (node.parents[0].sigmoid(),),
    "sum": lambda node: (1.0,) * len(node.parents),
    "dot": _rule_dot,
}

_BUILTIN_OPS = frozenset(DERIVATIVE_RULES)
