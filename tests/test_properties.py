"""Property tests over random expression graphs drawn by tinygrad_edu.testing."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.autodiff import grad
from tinygrad_edu.gradcheck import gradcheck
from tinygrad_edu.testing import OPS, UNARY_OPS, Expression, Step, expressions, safe_inputs

MANY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=300, deadline=None)


@MANY
@given(expressions(max_inputs=3, max_ops=10))
def test_engine_gradients_equal_finite_differences(expr):
    assert gradcheck(expr, expr.inputs)


@SOME
@given(st.data())
def test_grad_is_linear(data):
    f = data.draw(expressions(min_inputs=2, max_inputs=2), label="f")
    g = data.draw(expressions(inputs=f.inputs), label="g")  # safe at the same point
    xs = f.leaves()
    f_out, g_out = f(*xs), g(*xs)
    together = grad(f_out + g_out, xs)
    apart = [a + b for a, b in zip(grad(f_out, xs), grad(g_out, xs))]
    assert together == pytest.approx(apart, rel=1e-12, abs=1e-12)


@SOME
@given(expressions())
def test_backward_twice_doubles_leaf_grads(expr):
    leaves = expr.leaves()
    out = expr(*leaves)
    out.backward()
    once = [x.grad for x in leaves]
    out.backward()
    assert [x.grad for x in leaves] == [2 * g for g in once]


@SOME
@given(expressions())
def test_create_graph_agrees_with_backward(expr):
    leaves = expr.leaves()
    out = expr(*leaves)
    with_graph = grad(out, leaves, create_graph=True)
    out.backward()
    for g, leaf in zip(with_graph, leaves):
        assert g.data == pytest.approx(leaf.grad, rel=1e-9, abs=1e-12)


@SOME
@given(expressions(max_inputs=2, max_ops=6))
def test_second_derivatives_equal_finite_differences_of_gradient(expr):
    from tinygrad_edu.gradcheck import gradgradcheck

    assert gradgradcheck(expr, expr.inputs, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("op", OPS)
def test_strategy_draws_every_op(op):
    example = find(expressions(), lambda e: op in e.ops_used)
    assert op in example.ops_used


def test_strategy_reuses_nodes():
    example = find(
        expressions(),
        lambda e: (
            any(len(set(s.operands)) < len(s.operands) for s in e.steps)
            or len([i for s in e.steps for i in s.operands])
            > len({i for s in e.steps for i in s.operands})
        ),
    )
    operands = [i for s in example.steps for i in s.operands]
    assert len(operands) > len(set(operands))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_safe_inputs_are_in_domain(data):
    op = data.draw(st.sampled_from(UNARY_OPS))
    x = data.draw(safe_inputs(op))
    expr = Expression([x], [Step(op, (0,))])
    value = expr(x).data
    assert math.isfinite(value)
    assert gradcheck(expr, [x])


def test_expression_formula_and_replay():
    expr = Expression([0.5, 2.0], [Step("*", (0, 1)), Step("tanh", (2,)), Step("+", (3, 3))])
    assert expr.formula() == "(tanh((x0 * x1)) + tanh((x0 * x1)))"
    assert expr(0.5, 2.0).data == pytest.approx(2 * math.tanh(1.0))
    with pytest.raises(TypeError, match="expected 2 inputs, got 1"):
        expr(Value(1.0))
    with pytest.raises(ValueError, match="unknown ops"):
        find(expressions(ops=["nope"]), lambda e: True)


def test_hypothesis_reports_an_expression_by_its_formula():
    from hypothesis.vendor.pretty import pretty

    expr = Expression([1.0], [Step("neg", (0,))])
    assert pretty(expr) == repr(expr) == "Expression(neg(x0) at [1.0])"
