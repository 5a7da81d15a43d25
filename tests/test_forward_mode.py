"""Forward mode: jvp against finite differences and backward(), Jacobians in both modes, counts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value, dot, grad, hvp, jvp
from tinygrad_edu.autodiff import jacobian
from tinygrad_edu.gradcheck import numerical_jacobian
from tinygrad_edu.testing import expressions, input_values


def _close(a: float, b: float, scale: float, rel: float = 1e-10) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), scale, 1e-300)


def test_jvp_of_a_product():
    # f = x y + sin x, along v = (1, 2): (y + cos x) * 1 + x * 2
    value, derivative = jvp(lambda x, y: x * y + x.sin(), [0.5, -1.5], [1.0, 2.0])
    assert value == pytest.approx(0.5 * -1.5 + math.sin(0.5))
    assert derivative == pytest.approx((-1.5 + math.cos(0.5)) + 0.5 * 2.0)


def test_jvp_of_several_outputs_and_constants():
    value, derivative = jvp(lambda x: [x * x, x.exp(), 3.0], [2.0], [0.5])
    assert value == [4.0, pytest.approx(math.exp(2.0)), 3.0]
    assert derivative == [2.0, pytest.approx(0.5 * math.exp(2.0)), 0.0]
    with pytest.raises(ValueError, match="jvp: vs has length 1, xs has length 2"):
        jvp(lambda a, b: a * b, [1.0, 2.0], [1.0])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(expr=expressions(max_inputs=3, max_ops=10), data=st.data())
def test_jvp_is_the_backward_directional_derivative(expr, data):
    v = [data.draw(input_values(-1.0, 1.0)) for _ in expr.inputs]
    value, derivative = jvp(expr, expr.inputs, v)
    leaves = expr.leaves()
    root = expr(*leaves)
    root.backward()
    products = [leaf.grad * vj for leaf, vj in zip(leaves, v)]
    assert value == root.data
    # cancellation inside the graph (d/dx (2^(1/x))^x = 0 comes out as -2e-16 one way and -1e-16
    # the other) leaves rounding of the size of the terms, not of the result: hence the floor 1
    assert _close(derivative, math.fsum(products), max(math.fsum(map(abs, products)), 1.0))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(expr=expressions(max_inputs=3, max_ops=8), data=st.data())
def test_jvp_matches_finite_differences(expr, data):
    v = [data.draw(input_values(-1.0, 1.0)) for _ in expr.inputs]
    _, derivative = jvp(expr, expr.inputs, v)
    (row,) = numerical_jacobian(expr, expr.inputs)
    numeric = sum(j * vj for j, vj in zip(row, v))
    assert abs(derivative - numeric) <= 1e-4 + 1e-3 * abs(numeric)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(first=expressions(min_inputs=2, max_inputs=3, max_ops=8), data=st.data())
def test_forward_and_reverse_jacobians_agree(first, data):
    second = data.draw(expressions(inputs=first.inputs, max_ops=8))

    def f(*xs):
        return [first(*xs), second(*xs), xs[0] * xs[-1]]

    forward = jacobian(f, first.inputs, mode="forward")
    reverse = jacobian(f, first.inputs, mode="reverse")
    assert reverse == jacobian(f, first.inputs)  # the default is reverse mode
    for f_row, r_row in zip(forward, reverse):
        for a, b in zip(f_row, r_row):
            assert _close(a, b, 1.0, rel=1e-9)


def test_counts_n_inputs_one_output():
    # tanh(tanh(x_1 + ... + x_n)): n + 2 edges. Reverse: one pass over them; forward: a pass per
    # input, each over all of them (every input carries a tangent, 0 or 1).
    def f(*xs):
        return [Value.sum(xs).tanh().tanh()]

    for n in (1, 4, 16):
        xs = [0.1 * i for i in range(n)]
        _, reverse = jacobian(f, xs, mode="reverse", count=True)
        _, forward = jacobian(f, xs, mode="forward", count=True)
        assert reverse == n + 2 and forward == n * (n + 2)


def test_counts_one_input_m_outputs():
    # y_i = tanh(x) * c_i: one forward pass costs 1 + m products, m backward passes 2 each
    def g(x):
        t = x.tanh()
        return [t * c for c in range(1, m + 1)]

    for m in (1, 4, 16):
        _, reverse = jacobian(g, [0.3], mode="reverse", count=True)
        _, forward = jacobian(g, [0.3], mode="forward", count=True)
        assert forward == 1 + m and reverse == 2 * m


def test_jacobian_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward'"):
        jacobian(lambda x: [x], [1.0], mode="sideways")  # type: ignore[call-overload]


def test_forward_over_reverse_is_the_hessian_vector_product():
    def f(x, y):
        return (x * y).sin() + dot([x, y], [y, y]) + x.exp()

    point, v = [0.4, -0.7], [1.5, 0.25]
    _, hv = jvp(lambda *xs: list(grad(f(*xs), xs, create_graph=True)), point, v)
    assert hv == pytest.approx(hvp(f, point, v), rel=1e-12)
