"""``Value``, the node of the computation graph, and ``backward()``.

A ``Value`` wraps one Python float. Every operation on Values makes a new Value that remembers

* ``parents``: the Values it was computed from, in a fixed order (a tuple, never a set), and
* ``local_grads``: for each parent p, the number d self / d p, worked out when the op ran.

That is the whole computation graph. ``backward()`` walks it once in reverse topological order and
applies the chain rule exactly as written on the board::

    parent.grad += local_grad * node.grad        # d L/d parent += d node/d parent * d L/d node

A node used k times receives the sum of its k contributions (the multivariate chain rule).

Each op's local derivative is written once, as a rule in ``tinygrad_edu.ops`` that works on floats
and on Values: the methods below call it with floats, ``autodiff.grad(..., create_graph=True)``
with Values (to differentiate again). Nodes keep numbers, not closures, so the graph has no
reference cycles and is freed by reference counting the moment the output is dropped; the
topological sort uses an explicit stack, so depth is unlimited.

Primitive ops: ``+ - * / **`` (constant exponent, constant base, Value exponent), unary ``-``,
``abs``, ``exp``, ``log``, ``sqrt``, ``tanh``, ``sigmoid``, ``relu``, ``leaky_relu``, ``sin``,
``cos``, ``softplus``, ``sum`` and ``dot``; for the losses ``huber``, ``max_shift`` (log-sum-exp's
shift, derivative 0) and ``eq`` (a one-hot entry, derivative 0). At kinks PyTorch's convention
holds: relu'(0) = 0 and abs'(0) = 0.
"""

from __future__ import annotations

import math
import numbers
import operator
import weakref
from collections.abc import Callable, Iterable, Sequence
from itertools import filterfalse
from typing import Any, Union

from tinygrad_edu import ops as _ops
from tinygrad_edu.modes import (
    _ANOMALY,
    _MODE,
    _RECORD,
    _TRACE,
    _TRACER,
    AnomalyError,
    _creation_site,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from tinygrad_edu.ops import (
    DERIVATIVE_RULES,
    OPS,
    d_abs,
    d_add,
    d_const_pow,
    d_cos,
    d_dot,
    d_exp,
    d_leaky_relu,
    d_log,
    d_mul,
    d_neg,
    d_pow,
    d_pow_const,
    d_relu,
    d_sigmoid,
    d_sin,
    d_softplus,
    d_sqrt,
    d_sub,
    d_sum,
    d_tanh,
)

__all__ = [
    "Value",
    "Parameter",
    "Number",
    "dot",
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
    if type(x) is float:
        return x
    # bool is an int; NumPy scalars (float64 is a float subclass) and Fraction are Real
    if isinstance(x, (float, int, numbers.Real)):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{op}: {x!r} is too large for a float") from None
    raise TypeError(
        f"{op}: unsupported operand type {type(x).__name__!r} "
        f"(expected a Value or a real number: int, float, bool, NumPy scalar)"
    )


def _as_value(x: object, op: str) -> Value:
    """A Value as is; a plain number as a constant leaf (``requires_grad=False``)."""
    if isinstance(x, Value):
        return x
    return _node(_to_float(x, op), "", (), ())  # the fast path of Value(x, requires_grad=False)


# Where each node was made, recorded only inside detect_anomaly. A side table rather than a slot,
# since every Value would pay for a field that is almost always empty (bench: memory).
_ORIGINS: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()


def _as_values(items: Iterable[object], op: str) -> tuple[Value, ...]:
    """A tuple of Values from Values and plain numbers (numbers become constant leaves)."""
    items = tuple(items)
    # One C-level pass over the types (_VALUE_TYPES, defined after Parameter) decides the common
    # case, all Values, without a Python loop over the items (bench: moons).
    if _VALUE_TYPES.issuperset(map(type, items)):
        return items  # type: ignore[return-value]
    return tuple(_as_value(x, op) for x in items)


def _node(
    data: float,
    op: str,
    parents: tuple[Value, ...],
    local_grads: Sequence[float],
    arg: float | None = None,
) -> Value:
    """Make an op's result; record its edges in grad mode if some parent needs a gradient."""
    out = Value.__new__(Value)  # skips __init__'s conversion and checks (bench: moons)
    out.data = data
    out.grad = 0.0
    out.label = None
    out.op = op
    out.arg = arg
    mode = _MODE.get()
    # Each slot is written once (a recorded node is the common case in training): a constant
    # leaf, unless grad mode is on and some parent needs a gradient.
    if mode & _RECORD:
        for parent in parents:  # a plain loop: cheaper than any() with a generator on this hot path
            if parent.requires_grad:
                out.parents = parents
                out.local_grads = local_grads  # type: ignore[assignment]
                out.requires_grad = True
                break
        else:
            out.parents = ()
            out.local_grads = ()
            out.requires_grad = False
    else:
        out.parents = ()
        out.local_grads = ()
        out.requires_grad = False
    if mode > _RECORD:  # detect_anomaly or a compiler's trace: one test on the common path
        if mode & _TRACE:
            _TRACER.get()(out, parents, local_grads)
        if mode & _ANOMALY:
            origin = _ORIGINS[out] = _creation_site()
            if parents and not math.isfinite(data):  # a constant leaf (no parents) made nothing
                raise AnomalyError(
                    f"{op}: forward produced {data!r} from inputs "
                    f"{[p.data for p in parents]} at {origin}"
                )
    return out


def _overflow(op: str, value: object) -> OverflowError:
    return OverflowError(f"{op}: result overflows a float for input {value!r}")


def _apply(op: str, inputs: tuple[Value, ...], arg: float | None = None) -> Value:
    """Run a built-in op by its table entry: IEEE forward on the data, then its rule on floats.

    The math functions of ``ops`` use it on Values (inside rules, for ``create_graph``): there an
    edge point gives inf or nan, as in PyTorch, instead of the error the user-facing method raises.
    """
    forward, rule, _, has_arg = OPS[op]
    data = _ops.rule_args(op, [v.data for v in inputs])
    if has_arg:
        out = forward(*data, arg)
        local = rule(out, *data, arg)
    else:
        out = forward(*data)
        local = rule(out, *data)
    return _node(out, op, inputs, tuple(local), arg)


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

    # -- binary arithmetic (each op's rule: ops.d_<name>) ---------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other, "+")
        out = self.data + other.data
        return _node(out, "+", (self, other), d_add(out, self.data, other.data))

    def __radd__(self, other: Number) -> Value:
        return _as_value(other, "+") + self

    def __sub__(self, other: Value | Number) -> Value:
        other = _as_value(other, "-")
        out = self.data - other.data
        return _node(out, "-", (self, other), d_sub(out, self.data, other.data))

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other, "-") - self

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other, "*")
        a, b = self.data, other.data
        out = a * b
        return _node(out, "*", (self, other), d_mul(out, a, b))

    def __rmul__(self, other: Number) -> Value:
        return _as_value(other, "*") * self

    def __truediv__(self, other: Value | Number) -> Value:
        other = _as_value(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(f"/: division by zero ({self.data!r} / {other.data!r})")
        return _apply("/", (self, other))

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other, "/") / self

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value) and other.requires_grad:
            return _pow_value(self, other)
        n = other.data if isinstance(other, Value) else _to_float(other, "**")
        x = self.data
        out = _checked_pow(x, n, "**")
        return _node(out, "**", (self,), d_pow_const(out, x, n), arg=n)

    def __rpow__(self, other: Number) -> Value:
        if isinstance(other, Value):  # pragma: no cover - Python calls __pow__ then
            return other**self
        c = _to_float(other, "**")
        if not c > 0.0:  # no real logarithm: the general rule decides (and explains) what is legal
            return _as_value(c, "**") ** self
        out = _checked_pow(c, self.data, "**")
        return _node(out, "c**x", (self,), d_const_pow(out, self.data, c), arg=c)

    # -- unary ops -----------------------------------------------------------------------------

    def __neg__(self) -> Value:
        out = -self.data
        return _node(out, "neg", (self,), d_neg(out, self.data))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        x = self.data
        out = abs(x)
        return _node(out, "abs", (self,), d_abs(out, x))

    def abs(self) -> Value:
        """|x|, with derivative sign(x) and 0 at 0."""
        return self.__abs__()

    def exp(self) -> Value:
        """e^x; raises OverflowError naming the input past x ~ 709.78."""
        x = self.data
        try:
            out = math.exp(x)
        except OverflowError:
            raise _overflow("exp", x) from None
        return _node(out, "exp", (self,), d_exp(out, x))

    def log(self) -> Value:
        """Natural logarithm, defined for x > 0."""
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log: input must be > 0, got {x!r}")
        out = math.log(x)
        return _node(out, "log", (self,), d_log(out, x))

    def sqrt(self) -> Value:
        """Square root, defined for x >= 0 (derivative inf at 0)."""
        x = self.data
        if not x >= 0.0:
            raise ValueError(f"sqrt: input must be >= 0, got {x!r}")
        out = math.sqrt(x)
        return _node(out, "sqrt", (self,), d_sqrt(out, x))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        x = self.data
        out = math.tanh(x)
        return _node(out, "tanh", (self,), d_tanh(out, x))

    def sigmoid(self) -> Value:
        """The logistic function 1 / (1 + e^-x), computed without overflow."""
        x = self.data
        out = _ops._sigmoid(x)
        return _node(out, "sigmoid", (self,), d_sigmoid(out, x))

    def relu(self) -> Value:
        """max(0, x), with derivative 1 for x > 0 and 0 for x <= 0 (relu'(0) = 0); nan stays nan."""
        x = self.data
        out = 0.0 if x <= 0.0 else x  # ops._relu, inlined on the hottest op (bench: moons)
        return _node(out, "relu", (self,), d_relu(out, x))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, slope * x otherwise (derivative 1 or slope; slope at 0)."""
        slope = _to_float(slope, "leaky_relu")
        x = self.data
        out = _ops._leaky_relu(x, slope)
        return _node(out, "leaky_relu", (self,), d_leaky_relu(out, x, slope), arg=slope)

    def sin(self) -> Value:
        """Sine, of a finite x."""
        x = _finite(self.data, "sin")
        out = math.sin(x)
        return _node(out, "sin", (self,), d_sin(out, x))

    def cos(self) -> Value:
        """Cosine, of a finite x."""
        x = _finite(self.data, "cos")
        out = math.cos(x)
        return _node(out, "cos", (self,), d_cos(out, x))

    def softplus(self) -> Value:
        """log(1 + e^x), computed stably for large |x|."""
        x = self.data
        out = _ops._softplus(x)
        return _node(out, "softplus", (self,), d_softplus(out, x))

    # -- n-ary ops -----------------------------------------------------------------------------

    @staticmethod
    def sum(values: Iterable[Value | Number]) -> Value:
        """The sum of many Values as one node of fan-in n (each local derivative is 1).

        Exactly rounded (``math.fsum``), so the result does not depend on the order of the terms;
        where that sum has no float answer (inf - inf, an overflow) the result is what ``+`` gives.
        """
        parents = _as_values(values, "sum")
        data = [p.data for p in parents]
        out = _ops._fsum(data)
        return _node(out, "sum", parents, d_sum(out, *data))

    # -- graph utilities -----------------------------------------------------------------------

    def backward(self, grad: float | Value = 1.0) -> None:
        """Back-propagate d self / d node into every node's ``.grad``.

        Leaves accumulate (``+=``) across calls, as in PyTorch; interior nodes are reset first, so
        they show this call's gradient only. Iterative: no recursion limit on depth.
        """
        seed = _to_float(grad.data if isinstance(grad, Value) else grad, "backward")
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
            try:
                _backward_checked(order)
            except AnomalyError:
                for leaf, g in earlier:  # the earlier calls' gradients survive, as in PyTorch
                    leaf.grad = g
                raise
        else:
            # The chain rule, once per node, from the output back to the leaves. A node of one
            # parent (an activation: half the nodes of an MLP) skips the zip (bench: moons).
            for node in reversed(order):
                g = node.grad
                parents = node.parents
                if len(parents) == 1:
                    parents[0].grad += node.local_grads[0] * g
                else:
                    for parent, local in zip(parents, node.local_grads):
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

    def __bool__(self) -> bool:
        """``bool(v)`` is ``bool(v.data)``: False for 0.0, as for a zero 0-d tensor in PyTorch."""
        return self.data != 0.0

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
    return _dot(_as_values(ws, "dot"), _as_values(xs, "dot"), b)


def dot_of_values(
    weights: Sequence[Value], inputs: Sequence[Value], bias: Value | None = None
) -> Value:
    """``dot`` for operands already known to be Values: the same node without the conversions.

    For code that builds neurons of its own from Values: converting each operand again would only
    repeat work. (``nn``'s layers go one step further, with ``_dot_data``: they also read each
    operand's data once per layer or batch.) The lengths are still checked, since a mismatch would
    silently pair the wrong gradients.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: length mismatch, {len(weights)} weights and {len(inputs)} inputs")
    return _dot(weights, inputs, bias)


def _dot(weights: Sequence[Value], inputs: Sequence[Value], bias: Value | None) -> Value:
    w_data, x_data = [w.data for w in weights], [x.data for x in inputs]
    return _dot_data(weights, w_data, inputs, x_data, bias, 0.0 if bias is None else bias.data)


def _dot_data(
    weights: Sequence[Value],
    w_data: Sequence[float],
    inputs: Sequence[Value],
    x_data: Sequence[float],
    bias: Value | None,
    b: float,
) -> Value:
    """The dot node from its operands and their data, read by the caller (b: the bias's data).

    A layer reads its input's data once for all its neurons, and a batch reads each weight's data
    once for all its samples, instead of once per neuron and sample (``nn``; bench: moons).
    """
    # fsum: exactly rounded, so a neuron's output does not depend on the order of its inputs or
    # on the Python version (3.12 changed sum() of floats); map(mul) keeps the products in C.
    if bias is None:
        try:
            total = math.fsum(map(operator.mul, w_data, x_data))
        except (ValueError, OverflowError):  # inf - inf, or an overflow: what + gives
            total = _ops._plus_sum(map(operator.mul, w_data, x_data))
        return _node(total, "dot", (*weights, *inputs), d_dot(total, w_data, x_data))
    try:
        total = math.fsum((*map(operator.mul, w_data, x_data), b))
    except (ValueError, OverflowError):
        total = _ops._plus_sum((*map(operator.mul, w_data, x_data), b))
    return _node(total, "dot", (*weights, *inputs, bias), d_dot(total, w_data, x_data, b))


def huber(d: Value, delta: float) -> Value:
    """Huber's function of a residual d, one node: d^2 / 2 for |d| <= delta, else
    delta (|d| - delta / 2); derivative d, else delta sign(d) (``ops.d_huber``).

    One piecewise op, like relu, rather than a Python ``if`` choosing between two graphs: the
    choice is made again from the data whenever the op runs (a compiled step too).
    """
    x = d.data
    out = _ops._huber(x, delta)
    return _node(out, "huber", (d,), _ops.d_huber(out, x, delta), arg=delta)


def max_shift(values: Sequence[Value]) -> Value:
    """max_i v_i as a node through which no gradient flows: log-sum-exp's shift m.

    ``m + log sum_i exp(v_i - m)`` is the same for every m, so m's derivative is taken as 0; as a
    node (rather than ``max(v.data ...)``) it is recomputed whenever the graph is replayed.
    """
    data = [v.data for v in values]
    out = max(data)
    return _node(out, "max_shift", tuple(values), _ops.d_max_shift(out, *data))


def eq(x: Value, k: float) -> Value:
    """1.0 if x == k else 0.0, with derivative 0: entry k of a one-hot label."""
    out = _ops._eq(x.data, k)
    return _node(out, "==", (x,), _ops.d_eq(out, x.data, k), arg=k)


def custom_op(
    op: str,
    data: float,
    parents: Sequence[Value | Number],
    local_grads: Sequence[float] | None = None,
    *,
    rule: Callable[..., Sequence[Any]] | None = None,
) -> Value:
    """The result of an op you define yourself, recorded like a built-in one.

    You compute the op's value ``data`` and give its local derivatives d out / d p for each
    parent p, in one of two ways:

    * ``rule=fn``: ``fn(out, *inputs)`` returns them, written with operators and the math
      functions of ``tinygrad_edu.ops`` (``exp``, ``log``, ``where`` ...), as the built-in ops'
      rules are. It is called with floats now, and with Values by
      ``grad(..., create_graph=True)``, so your op has second derivatives too::

          def abs_cubed(x):
              return custom_op("|x|^3", abs(x.data) ** 3, (x,),
                               rule=lambda out, x: (3 * x * abs(x),))

      The rule is registered under ``op`` in ``DERIVATIVE_RULES`` (a later rule of the same name
      replaces it).
    * ``local_grads``: the numbers themselves, ``(3 * x.data * abs(x.data),)``. First
      derivatives only: ``create_graph=True`` then asks for a rule.

    ``backward()`` applies the chain rule through the node as through any other, ``no_grad`` and
    ``detect_anomaly`` apply, and the drawings show it under its name. Getting the derivatives
    right is up to you: check them with ``gradcheck`` (and ``gradgradcheck`` for a rule).

    Raises:
        ValueError: ``op`` is empty or a built-in op's name, neither or both of ``local_grads``
            and ``rule`` are given, or there is not one local derivative per parent.
    """
    if not isinstance(op, str) or not op:
        raise ValueError(f"custom_op: op must be a non-empty name, got {op!r}")
    if op in _ops.BUILTIN_OPS:
        raise ValueError(
            f"custom_op: {op!r} is a built-in op (its derivative rule would be used for yours); "
            f"choose another name"
        )
    if (local_grads is None) == (rule is None):
        raise ValueError(f"{op}: give either local_grads or rule=, not both or neither")
    nodes = _as_values(parents, op)
    out = _to_float(data, op)
    if rule is not None:
        if not callable(rule):
            raise TypeError(f"{op}: rule must be callable, got {type(rule).__name__!r}")
        local_grads = rule(out, *(p.data for p in nodes))
        DERIVATIVE_RULES[op] = rule
    locals_ = tuple(_to_float(g, op) for g in local_grads)  # type: ignore[union-attr]
    if len(locals_) != len(nodes):
        raise ValueError(
            f"{op}: {len(nodes)} parents but {len(locals_)} local derivatives (one per parent)"
        )
    return _node(out, op, nodes, locals_)


# ----------------------------------------------------------------------------------------------
# helpers of the ops
# ----------------------------------------------------------------------------------------------


def _finite(x: float, op: str) -> float:
    """x itself, unless it is +-inf (nan passes: it propagates as in PyTorch)."""
    if x in (math.inf, -math.inf):
        raise ValueError(f"{op}: input must be finite, got {x!r}")
    return x


def _checked_pow(x: float, n: float, op: str) -> float:
    """x ** n for floats, with errors that name the op (never a complex result)."""
    if n != n or x != x:
        return x**n  # nan propagates (C's pow: nan ** 0 = 1 ** nan = 1)
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
    return _node(out, "pow", (base, exponent), d_pow(out, x, y))


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
    parents are visited in their stored order, so this is the post-order of the recursive search.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[Value | None] = [root]
    push, pop, extend = stack.append, stack.pop, stack.extend
    # Most edges lead to a node already visited (a weight used by every sample, a hidden unit by
    # every neuron of the next layer): one C-level superset test skips a node's parents when all
    # are done, and filterfalse pushes the others without a Python loop over the edges (bench:
    # moons, about a fifth of the sort).
    done, all_done = visited.__contains__, visited.issuperset
    # A node is pushed, then a None marker above it, then its unvisited parents above that: when the
    # marker comes off the stack, all of the node's parents are done and the node goes in the order.
    while stack:
        node = pop()
        if node is None:
            order.append(pop())  # type: ignore[arg-type]
            continue
        if node in visited:
            continue
        visited.add(node)
        push(node)
        push(None)
        parents = node.parents
        if not all_done(parents):
            extend(filterfalse(done, reversed(parents)))
    return order


# ----------------------------------------------------------------------------------------------
# The math functions of ``ops`` on Values: each makes a node of the op, with the IEEE forward
# (inf and nan at edge points, never an exception), so a rule evaluated on Values builds the
# derivative as a graph that can be differentiated again.
# ----------------------------------------------------------------------------------------------


class _ValueMath:
    @staticmethod
    def exp(x: Value) -> Value:
        return _apply("exp", (x,))

    @staticmethod
    def log(x: Value) -> Value:
        return _apply("log", (x,))

    @staticmethod
    def sqrt(x: Value) -> Value:
        return _apply("sqrt", (x,))

    @staticmethod
    def sin(x: Value) -> Value:
        return _apply("sin", (x,))

    @staticmethod
    def cos(x: Value) -> Value:
        return _apply("cos", (x,))

    @staticmethod
    def sigmoid(x: Value) -> Value:
        return _apply("sigmoid", (x,))

    @staticmethod
    def div(a: Value | float, b: Value | float) -> Value:
        return _apply("/", (_as_value(a, "/"), _as_value(b, "/")))

    @staticmethod
    def power(x: Value | float, n: Value | float) -> Value:
        if not isinstance(n, Value) or not n.requires_grad:  # a constant exponent
            exponent = n.data if isinstance(n, Value) else float(n)
            return _apply("**", (_as_value(x, "**"),), arg=exponent)
        if not isinstance(x, Value) and x > 0.0:
            return _apply("c**x", (n,), arg=float(x))
        return _apply("pow", (_as_value(x, "**"), n))

    @staticmethod
    def sign(x: Value) -> float:
        return _ops._sign(x.data)  # piecewise constant: a number, whose derivative is 0


_ops.register_math(Value, _ValueMath)
