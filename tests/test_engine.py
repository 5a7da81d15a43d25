"""The engine: each op's value and derivative, backward() semantics, modes and errors."""

from __future__ import annotations

import asyncio
import gc
import math
import re
import sys
import threading
import weakref
from fractions import Fraction

import numpy as np
import pytest

from tinygrad_edu import (
    AnomalyError,
    Parameter,
    Value,
    custom_op,
    detect_anomaly,
    dot,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    topological_order,
)
from tinygrad_edu.autodiff import grad
from tinygrad_edu.engine import DERIVATIVE_RULES, dot_of_values
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck

EPS = 1e-6


def central_difference(f, x: float, eps: float = EPS) -> float:
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# op, float reference function, closed-form derivative, points to test
UNARY = [
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, [-1.3, 0.4]),
    ("abs", abs, abs, lambda x: math.copysign(1.0, x), [-1.3, 0.4]),
    ("exp", Value.exp, math.exp, math.exp, [-1.3, 0.4, 3.0]),
    ("log", Value.log, math.log, lambda x: 1 / x, [0.2, 1.7]),
    ("sqrt", Value.sqrt, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.2, 1.7]),
    ("tanh", Value.tanh, math.tanh, lambda x: 1 - math.tanh(x) ** 2, [-1.3, 0.4]),
    ("sigmoid", Value.sigmoid, sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), [-1.3, 0.4]),
    ("relu", Value.relu, lambda x: max(x, 0.0), lambda x: float(x > 0), [-1.3, 0.4]),
    (
        "leaky_relu",
        Value.leaky_relu,
        lambda x: x if x > 0 else 0.01 * x,
        lambda x: 1.0 if x > 0 else 0.01,
        [-1.3, 0.4],
    ),
    ("sin", Value.sin, math.sin, math.cos, [-1.3, 0.4]),
    ("cos", Value.cos, math.cos, lambda x: -math.sin(x), [-1.3, 0.4]),
    (
        "softplus",
        Value.softplus,
        lambda x: math.log1p(math.exp(x)),
        sigmoid,
        [-1.3, 0.4, 5.0],
    ),
    ("square", lambda v: v**2, lambda x: x**2, lambda x: 2 * x, [-1.3, 0.4]),
    ("cube", lambda v: v**3, lambda x: x**3, lambda x: 3 * x**2, [-1.3, 0.4]),
    ("reciprocal", lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2, [-1.3, 0.4]),
    ("power 0.5", lambda v: v**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.3, 2.0]),
    ("2 ** x", lambda v: 2**v, lambda x: 2**x, lambda x: 2**x * math.log(2), [-1.3, 0.4]),
]


@pytest.mark.parametrize("name,op,ref,deriv,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_value_and_derivative(name, op, ref, deriv, points):
    for x0 in points:
        x = Value(x0)
        y = op(x)
        y.backward()
        assert y.data == pytest.approx(ref(x0), rel=1e-12)
        assert x.grad == pytest.approx(deriv(x0), rel=1e-9)
        assert x.grad == pytest.approx(central_difference(ref, x0), rel=1e-6, abs=1e-8)


BINARY = [
    ("+", lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    ("-", lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    ("*", lambda a, b: a * b, lambda a, b: (b, a)),
    ("/", lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2)),
    ("pow", lambda a, b: a**b, lambda a, b: (b * a ** (b - 1), a**b * math.log(a))),
]


@pytest.mark.parametrize("name,op,deriv", BINARY, ids=[b[0] for b in BINARY])
def test_binary_op_value_and_derivatives(name, op, deriv):
    a0, b0 = 1.7, -0.6
    a, b = Value(a0), Value(b0)
    y = op(a, b)
    y.backward()
    assert y.data == pytest.approx(op(a0, b0), rel=1e-12)
    assert (a.grad, b.grad) == pytest.approx(deriv(a0, b0), rel=1e-12)
    assert y.op == name


@pytest.mark.parametrize("name,op,deriv", BINARY, ids=[b[0] for b in BINARY])
def test_numbers_on_either_side(name, op, deriv):
    a0, b0 = 1.7, -0.6
    left, right = Value(a0), Value(b0)
    y_left = op(left, b0)  # Value op number
    y_right = op(a0, right)  # number op Value (reflected)
    y_left.backward()
    y_right.backward()
    assert y_left.data == y_right.data == pytest.approx(op(a0, b0))
    assert left.grad == pytest.approx(deriv(a0, b0)[0])
    assert right.grad == pytest.approx(deriv(a0, b0)[1])


def test_constant_operands_become_constant_leaves():
    x = Value(3.0)
    y = x * 2
    (const,) = [p for p in y.parents if p is not x]
    assert const.data == 2.0 and const.requires_grad is False and const.is_leaf()


def test_results_of_constants_record_no_graph():
    c = Value(2.0, requires_grad=False)
    y = (c * 3).exp()
    assert y.parents == () and y.requires_grad is False
    assert y.data == pytest.approx(math.exp(6.0))


def test_sum_is_one_node_of_fan_in_n():
    xs = [Value(float(i)) for i in range(5)]
    s = Value.sum(xs + [10])
    assert s.op == "sum" and len(s.parents) == 6 and s.data == 20.0
    s.backward()
    assert [x.grad for x in xs] == [1.0] * 5


def test_dot_is_one_node_with_bias():
    ws = [Value(0.5), Value(-2.0)]
    xs = [Value(3.0), Value(4.0)]
    b = Value(0.25)
    y = dot(ws, xs, bias=b)
    assert y.op == "dot" and y.parents == (*ws, *xs, b)
    assert y.data == pytest.approx(0.5 * 3 - 2 * 4 + 0.25)
    y.backward()
    assert [w.grad for w in ws] == [3.0, 4.0]
    assert [x.grad for x in xs] == [0.5, -2.0]
    assert b.grad == 1.0


def test_dot_with_plain_numbers_and_length_mismatch():
    ws = [Value(1.0), Value(2.0)]
    y = dot(ws, [3, 4.5])
    y.backward()
    assert y.data == 12.0 and [w.grad for w in ws] == [3.0, 4.5]
    with pytest.raises(ValueError, match=r"dot: length mismatch, 2 weights and 3 inputs"):
        dot(ws, [1, 2, 3])


def test_kinks_follow_pytorch():
    for op in (Value.relu, abs):
        x = Value(0.0)
        op(x).backward()
        assert x.grad == 0.0
    x = Value(0.0)
    x.leaky_relu(0.2).backward()
    assert x.grad == 0.2


# --- numbers in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [2, 2.0, True, np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_accepted_numbers_convert_to_float(number):
    v = Value(number)
    assert type(v.data) is float and v.data == float(number)
    y = Value(1.0) * number
    assert type(y.data) is float
    z = number * Value(1.0)  # NumPy scalars on the left must defer to Value
    assert isinstance(z, Value) and z.data == float(number)


@pytest.mark.parametrize("bad", ["2", None, [1.0], 1 + 2j])
def test_other_types_raise_type_error_naming_type_and_op(bad):
    with pytest.raises(TypeError, match=rf"\*: unsupported operand type '{type(bad).__name__}'"):
        Value(1.0) * bad
    with pytest.raises(TypeError, match=rf"Value: unsupported operand type '{type(bad).__name__}'"):
        Value(bad)


def test_fraction_is_a_real_number():
    assert (Value(1.0) + Fraction(1, 4)).data == 1.25


def test_repr_omits_what_is_empty():
    x = Value(2.0, label="x")
    assert repr(x) == "Value(data=2.0, grad=0.0, label='x')"
    y = x * 3
    assert repr(y) == "Value(data=6.0, grad=0.0, op='*')"
    y.label = "y"
    assert repr(y) == "Value(data=6.0, grad=0.0, op='*', label='y')"
    assert repr(Parameter(1.0)) == "Parameter(data=1.0, grad=0.0)"


def test_parents_are_a_tuple_in_operand_order():
    a, b = Value(1.0), Value(2.0)
    y = b - a
    assert y.parents == (b, a) and isinstance(y.parents, tuple)
    assert y.local_grads == (1.0, -1.0)


# --- backward ----------------------------------------------------------------------------------


def test_node_used_twice_in_add_and_mul():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0


def test_shared_subexpression_sin_sin():
    x0 = 0.7
    x = Value(x0)
    s = x.sin()
    y = (s + s).sin()
    y.backward()
    expected = math.cos(2 * math.sin(x0)) * 2 * math.cos(x0)
    assert x.grad == pytest.approx(expected, rel=1e-12)


def test_diamond():
    # x -> a = 2x, b = x^2 -> y = a * b = 2 x^3, dy/dx = 6 x^2
    x = Value(1.5)
    a = x * 2
    b = x**2
    y = a * b
    y.backward()
    assert x.grad == pytest.approx(6 * 1.5**2)
    assert a.grad == pytest.approx(b.data) and b.grad == pytest.approx(a.data)


def test_backward_twice_doubles_leaf_grads_but_not_interior_grads():
    x, w = Value(2.0), Value(-3.0)
    h = x * w
    y = h.tanh()
    y.backward()
    first = (x.grad, w.grad, h.grad, y.grad)
    y.backward()
    assert x.grad == 2 * first[0] and w.grad == 2 * first[1]
    assert h.grad == first[2] and y.grad == first[3]


def test_backward_with_seed_gradient():
    x = Value(2.0)
    (x * x).backward(grad=0.5)
    assert x.grad == 2.0


def test_million_node_chain_backward_is_iterative():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = (y * 1.0001).tanh()
    y.backward()
    # closed-form check on the product of local derivatives, computed forward in floats
    value, expected = 0.5, 1.0
    for _ in range(1_000_000):
        value = math.tanh(value * 1.0001)
        expected *= 1.0001 * (1 - value * value)
    assert x.grad == pytest.approx(expected, rel=1e-9)


def test_topological_order_puts_parents_first_and_root_last():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d.exp() * c
    order = topological_order(e)
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is e and len(order) == len({id(n) for n in order})
    for node in order:
        for p in node.parents:
            assert position[id(p)] < position[id(node)]


def test_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = Value(1.0)
        nodes = [x]
        y = x
        for _ in range(100):
            y = (y * 2.0 + x).tanh()
            nodes.append(y)
        y.backward()
        refs = [weakref.ref(n) for n in nodes[1:]]
        del nodes, y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


# --- modes --------------------------------------------------------------------------------------


def test_no_grad_context_and_decorators():
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * x
        with enable_grad():
            z = x * x
    assert is_grad_enabled()
    assert y.parents == () and not y.requires_grad and y.data == 4.0
    assert z.parents == (x, x)

    @no_grad()
    def called():
        return x * 3

    @no_grad
    def bare():
        return x * 3

    assert called().parents == () and bare().parents == ()
    assert (x * 3).parents != ()


def test_detach_is_a_constant_leaf():
    x = Value(2.0)
    y = (x * x).detach()
    assert y.data == 4.0 and y.parents == () and not y.requires_grad
    (y * x).backward()
    assert x.grad == 4.0


def test_no_grad_is_per_thread():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def in_no_grad():
        with no_grad():
            seen["a"] = (Value(1.0) * 2).parents
            inside.set()
            release.wait(5)

    def recording():
        inside.wait(5)
        seen["b"] = (Value(1.0) * 2).parents
        release.set()

    threads = [threading.Thread(target=in_no_grad), threading.Thread(target=recording)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["a"] == () and len(seen["b"]) == 2


def test_no_grad_is_per_asyncio_task():
    async def main():
        ready = asyncio.Event()
        done = asyncio.Event()

        async def in_no_grad():
            with no_grad():
                ready.set()
                await done.wait()
                return (Value(1.0) * 2).parents

        async def recording():
            await ready.wait()
            parents = (Value(1.0) * 2).parents
            done.set()
            return parents

        return await asyncio.gather(in_no_grad(), recording())

    a, b = asyncio.run(main())
    assert a == () and len(b) == 2


def test_detect_anomaly_forward_names_op_and_line():
    x = Value(math.inf)
    with detect_anomaly():
        assert is_anomaly_enabled()
        with pytest.raises(AnomalyError, match=r"-: forward produced nan .*test_engine\.py:\d+"):
            x - x
    assert not is_anomaly_enabled()
    assert math.isnan((x - x).data)  # outside the mode, IEEE arithmetic as usual


def test_detect_anomaly_backward_names_op_and_creation_line():
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt()  # fine forward (0), infinite derivative
        with pytest.raises(
            AnomalyError, match=r"backward of 'sqrt' \(created at .*test_engine\.py:\d+\)"
        ):
            y.backward()


def test_comparisons_use_data():
    assert Value(1.0) < Value(2.0) and Value(2.0) >= 2 and max(Value(1.0), Value(3.0)).data == 3.0


# --- errors at the op ---------------------------------------------------------------------------


def test_log_outside_domain():
    with pytest.raises(ValueError, match=r"log: input must be > 0, got -1\.0"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match=r"log: input must be > 0, got 0\.0"):
        Value(0.0).log()


def test_sqrt_outside_domain():
    with pytest.raises(ValueError, match=r"sqrt: input must be >= 0, got -4\.0"):
        Value(-4.0).sqrt()


def test_division_by_zero_names_op():
    with pytest.raises(ZeroDivisionError, match=r"/: division by zero \(1\.0 / 0\.0\)"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match=r"\*\*: zero base to a negative power"):
        Value(0.0) ** -1


def test_exp_and_pow_overflow_name_op_and_input():
    with pytest.raises(OverflowError, match=r"exp: result overflows a float for input 1000\.0"):
        Value(1000.0).exp()
    with pytest.raises(
        OverflowError, match=r"\*\*: result overflows a float for input \(10\.0, 400\.0\)"
    ):
        Value(10.0) ** 400
    with pytest.raises(OverflowError, match=r"\*\*: result overflows .* \(2\.0, 5000\.0\)"):
        2 ** Value(5000.0)


def test_negative_base_fractional_power_is_not_complex():
    with pytest.raises(ValueError, match=r"\*\*: negative base -8\.0 to a non-integer power"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(
        ValueError, match=r"\*\*: with a differentiable exponent the base must be > 0"
    ):
        Value(-2.0) ** Value(2.0)


def test_errors_leave_no_half_built_graph():
    """A failing op raises before making a node: the operands gain no children, nothing is kept."""
    gc.disable()
    try:
        x, big = Value(-1.0), Value(1000.0)
        before = sum(1 for o in gc.get_objects() if isinstance(o, Value))
        for bad in (x.log, x.sqrt, lambda: x / 0, big.exp, lambda: big**400):
            with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
                bad()
        after = sum(1 for o in gc.get_objects() if isinstance(o, Value))
        assert after == before
    finally:
        gc.enable()


# -- custom_op: an op the user defines ----------------------------------------------------------


def _abs_cubed(x: Value) -> Value:
    return custom_op("|x|^3", abs(x.data) ** 3, (x,), (3 * x.data * abs(x.data),))


def test_custom_op_backpropagates_like_a_builtin() -> None:
    for x0 in (-0.7, 0.4, 1.3):
        assert gradcheck(lambda x: (_abs_cubed(x) * x).sin(), [x0])
    x = Value(-2.0)
    out = _abs_cubed(x)
    assert (out.op, out.parents, out.local_grads, out.data) == ("|x|^3", (x,), (-12.0,), 8.0)
    (3 * out).backward()
    assert x.grad == -36.0  # 3 * d|x|^3/dx = 3 * 3 x |x|


def test_gradcheck_catches_a_wrong_custom_derivative() -> None:
    def wrong(x: Value) -> Value:  # 3 x^2 instead of 3 x |x|: wrong for x < 0 only
        return custom_op("|x|^3", abs(x.data) ** 3, (x,), (3 * x.data**2,))

    assert gradcheck(wrong, [0.7])
    assert not gradcheck(wrong, [-0.7], raise_exception=False)


def test_custom_op_takes_numbers_and_respects_the_modes() -> None:
    x = Value(3.0)
    out = custom_op("scaled_sum", 2 * x.data + 2.0, (x, 1.0), (2, 2))
    assert out.parents[1].requires_grad is False and out.local_grads == (2.0, 2.0)
    with no_grad():
        assert custom_op("|x|^3", 27.0, (x,), (27.0,)).parents == ()
    with detect_anomaly(), pytest.raises(AnomalyError, match="nan_op: forward produced nan"):
        custom_op("nan_op", math.nan, (x,), (1.0,))


@pytest.mark.parametrize(
    ("op", "parents", "local_grads", "error", "message"),
    [
        ("", (1.0,), (1.0,), ValueError, "custom_op: op must be a non-empty name"),
        ("tanh", (1.0,), (1.0,), ValueError, "custom_op: 'tanh' is a built-in op"),
        ("mine", (1.0, 2.0), (1.0,), ValueError, "mine: 2 parents but 1 local derivatives"),
        ("mine", ("a",), (1.0,), TypeError, "mine: unsupported operand type 'str'"),
        ("mine", (1.0,), (None,), TypeError, "mine: unsupported operand type 'NoneType'"),
    ],
)
def test_custom_op_refuses_bad_input(
    op: str, parents: tuple, local_grads: tuple, error: type, message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        custom_op(op, 1.0, parents, local_grads)


def test_custom_op_second_derivative_needs_a_rule() -> None:
    x = Value(-1.5)
    assert grad(_abs_cubed(x), [x]) == (-6.75,)  # first derivatives need no rule
    with pytest.raises(KeyError, match=r"no derivative rule for op '\|x\|\^3'.*rule=fn"):
        grad(_abs_cubed(x), [x], create_graph=True)


def _abs_cubed_rule(x: Value) -> Value:
    return custom_op("|x|^3 r", abs(x.data) ** 3, (x,), rule=lambda out, x: (3 * x * abs(x),))


def test_custom_op_with_a_rule_has_first_and_second_derivatives() -> None:
    x = Value(-1.5)
    out = _abs_cubed_rule(x)
    assert out.local_grads == (-6.75,)  # the rule, called with floats
    (g,) = grad(out, [x], create_graph=True)  # the same rule, called with Values
    assert g.data == -6.75
    (h,) = grad(g, [x])
    assert h == 9.0  # d/dx 3x|x| = 6|x|
    assert gradgradcheck(_abs_cubed_rule, [-1.5]) and gradgradcheck(_abs_cubed_rule, [0.8])
    assert DERIVATIVE_RULES["|x|^3 r"] is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either local_grads or rule="),
        ({"local_grads": (1.0,), "rule": lambda out, x: (1.0,)}, "not both or neither"),
        ({"rule": lambda out, x: (1.0, 2.0)}, "1 parents but 2 local derivatives"),
    ],
)
def test_custom_op_refuses_a_bad_rule(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        custom_op("mine", 1.0, (Value(1.0),), **kwargs)
    with pytest.raises(TypeError, match="mine: rule must be callable"):
        custom_op("mine", 1.0, (Value(1.0),), rule=3)  # type: ignore[arg-type]


def test_dot_of_values_is_dot_without_the_operand_checks() -> None:
    ws = [Parameter(0.5), Parameter(-1.5)]
    xs = [Value(2.0), Value(3.0, requires_grad=False)]
    b = Parameter(0.25)
    for bias in (None, b):
        fast, checked = dot_of_values(ws, xs, bias), dot(ws, xs, bias=bias)
        assert (fast.data, fast.op, fast.parents, fast.local_grads) == (
            checked.data,
            checked.op,
            checked.parents,
            checked.local_grads,
        )
    out = dot_of_values(ws, xs, b)
    out.backward()
    assert [v.grad for v in (*ws, *xs, b)] == [2.0, 3.0, 0.5, -1.5, 1.0]
