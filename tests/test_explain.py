"""explain: paths and their products, formulas from the rules, nudges, replay."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from tinygrad_edu import Value, custom_op, dot, ops
from tinygrad_edu.explain import (
    Symbol,
    TooManyPathsError,
    backprop_text,
    count_paths,
    local_formula,
    nudge,
    paths,
    replay,
    rule_formulas,
)
from tinygrad_edu.testing import expressions

# -- §1 paths --------------------------------------------------------------------------------------


def _close_to_grad(products: list[float], grad: float) -> bool:
    # The sum is taken in another order than backward's: relative 1e-12 of the terms' scale.
    scale = max(abs(grad), math.fsum(abs(p) for p in products), 1e-300)
    return abs(math.fsum(products) - grad) <= 1e-12 * scale


@settings(max_examples=200, deadline=None, derandomize=True)
@given(expressions(max_inputs=3, max_ops=10))
def test_path_products_sum_to_the_gradient_on_random_graphs(expr):
    leaves = expr.leaves()
    root = expr(*leaves)
    root.backward()
    for leaf in leaves:
        found = paths(root, leaf, max_paths=100_000)
        assert len(found) == count_paths(root, leaf)
        assert _close_to_grad([p.product for p in found], leaf.grad)
        for p in found:
            assert p.nodes[0] is leaf and p.nodes[-1] is root
            assert len(p.nodes) == len(p) + 1
            for lower, upper, i in zip(p.nodes, p.nodes[1:], p.parent_indices):
                assert upper.parents[i] is lower


def test_a_node_used_twice_has_two_paths():
    x = Value(0.7, label="x")
    s1, s2 = x.sin(), x.sin()
    y = (s1 + s2).sin()  # sin(sin(x) + sin(x)): two paths, each through one sin
    y.backward()
    found = paths(y, x)
    assert len(found) == 2
    assert math.fsum(p.product for p in found) == pytest.approx(x.grad, rel=1e-15)
    # a * a: one node, two edges to the same parent, so two paths
    a = Value(3.0)
    sq = a * a
    assert [p.parent_indices for p in paths(sq, a)] == [(0,), (1,)]
    assert sum(p.product for p in paths(sq, a)) == 6.0


def test_diamond_graph_paths():
    a = Value(2.0, label="a")
    b, c = a * 3, a.exp()
    d = b * c
    d.backward()
    found = paths(d, a)
    assert [tuple(n.data for n in p.nodes) for p in found] == [
        (2.0, 6.0, d.data),
        (2.0, math.exp(2.0), d.data),
    ]
    assert sum(p.product for p in found) == pytest.approx(a.grad)


def test_root_and_unrelated_nodes():
    x, z = Value(1.0), Value(2.0)
    y = x.tanh()
    (only,) = paths(y, y)
    assert only.nodes == (y,) and only.product == 1.0 and len(only) == 0
    assert paths(y, z) == [] and count_paths(y, z) == 0


def test_path_counts_are_counted_without_listing_them():
    x = Value(1.0)
    v = x
    for _ in range(60):
        v = v + v  # each level doubles the paths
    assert count_paths(v, x) == 2**60
    with pytest.raises(TooManyPathsError, match=f"{2**60} paths .* max_paths=1000"):
        paths(v, x)


def test_a_deep_chain_has_one_long_path():
    x = Value(0.5)
    v = x
    for _ in range(20_000):
        v = v * 1.0
    (only,) = paths(v, x)
    assert len(only) == 20_000 and only.product == 1.0


# -- §2 formulas -----------------------------------------------------------------------------------


def test_rules_called_with_symbols_give_formulas():
    t, z = Symbol("t"), Symbol("z")
    assert ops.DERIVATIVE_RULES["tanh"](t, z) == (Symbol("1 - t²"),)
    assert rule_formulas("*", "e", ["a", "b"]) == ("b", "a")
    assert rule_formulas("/", "q", ["a", "b"]) == ("1/b", "-q/b")
    assert rule_formulas("sigmoid", "s", ["x"]) == ("s·(1 - s)",)
    assert rule_formulas("**", "y", ["x"], 3.0) == ("3·x²",)
    assert rule_formulas("**", "y", ["x"], -1.0) == ("-x⁻²",)
    assert rule_formulas("c**x", "y", ["x"], 2.0) == ("y·ln 2",)
    assert rule_formulas("relu", "r", ["x"]) == ("0 if x ≤ 0 else 1",)
    assert rule_formulas("leaky_relu", "r", ["x"], 0.01) == ("1 if x > 0 else 0.01",)
    assert rule_formulas("pow", "y", ["a", "b"]) == ("b·a^(b - 1)", "y·ln(a) if a > 0 else 0")
    assert rule_formulas("dot", "z", ["w1", "w2", "x1", "x2", "b"]) == ("x1", "x2", "w1", "w2", "1")


def test_every_builtin_op_has_a_formula():
    args = {"**": 2.0, "c**x": 3.0, "leaky_relu": 0.1, "huber": 1.0, "==": 2.0}
    for op in ops.OPS:
        two = ("+", "-", "*", "/", "pow", "sum", "dot", "max_shift")
        inputs = ["a", "b"] if op in two else ["x"]
        formulas = rule_formulas(op, "y", inputs, args.get(op))
        assert len(formulas) == len(inputs) and all(formulas), op


def test_parentheses_where_they_are_needed():
    a, b, c = Symbol("a"), Symbol("b"), Symbol("c")
    assert str(a - (b - c)) == "a - (b - c)"
    assert str((a + b) * c) == "(a + b)·c"
    assert str(a / (b * c)) == "a/(b·c)"
    assert str(-(a + b)) == "-(a + b)"
    assert str(2.0 - a * a) == "2 - a²"


def test_local_formula_names_the_edge_and_gives_the_stored_number():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    assert local_formula(e, 0) == ("∂e/∂a = b", -3.0)
    assert local_formula(e, 1) == ("∂e/∂b = a", 2.0)
    t = e.tanh()
    t.label = "t"
    text, value = local_formula(t, 0)
    assert text == "∂t/∂e = 1 - t²" and value == t.local_grads[0]
    unnamed = Value(1.5) * 2
    assert local_formula(unnamed, 0) == ("∂y/∂a = 2", 2.0)
    assert local_formula(unnamed, 0, names={unnamed: "L"})[0] == "∂L/∂a = 2"
    with pytest.raises(IndexError, match="2 parents"):
        local_formula(e, 2)


def test_a_custom_op_without_a_rule_has_no_formula():
    x = Value(2.0, label="x")
    y = custom_op("double_it", 4.0, (x,), local_grads=(2.0,))
    y.label = "y"
    assert local_formula(y, 0) == ("∂y/∂x", 2.0)


def test_backprop_text_shows_the_formulas():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    text = backprop_text(e)
    assert "de/da += (∂e/∂a = b = -3) x 1 = -3 (total -3)" in text


# -- §4 nudge and replay ---------------------------------------------------------------------------


def test_replay_recomputes_only_what_depends_on_the_change():
    x, w = Value(0.3), Value(-1.2)
    z = dot([w], [x], 0.5)
    y = z.tanh() + w.exp()
    new = replay(y, {x: 0.4})
    assert new[y] == pytest.approx(math.tanh(-1.2 * 0.4 + 0.5) + math.exp(-1.2))
    assert (
        w not in new
        and x.data == 0.3
        and y.data == pytest.approx(math.tanh(-1.2 * 0.3 + 0.5) + math.exp(-1.2))
    )


@settings(max_examples=100, deadline=None, derandomize=True)
@given(expressions(max_inputs=3, max_ops=8))
def test_replay_at_the_same_point_gives_the_same_root(expr):
    leaves = expr.leaves()
    root = expr(*leaves)
    assert replay(root, {leaves[0]: leaves[0].data}).get(root, root.data) == root.data


def test_replay_refuses_a_custom_op():
    x = Value(1.0)
    y = custom_op("mine", 2.0, (x,), local_grads=(1.0,))
    with pytest.raises(KeyError, match="custom op"):
        replay(y, {x: 2.0})


def test_nudge_errors_shrink_as_h_squared_and_h_cubed():
    x = Value(0.8, label="x")
    y = (x * x).sin() + x.exp()
    data_before, grad_before = x.data, x.grad
    results = [nudge(y, x, h) for h in (1e-1, 1e-2)]
    first = [abs(r.actual - r.predicted) for r in results]
    second = [abs(r.actual - r.predicted_second_order) for r in results]
    assert 50 < first[0] / first[1] < 200  # O(h^2)
    assert 500 < second[0] / second[1] < 2000  # O(h^3)
    r = results[0]
    assert r.grad == pytest.approx(2 * 0.8 * math.cos(0.64) + math.exp(0.8))
    assert r.actual == pytest.approx(math.sin(0.9**2) + math.exp(0.9) - y.data)
    assert x.data == data_before and x.grad == grad_before  # nothing changed
    assert "actual change" in str(r)


def test_nudge_of_a_linear_function_is_exact_to_first_order():
    x = Value(1.0)
    y = 3 * x + 1
    r = nudge(y, x, 0.5)
    assert r.predicted == r.actual == 1.5 and r.second_derivative == 0.0


def test_nudge_needs_the_leaf_in_the_graph():
    with pytest.raises(ValueError, match="not part of"):
        nudge(Value(1.0).exp(), Value(2.0), 0.1)
