"""grad() with create_graph, higher-order derivatives against closed forms, hessian and hvp."""

from __future__ import annotations

import math
import random

import pytest

from tinygrad_edu import Value
from tinygrad_edu.autodiff import grad, hessian, hvp, jacobian


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _tanh_derivatives(x: float) -> list[float]:
    t = math.tanh(x)
    s = 1 - t * t  # tanh' = sech^2
    return [s, -2 * t * s, s * (6 * t * t - 2), 8 * t * s * (2 - 3 * t * t)]


def _sigmoid_derivatives(x: float) -> list[float]:
    s = _sig(x)
    d1 = s * (1 - s)
    return [
        d1,
        d1 * (1 - 2 * s),
        d1 * (1 - 6 * s + 6 * s * s),
        d1 * (1 - 14 * s + 36 * s * s - 24 * s**3),
    ]


CLOSED_FORMS = {
    "tanh": (Value.tanh, _tanh_derivatives),
    "x**3": (lambda v: v**3, lambda x: [3 * x * x, 6 * x, 6.0, 0.0]),
    "sin": (Value.sin, lambda x: [math.cos(x), -math.sin(x), -math.cos(x), math.sin(x)]),
    "exp": (Value.exp, lambda x: [math.exp(x)] * 4),
    "sigmoid": (Value.sigmoid, _sigmoid_derivatives),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_first_four_derivatives_match_closed_forms(name):
    op, derivatives = CLOSED_FORMS[name]
    rng = random.Random(name)
    for _ in range(5):
        x0 = rng.uniform(-2.0, 2.0)
        x = Value(x0)
        current = op(x)
        got = []
        for _order in range(4):
            (current,) = grad(current, [x], create_graph=True)
            got.append(current.data)
        assert got == pytest.approx(derivatives(x0), rel=1e-9, abs=1e-12)


def test_grad_does_not_touch_dot_grad_and_matches_backward():
    a, b = Value(0.3), Value(-1.2)
    y = (a * b).sin() + a.exp() / (b * b)
    ga, gb = grad(y, [a, b])
    assert a.grad == 0.0 and b.grad == 0.0 and y.grad == 0.0
    y.backward()
    assert (ga, gb) == (a.grad, b.grad)


def test_grad_of_unused_input_is_zero_and_interior_inputs_work():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    h = a * b
    y = h.exp()
    assert grad(y, [c]) == (0.0,)
    (gh,) = grad(y, [h])
    assert gh == pytest.approx(math.exp(2.0))
    (gc_,) = grad(y, [c], create_graph=True)
    assert isinstance(gc_, Value) and gc_.data == 0.0


def test_single_value_input_and_type_errors():
    x = Value(2.0)
    assert grad(x * x, x) == (4.0,)
    with pytest.raises(TypeError, match="grad: inputs must be Values, got 'float'"):
        grad(x * x, [2.0])
    with pytest.raises(TypeError, match="grad: output must be a Value"):
        grad(3.0, [x])


def test_mixed_partial_derivative():
    # f = x^2 y^3: d2f/dxdy = 6 x y^2
    x, y = Value(1.5), Value(-0.5)
    f = x**2 * y**3
    dfdx, _ = grad(f, [x, y], create_graph=True)
    (d2,) = grad(dfdx, [y])
    assert d2 == pytest.approx(6 * 1.5 * 0.25)


def test_create_graph_gradients_agree_with_backward():
    x, y = Value(0.4), Value(1.3)
    f = (x * y).tanh() * y.log() + (x**2 + y).sqrt()
    gx, gy = grad(f, [x, y], create_graph=True)
    f.backward()
    assert gx.data == pytest.approx(x.grad, rel=1e-12)
    assert gy.data == pytest.approx(y.grad, rel=1e-12)


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize("point", [(-1.5, 2.0), (1.0, 1.0), (0.3, -0.7)])
def test_hessian_of_rosenbrock(point):
    x, y = point
    expected = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]
    assert hessian(rosenbrock, point) == [pytest.approx(row, rel=1e-12) for row in expected]


def test_hessian_and_hvp_of_quadratic_form():
    # f(x) = 1/2 x^T A x + b^T x has Hessian (A + A^T)/2 ... = A for symmetric A
    a = [[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 5.0]]
    b = [1.0, -1.0, 2.0]

    def f(*xs):
        quad = Value.sum(a[i][j] * xs[i] * xs[j] for i in range(3) for j in range(3))
        return 0.5 * quad + Value.sum(bi * xi for bi, xi in zip(b, xs))

    point = [0.3, -1.1, 2.0]
    assert hessian(f, point) == [pytest.approx(row) for row in a]
    v = [1.0, 2.0, -1.0]
    expected = [sum(a[i][j] * v[j] for j in range(3)) for i in range(3)]
    assert hvp(f, point, v) == pytest.approx(expected)
    with pytest.raises(ValueError, match="hvp: v has length 2, xs has length 3"):
        hvp(f, point, [1.0, 2.0])


def test_jacobian():
    jac = jacobian(lambda x, y: [x * y, x + y.exp()], [2.0, 0.5])
    assert jac == [pytest.approx([0.5, 2.0]), pytest.approx([1.0, math.exp(0.5)])]


def test_higher_order_of_division_and_powers():
    # f = 1/x: f'' = 2/x^3 ; g = x^y: d2g/dy2 = x^y ln(x)^2
    x = Value(1.7)
    (d1,) = grad(1 / x, [x], create_graph=True)
    (d2,) = grad(d1, [x])
    assert d2 == pytest.approx(2 / 1.7**3)
    y = Value(0.8)
    (dy,) = grad(x**y, [y], create_graph=True)
    (dyy,) = grad(dy, [y])
    assert dyy == pytest.approx(1.7**0.8 * math.log(1.7) ** 2)
