"""gradcheck and gradgradcheck: pass on correct gradients, a table on wrong ones."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from tinygrad_edu import Value, custom_op
from tinygrad_edu.engine import _node
from tinygrad_edu.gradcheck import (
    GradcheckError,
    check_local_derivatives,
    gradcheck,
    gradgradcheck,
    numerical_jacobian,
)
from tinygrad_edu.testing import expressions


def wrong_square(x: Value) -> Value:
    """x^2 with a deliberately wrong local derivative (3x instead of 2x)."""
    return _node(x.data**2, "**", (x,), (3 * x.data,), arg=2.0)


def test_gradcheck_passes_for_engine_ops():
    assert gradcheck(lambda a, b: (a * b).tanh() + a.exp() / b, [0.3, -0.7])
    assert gradcheck(lambda a: [a.sin(), a.cos(), a.sigmoid()], [0.4])


def test_gradcheck_failure_is_a_table():
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong_square, [1.5])
    lines = str(info.value).splitlines()
    assert lines[1].split() == ["output", "input", "analytic", "numeric", "error", "status"]
    row = lines[2].split()
    assert row[1] == "x0" and float(row[2]) == 4.5 and float(row[3]) == pytest.approx(3.0)
    assert row[-1] == "FAIL"


def test_gradcheck_table_marks_passing_and_failing_rows():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: wrong_square(a) + b, [1.0, 2.0])
    statuses = [line.split()[-1] for line in str(info.value).splitlines()[2:]]
    assert statuses == ["FAIL", "pass"]


def test_raise_exception_false_returns_false():
    assert gradcheck(wrong_square, [1.5], raise_exception=False) is False


def test_defaults_are_pytorchs():
    defaults = gradcheck.__defaults__
    assert defaults[:3] == (1e-6, 1e-5, 1e-3)


def test_tolerance_is_atol_plus_rtol_times_numeric():
    # derivative 2x = 200 at x = 100; an analytic error of 0.15 passes with rtol 1e-3 (0.2 allowed)
    def slightly_off(x):
        return _node(x.data**2, "**", (x,), (2 * x.data + 0.15,), arg=2.0)

    assert gradcheck(slightly_off, [100.0])
    assert not gradcheck(slightly_off, [100.0], rtol=1e-4, raise_exception=False)


def test_gradgradcheck_passes_and_catches_wrong_second_derivative():
    assert gradgradcheck(lambda a, b: (a * b).tanh() + a.exp() * b.sin(), [0.3, -0.7])
    assert gradgradcheck(lambda a: a**3 / (1 + a * a), [0.8])


def test_gradgradcheck_fails_on_a_wrong_rule(monkeypatch):
    from tinygrad_edu import engine

    monkeypatch.setitem(engine.DERIVATIVE_RULES, "tanh", lambda out, x: (1.0 - out,))
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(lambda a: a.tanh(), [0.5])


def test_numerical_jacobian():
    jac = numerical_jacobian(lambda a, b: [a * b, a.exp()], [2.0, 3.0])
    assert jac[0] == pytest.approx([3.0, 2.0]) and jac[1] == pytest.approx([math.exp(2.0), 0.0])


def test_bad_inputs():
    with pytest.raises(TypeError, match="gradcheck: inputs must be numbers or Values, got 'str'"):
        gradcheck(lambda a: a, ["x"])
    with pytest.raises(ValueError, match="gradcheck: needs at least one input"):
        gradcheck(lambda: Value(1.0), [])


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({0.5, 1.5}, "gradcheck: inputs must be a list of numbers or Values, got set"),
        (b"a", "gradcheck: inputs must be a list of numbers or Values, got bytes b'a'"),
        (None, "gradcheck: inputs must be a list of numbers or Values, got NoneType None"),
        (
            [0.5, None],
            "gradcheck: inputs must be numbers or Values, got 'NoneType' None as input 1",
        ),
    ],
)
def test_inputs_must_be_numbers_in_order(inputs, message):
    with pytest.raises(TypeError, match=message):
        gradcheck(lambda *xs: Value.sum(xs), inputs)


def test_numpy_scalars_are_accepted_as_inputs_and_outputs():
    np = pytest.importorskip("numpy")
    assert gradcheck(lambda a: a * a, [np.float64(0.5)])
    assert gradcheck(lambda a: a * a, [np.float32(0.5)])
    assert gradcheck(lambda a: a * a, np.float32(0.5))
    assert gradcheck(lambda a, b: a * b, np.array([0.5, 2.0]))
    assert gradgradcheck(lambda a: a * a * a, [np.int64(2)])
    assert numerical_jacobian(lambda a: [a, np.float32(1.0)], [np.float32(0.5)])[1] == [0.0]


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize(
    "argument, value, error",
    [
        ("eps", 0, ValueError),
        ("eps", -1e-6, ValueError),
        ("eps", math.nan, ValueError),
        ("eps", math.inf, ValueError),
        ("atol", -1.0, ValueError),
        ("atol", math.nan, ValueError),
        ("rtol", -1e-3, ValueError),
        ("rtol", math.inf, ValueError),
        ("eps", "1e-6", TypeError),
        ("atol", True, TypeError),
    ],
)
def test_steps_and_tolerances_are_checked_by_name(check, argument, value, error):
    with pytest.raises(error, match=f"{check.__name__}: {argument} must be .* got {value!r}"):
        check(lambda a: a * a, [0.5], **{argument: value})


def test_zero_tolerances_are_allowed_and_f_must_be_a_function():
    assert gradcheck(lambda a: a + a, [0.5], eps=0.25, atol=0.0, rtol=0.0)  # exact in binary
    with pytest.raises(ValueError, match="numerical_jacobian: eps must be finite and > 0, got 0"):
        numerical_jacobian(lambda a: a, [0.5], eps=0)
    with pytest.raises(TypeError, match="gradcheck: f must be a function, got 5"):
        gradcheck(5, [0.5])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gradcheck: f must return Values or numbers, got str"):
        gradcheck(lambda a: [a, "1.5"], [0.5])


def test_inputs_given_as_values_are_not_modified():
    x = Value(0.5)
    assert gradcheck(lambda a: a.exp(), [x])
    assert x.grad == 0.0


# -- check_local_derivatives: blame the edge -------------------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True)
@given(expressions(max_inputs=3, max_ops=12))
def test_check_local_derivatives_raises_no_false_alarm(expr):
    report = check_local_derivatives(expr(*expr.leaves()))
    assert report == [] and report.kinks == [] and report.unchecked == []


def test_check_local_derivatives_finds_a_planted_wrong_edge():
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    e = a * b
    e.label = "e"
    t = e.tanh()
    t.local_grads = (1.0 + t.data**2,)  # a wrong sign: 1 + t^2 instead of 1 - t^2
    loss = t * t + a
    (failure,) = check_local_derivatives(loss)
    assert failure.node is t and failure.op == "tanh" and failure.parent_index == 0
    assert failure.stored == 1.0 + t.data**2
    assert failure.numeric == pytest.approx(1.0 - t.data**2, rel=1e-6)
    assert "stored" in str(failure)


def test_gradcheck_says_that_and_check_local_derivatives_says_where():
    with pytest.raises(GradcheckError, match=r"check_local_derivatives\(root\)"):
        gradcheck(lambda x: wrong_square(x.sin()).exp(), [0.3])
    x = Value(0.3)
    (failure,) = check_local_derivatives(wrong_square(x.sin()).exp())
    assert failure.op == "**" and failure.stored == 3 * math.sin(0.3)


def test_check_local_derivatives_of_a_two_input_op():
    x, y = Value(2.0), Value(3.0)
    q = x / y
    q.local_grads = (q.local_grads[0], 2.0 / 9.0)  # d(x/y)/dy = -x/y^2: the sign dropped
    (failure,) = check_local_derivatives(q)
    assert failure.parent_index == 1 and failure.numeric == pytest.approx(-2.0 / 9.0)


def test_kinks_are_reported_as_kinks():
    x = Value(0.0, label="x")
    y = x.relu() + abs(x) + x.leaky_relu(0.1)
    report = check_local_derivatives(y)
    assert report == []
    assert sorted(k.op for k in report.kinks) == ["abs", "leaky_relu", "relu"]
    relu = next(k for k in report.kinks if k.op == "relu")
    assert (relu.left, relu.right, relu.stored) == (0.0, 1.0, 0.0)
    sqrt_at_zero = Value(0.0).sqrt()  # the edge of the domain: no two-sided difference
    assert [k.kind for k in check_local_derivatives(sqrt_at_zero).kinks] == ["kink"]


def test_a_wrong_derivative_at_a_kink_is_a_failure():
    x = Value(0.0)
    r = x.relu()
    r.local_grads = (5.0,)  # not between the slopes 0 and 1
    (failure,) = check_local_derivatives(r)
    assert failure.kind == "wrong"


def test_custom_ops_are_unchecked_unless_given_a_forward():
    def abs_cubed(x):  # notebook 07's wrong op: 3 x^2 forgets the sign of x
        return custom_op("|x|^3", abs(x.data) ** 3, (x,), local_grads=(3 * x.data**2,))

    x = Value(-0.7)
    y = abs_cubed(x).tanh()
    report = check_local_derivatives(y)
    assert report == [] and [v.op for v in report.unchecked] == ["|x|^3"]
    report = check_local_derivatives(y, forwards={"|x|^3": lambda v: abs(v) ** 3})
    (failure,) = report
    assert failure.op == "|x|^3" and failure.numeric == pytest.approx(-3 * 0.49, rel=1e-6)
    assert "unchecked" not in str(report)


def test_check_local_derivatives_checks_its_arguments():
    with pytest.raises(TypeError, match="root must be a Value"):
        check_local_derivatives(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps must be finite and > 0"):
        check_local_derivatives(Value(1.0), eps=0.0)
