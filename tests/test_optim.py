"""Optimizers, schedules, test functions: hand-worked updates, validation, state_dict, Rosenbrock.

The update rules are checked against numbers worked out by hand (on f(p) = p^2, where g = 2p), the
schedules against their closed forms, Newton and L-BFGS against linear algebra done independently,
and whole trajectories against points recorded from ``torch.optim`` (torch is not imported).
"""

from __future__ import annotations

import json
import math
import random
import re

import pytest

from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.engine import Parameter, Value
from tinygrad_edu.optim import (
    LBFGS,
    SGD,
    TEST_FUNCTION_MINIMA,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    Newton,
    Optimizer,
    Projected,
    RMSprop,
    StepLR,
    beale,
    ill_conditioned_bowl,
    minimize,
    project_onto_ball,
    project_onto_box,
    project_onto_hyperplane,
    ridge_regression,
    rosenbrock,
    saddle,
    tilted_double_well,
)

# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def square_steps(make, start=1.0, steps=1):
    """Run ``make([p])`` on f(p) = p^2 (gradient 2p) and return p after each step."""
    p = Parameter(start)
    opt = make([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (p * p).backward()
        opt.step()
        out.append(p.data)
    return out


def run(f, params, opt, steps):
    """Minimise f(*params) with ``opt`` for ``steps`` closure steps; return the points visited."""

    def closure():
        opt.zero_grad()
        loss = f(*params)
        loss.backward()
        return loss

    points = []
    for _ in range(steps):
        opt.step(closure)
        points.append([p.data for p in params])
    return points


def quadratic(x, y):
    """0.5 (3x^2 + 2xy + 4y^2) - x + 2y: Hessian [[3, 1], [1, 4]], minimum H^-1 (1, -2)."""
    return 0.5 * (3 * x * x + 2 * x * y + 4 * y * y) - x + 2 * y


QUADRATIC_MIN = (6 / 11, -7 / 11)  # (1/11) [[4, -1], [-1, 3]] (1, -2)


# ----------------------------------------------------------------------------------------------
# one step of each optimizer, by hand (f = p^2, p0 = 1, so g = 2)
# ----------------------------------------------------------------------------------------------


def test_sgd_plain_and_weight_decay_by_hand():
    assert square_steps(lambda ps: SGD(ps, lr=0.1)) == [pytest.approx(1 - 0.1 * 2, abs=1e-15)]
    # weight decay adds lambda * p to g: g = 2 + 0.1 * 1 = 2.1
    assert square_steps(lambda ps: SGD(ps, lr=0.1, weight_decay=0.1)) == [
        pytest.approx(1 - 0.1 * 2.1, abs=1e-15)
    ]


def test_sgd_momentum_two_steps_by_hand():
    # step 1: g = 2, b = g = 2, p = 1 - 0.1 * 2 = 0.8
    # step 2: g = 1.6, b = 0.9 * 2 + 1.6 = 3.4, p = 0.8 - 0.34 = 0.46
    got = square_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9), steps=2)
    assert got == pytest.approx([0.8, 0.46], abs=1e-15)


def test_sgd_dampening_does_not_damp_the_first_buffer():
    # step 1: b = g = 2 (PyTorch: the first buffer is g itself); step 2: b = 0.9*2 + 0.5*1.6 = 2.6
    got = square_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), steps=2)
    assert got == pytest.approx([0.8, 0.8 - 0.1 * 2.6], abs=1e-15)


def test_sgd_nesterov_two_steps_by_hand():
    # step 1: g = 2, b = 2, g' = g + 0.9 b = 3.8, p = 1 - 0.38 = 0.62
    # step 2: g = 1.24, b = 0.9*2 + 1.24 = 3.04, g' = 1.24 + 0.9*3.04 = 3.976, p = 0.2224
    got = square_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), steps=2)
    assert got == pytest.approx([0.62, 0.2224], abs=1e-15)


def test_adagrad_two_steps_by_hand():
    # step 1: G = 0.5 + 2^2 = 4.5, p = 1 - 0.1 * 2 / sqrt(4.5)
    p1 = 1 - 0.1 * 2 / (math.sqrt(4.5) + 1e-10)
    # step 2: lr_t = 0.1 / (1 + 1 * 0.2), g = 2 p1, G = 4.5 + g^2
    g2 = 2 * p1
    p2 = p1 - 0.1 / 1.2 * g2 / (math.sqrt(4.5 + g2 * g2) + 1e-10)
    got = square_steps(
        lambda ps: Adagrad(ps, lr=0.1, lr_decay=0.2, initial_accumulator_value=0.5), steps=2
    )
    assert got == pytest.approx([p1, p2], rel=1e-15)


def test_rmsprop_one_step_by_hand():
    # v = (1 - 0.99) * 4 = 0.04, p = 1 - 0.01 * 2 / (0.2 + 1e-8)
    assert square_steps(lambda ps: RMSprop(ps)) == [pytest.approx(1 - 0.01 * 2 / (0.2 + 1e-8))]


def test_rmsprop_centered_and_momentum_by_hand():
    # centered: m = 0.1 * 2 = 0.2, v = 0.1 * 4 = 0.4, s = sqrt(0.4 - 0.04) + eps
    s = math.sqrt(0.4 - 0.04) + 1e-8
    got = square_steps(lambda ps: RMSprop(ps, lr=0.01, alpha=0.9, centered=True))
    assert got == [pytest.approx(1 - 0.01 * 2 / s, rel=1e-14)]
    # momentum: b = 0 * 0.5 + g / s, two steps
    s1 = math.sqrt(0.4) + 1e-8
    b1 = 2 / s1
    p1 = 1 - 0.01 * b1
    g2 = 2 * p1
    v2 = 0.9 * 0.4 + 0.1 * g2 * g2
    b2 = 0.5 * b1 + g2 / (math.sqrt(v2) + 1e-8)
    got = square_steps(lambda ps: RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5), steps=2)
    assert got == pytest.approx([p1, p1 - 0.01 * b2], rel=1e-14)


def test_adam_first_step_is_lr_times_sign_of_gradient():
    # m = 0.1 g, v = 0.001 g^2; bias-corrected m/(1 - 0.9) = g, v/(1 - 0.999) = g^2, so the first
    # step is lr * g / (|g| + eps): lr in the direction of -sign(g), whatever the size of g.
    for start in (1.0, -30.0, 1e-3):
        (p1,) = square_steps(lambda ps: Adam(ps, lr=0.1), start=start)
        g = 2 * start
        assert p1 == pytest.approx(start - 0.1 * g / (abs(g) + 1e-8), rel=1e-14)


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p, m, v = 1.0, 0.0, 0.0
    expected = []
    for t in (1, 2):
        g = 2 * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
        expected.append(p)
    assert square_steps(lambda ps: Adam(ps, lr=lr), steps=2) == pytest.approx(expected, rel=1e-14)


def test_adam_amsgrad_uses_the_largest_second_moment():
    # Two steps on f = c p with a big then a small gradient: v shrinks, v_max does not.
    p = Parameter(0.0)
    opt = Adam([p], lr=0.1, betas=(0.0, 0.5), amsgrad=True)
    for c in (10.0, 1.0):
        opt.zero_grad()
        (c * p).backward()
        opt.step()
    # step 2: m = 1, v = 0.5 * 100 + 0.5 * 1 = 50.5, v_max = max(50, 50.5) ... with beta2 = 0.5:
    # step 1: v = 0.5 * 100 = 50; step 2: v = 0.5 * 50 + 0.5 * 1 = 25.5 < v_max = 50.
    state = opt.state[p]
    assert state["exp_avg_sq"] == pytest.approx(25.5)
    assert state["max_exp_avg_sq"] == pytest.approx(50.0)
    step1 = 0.1 * 10 / (math.sqrt(50) / math.sqrt(0.5) + 1e-8)
    step2 = 0.1 * 1 / (math.sqrt(50) / math.sqrt(0.75) + 1e-8)
    assert p.data == pytest.approx(-step1 - step2, rel=1e-14)


def test_adamw_decays_the_weight_not_the_gradient():
    lr, wd = 0.1, 0.5
    (got,) = square_steps(lambda ps: AdamW(ps, lr=lr, weight_decay=wd))
    # theta <- theta (1 - lr wd) = 0.95, then Adam's first step with the plain g = 2
    assert got == pytest.approx(1 * (1 - lr * wd) - lr * 2 / (2 + 1e-8), rel=1e-14)
    # Adam's coupled L2 instead adds wd * p to g, which the first step normalises away:
    (coupled,) = square_steps(lambda ps: Adam(ps, lr=lr, weight_decay=wd))
    assert coupled == pytest.approx(1 - lr * 2.5 / (2.5 + 1e-8), rel=1e-14)
    assert AdamW([Parameter(1.0)]).defaults["weight_decay"] == 1e-2


def test_adam_step_counter_advances_once_per_step_not_per_parameter():
    """The classic bug: one counter bumped inside the loop over parameters.

    Three independent parameters (f = sum of separate terms) must each follow exactly the path
    they follow when optimised alone; with the bug, the bias correction of the 2nd and 3rd would
    use t = 2, 3 on the first step.
    """
    starts = [1.0, -2.0, 0.5]

    def f3(a, b, c):
        return a * a + (b - 1) ** 2 + c.exp()

    together = [Parameter(s) for s in starts]
    opt = Adam(together, lr=0.05)
    run(f3, together, opt, 7)
    assert [opt.state[p]["step"] for p in together] == [7, 7, 7]
    singles = [lambda a: a * a, lambda b: (b - 1) ** 2, lambda c: c.exp()]
    for p_together, start, f in zip(together, starts, singles):
        alone = Parameter(start)
        run(f, [alone], Adam([alone], lr=0.05), 7)
        assert p_together.data == alone.data


def test_lbfgs_first_iteration_is_a_scaled_gradient_step():
    # f = x^2 + 3y^2 at (1, 1): g = (2, 6), |g|_1 = 8, t = min(1, 1/8) * lr, x1 = x0 - t g
    x, y = Parameter(1.0), Parameter(1.0)
    opt = LBFGS([x, y], lr=1, max_iter=1)
    run(lambda a, b: a * a + 3 * b * b, [x, y], opt, 1)
    assert (x.data, y.data) == pytest.approx((1 - 2 / 8, 1 - 6 / 8), abs=1e-15)


def test_lbfgs_second_direction_is_the_bfgs_update_applied_to_the_gradient():
    """With one (s, y) pair, the two-loop recursion must equal -H1 g with the explicit matrix

    H1 = (I - rho s y^T) H0 (I - rho y s^T) + rho s s^T,  H0 = (y.s / y.y) I,  rho = 1 / (y.s),

    which satisfies the secant condition H1 y = s.
    """
    f = lambda a, b: a * a + 3 * b * b  # noqa: E731
    x, y = Parameter(1.0), Parameter(1.0)
    opt = LBFGS([x, y], lr=1, max_iter=1)
    run(f, [x, y], opt, 1)
    x0, g0 = (1.0, 1.0), (2.0, 6.0)
    x1 = (x.data, y.data)
    g1 = (2 * x1[0], 6 * x1[1])
    s = (x1[0] - x0[0], x1[1] - x0[1])
    yv = (g1[0] - g0[0], g1[1] - g0[1])
    ys = s[0] * yv[0] + s[1] * yv[1]
    rho, gamma = 1 / ys, ys / (yv[0] ** 2 + yv[1] ** 2)
    eye = [[1.0, 0.0], [0.0, 1.0]]
    left = [[eye[i][j] - rho * s[i] * yv[j] for j in range(2)] for i in range(2)]
    right = [[eye[i][j] - rho * yv[i] * s[j] for j in range(2)] for i in range(2)]
    mid = [
        [gamma * sum(left[i][k] * right[k][j] for k in range(2)) for j in range(2)]
        for i in range(2)
    ]
    h1 = [[mid[i][j] + rho * s[i] * s[j] for j in range(2)] for i in range(2)]
    assert [sum(h1[i][j] * yv[j] for j in range(2)) for i in range(2)] == pytest.approx(s)
    d = [-sum(h1[i][j] * g1[j] for j in range(2)) for i in range(2)]
    run(f, [x, y], opt, 1)  # t = lr = 1 from the second iteration on, no line search
    assert (x.data, y.data) == pytest.approx((x1[0] + d[0], x1[1] + d[1]), rel=1e-13, abs=1e-15)


def test_lbfgs_strong_wolfe_solves_a_quadratic_quickly():
    x, y = Parameter(-1.0), Parameter(2.0)
    opt = LBFGS([x, y], line_search_fn="strong_wolfe")
    run(quadratic, [x, y], opt, 1)
    # It stops when f changes by less than tolerance_change (1e-9): here 4e-7 from the minimum.
    assert (x.data, y.data) == pytest.approx(QUADRATIC_MIN, abs=1e-6)
    state = opt.state[x]
    assert state["n_iter"] <= 6 and state["func_evals"] <= 10


def test_newton_lands_on_the_minimum_of_a_quadratic_in_one_step():
    x, y = Parameter(5.0), Parameter(-3.0)
    opt = Newton([x, y], damping=0.0)
    run(quadratic, [x, y], opt, 1)
    assert (x.data, y.data) == pytest.approx(QUADRATIC_MIN, abs=1e-12)
    assert opt.state[x]["hessian_evals"] == 1


def test_newton_damped_step_by_hand():
    # (H + 0.5 I) d = g with H = [[3, 1], [1, 4]]; then theta <- theta - 0.5 d
    x0, y0 = 5.0, -3.0
    g = (3 * x0 + y0 - 1, x0 + 4 * y0 + 2)
    a, b, c = 3.5, 1.0, 4.5  # H + 0.5 I = [[a, b], [b, c]]
    det = a * c - b * b
    d = ((c * g[0] - b * g[1]) / det, (-b * g[0] + a * g[1]) / det)
    x, y = Parameter(x0), Parameter(y0)
    opt = Newton([x, y], lr=0.5, damping=0.5)
    run(quadratic, [x, y], opt, 1)
    assert (x.data, y.data) == pytest.approx((x0 - 0.5 * d[0], y0 - 0.5 * d[1]), rel=1e-14)
    assert opt.state[x]["damping_used"] == 0.5


def test_newton_raises_damping_at_a_saddle_and_escapes_it():
    # H = diag(2, -2) is indefinite: Cholesky fails until damping > 2 (1e-4 * 10^k: 10).
    x, y = Parameter(0.5), Parameter(0.1)
    opt = Newton([x, y])
    run(saddle, [x, y], opt, 1)
    used = opt.state[x]["damping_used"]
    assert used == pytest.approx(10.0)
    # d = g / (H + 10 I): x moves toward 0, |y| grows (downhill along -y^2)
    assert x.data == pytest.approx(0.5 - 1.0 / 12.0)
    assert y.data == pytest.approx(0.1 + 0.2 / 8.0)


def test_newton_refuses_too_many_parameters():
    params = [Parameter(0.0) for _ in range(501)]
    with pytest.raises(ValueError, match=r"501 parameters exceed max_params=500"):
        Newton(params)
    with pytest.raises(ValueError, match=r"3 parameters exceed max_params=2"):
        Newton(params[:3], max_params=2)


def test_closure_requirements():
    x = Parameter(1.0)
    with pytest.raises(TypeError, match="LBFGS.step: a closure is required"):
        LBFGS([x]).step()
    with pytest.raises(TypeError, match="Newton.step: a closure is required"):
        Newton([x]).step()
    with pytest.raises(TypeError, match="must return the loss as a Value"):
        Newton([x]).step(lambda: 1.0)


def test_first_order_step_returns_the_closure_loss_and_zero_grad_resets():
    x = Parameter(3.0)
    opt = SGD([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = x * x
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.data == 9.0 and x.data == pytest.approx(3 - 0.6)
    assert opt.step() is None  # without a closure: uses the grad already there (6.0)
    assert x.data == pytest.approx(3 - 1.2)
    opt.zero_grad()
    assert x.grad == 0.0


def test_param_groups_have_their_own_hyperparameters():
    a, b = Parameter(1.0), Parameter(1.0)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    run(lambda p, q: p * p + q * q, [a, b], opt, 1)
    assert (a.data, b.data) == pytest.approx((0.8, 0.0))
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


# ----------------------------------------------------------------------------------------------
# hyperparameter validation and bad parameters
# ----------------------------------------------------------------------------------------------

ALL = [SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS, Newton]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_negative_learning_rate_is_rejected(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid learning rate -0.1"):
        cls([Parameter(1.0)], lr=-0.1)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: SGD(p, momentum=-0.5), "SGD: invalid momentum value -0.5"),
        (lambda p: SGD(p, weight_decay=-1), "SGD: invalid weight_decay value -1"),
        (lambda p: SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda p: SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), r"beta parameter at index 0: 1.0"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), r"beta parameter at index 1: -0.1"),
        (lambda p: AdamW(p, betas=(0.9, 1.5)), r"AdamW: invalid beta parameter at index 1"),
        (lambda p: Adam(p, betas=(0.9,)), "betas must be a pair"),
        (lambda p: Adam(p, eps=-1e-8), "invalid epsilon value"),
        (lambda p: Adam(p, weight_decay=-0.1), "invalid weight_decay value"),
        (lambda p: Adagrad(p, lr_decay=-1), "Adagrad: invalid lr_decay value -1"),
        (lambda p: Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda p: Adagrad(p, eps=-1), "Adagrad: invalid eps value"),
        (lambda p: RMSprop(p, alpha=-0.1), "RMSprop: invalid alpha value -0.1"),
        (lambda p: RMSprop(p, alpha=1.5), "RMSprop: invalid alpha value 1.5"),
        (lambda p: RMSprop(p, momentum=-1), "RMSprop: invalid momentum value"),
        (lambda p: RMSprop(p, eps=float("nan")), "RMSprop: invalid eps value nan"),
        (lambda p: LBFGS(p, line_search_fn="armijo"), "line_search_fn must be None or"),
        (lambda p: LBFGS(p, max_iter=0), "LBFGS: invalid max_iter 0"),
        (lambda p: LBFGS(p, history_size=0), "LBFGS: invalid history_size 0"),
        (lambda p: Newton(p, damping=-1.0), "Newton: invalid damping -1.0"),
        (lambda p: Newton(p, max_params=0), "Newton: invalid max_params 0"),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make([Parameter(1.0)])


def test_lr_must_be_a_number():
    with pytest.raises(TypeError, match="SGD: learning rate must be a real number"):
        SGD([Parameter(1.0)], lr="0.1")


def test_bad_parameter_lists():
    x = Parameter(1.0)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([])
    with pytest.raises(TypeError, match="got a single Value"):
        SGD(x)
    with pytest.raises(TypeError, match="not a set"):
        SGD({x})
    with pytest.raises(TypeError, match="can only optimize Values, but parameter 0 is 'float'"):
        SGD([1.0])
    with pytest.raises(ValueError, match=r"parameter 0 \('c'\) has requires_grad=False"):
        SGD([Value(1.0, label="c", requires_grad=False)])
    with pytest.raises(ValueError, match="non-leaf Value .* op '\\*'"):
        SGD([x * 2])
    with pytest.raises(ValueError, match="appears more than once"):
        SGD([x, x])
    with pytest.raises(ValueError, match="appears more than once"):
        SGD([{"params": [x]}, {"params": [x]}])
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        LBFGS([{"params": [x]}, {"params": [Parameter(2.0)]}])


# ----------------------------------------------------------------------------------------------
# state_dict: saving and resuming gives the identical trajectory
# ----------------------------------------------------------------------------------------------

RESUMABLE = {
    "SGD-nesterov": lambda p: SGD(p, lr=1e-3, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adagrad": lambda p: Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "RMSprop-centered": lambda p: RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "Adam-amsgrad": lambda p: Adam(p, lr=0.02, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda p: AdamW(p, lr=0.02, betas=(0.8, 0.99)),
    "LBFGS-wolfe": lambda p: LBFGS(p, max_iter=2, line_search_fn="strong_wolfe"),
    "LBFGS": lambda p: LBFGS(p, lr=0.1, max_iter=3, history_size=2),
    "Newton": lambda p: Newton(p, lr=0.5),
}


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_state_dict_round_trip_through_json_continues_identically(name):
    make = RESUMABLE[name]
    params = [Parameter(-1.5), Parameter(2.0)]
    opt = make(params)
    run(rosenbrock, params, opt, 5)
    saved = json.loads(json.dumps(opt.state_dict()))  # plain data: survives JSON
    point = [p.data for p in params]
    reference = run(rosenbrock, params, opt, 5)

    resumed_params = [Parameter(v) for v in point]
    resumed = make(resumed_params)
    resumed.load_state_dict(saved)
    assert run(rosenbrock, resumed_params, resumed, 5) == reference  # exactly, not approx


def test_load_state_dict_rejects_a_different_layout():
    opt = Adam([Parameter(1.0), Parameter(2.0)])
    with pytest.raises(ValueError, match="saved group 0 has 1 parameters, .* has 2"):
        opt.load_state_dict(Adam([Parameter(1.0)]).state_dict())
    with pytest.raises(ValueError, match="1 parameter group"):
        SGD([{"params": [Parameter(1.0)]}, {"params": [Parameter(1.0)]}]).load_state_dict(
            SGD([Parameter(1.0)]).state_dict()
        )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda g: g.update(lr=-0.1), "Adam: invalid learning rate -0.1 (must be >= 0)"),
        (lambda g: g.update(betas=[0.9, 1.5]), "Adam: invalid beta parameter at index 1: 1.5"),
        (lambda g: g.pop("eps"), "Adam.load_state_dict: saved group 0 lacks ['eps']"),
    ],
)
def test_load_state_dict_checks_hyperparameters_and_changes_nothing_on_error(edit, message):
    p = Parameter(1.0)
    opt = Adam([p], lr=0.5)
    opt.zero_grad()
    (p * p).backward()
    opt.step()
    before = json.dumps(opt.state_dict())
    saved = json.loads(before)
    edit(saved["param_groups"][0])
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.load_state_dict(saved)
    assert json.dumps(opt.state_dict()) == before  # nothing half-applied


def _trained(name):
    """An optimizer of RESUMABLE after 3 steps on rosenbrock, its parameters and saved state."""
    params = [Parameter(-1.5), Parameter(2.0)]
    opt = RESUMABLE[name](params)
    run(rosenbrock, params, opt, 3)
    return opt, params, json.dumps(opt.state_dict())


def _refused(opt, params, before, state_dict, message):
    """load_state_dict raises naming the optimizer, the key and the value, and changes nothing."""
    point = [p.data for p in params]
    with pytest.raises((TypeError, ValueError), match=message):
        opt.load_state_dict(state_dict)
    assert json.dumps(opt.state_dict()) == before
    assert [p.data for p in params] == point


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_load_state_dict_refuses_garbage_in_every_state_entry(name):
    # Before: {"state": {"0": "garbage"}} loaded, and the next step() failed with
    # TypeError: string indices must be integers; a string step count, a list for a moment
    # or a NaN buffer loaded too. Now every entry a step() reads is checked at load.
    opt, params, before = _trained(name)
    cls = type(opt).__name__
    saved = json.loads(before)
    saved["state"]["0"] = "garbage"
    _refused(opt, params, before, saved, rf"{cls}.load_state_dict: state\['0'\] must be a dict")
    _refused(opt, params, before, None, rf"{cls}.load_state_dict: expected a dict .* got None")
    for key in json.loads(before)["state"]["0"]:
        for bad in ("garbage", float("nan"), [[1.0]], True):
            saved = json.loads(before)
            saved["state"]["0"][key] = bad
            where = re.escape(f"{cls}.load_state_dict: state['0']")
            _refused(opt, params, before, saved, rf"{where}.*{re.escape(repr(key))}.*got")
    saved = json.loads(before)
    saved["state"]["0"]["unknown"] = 1.0
    _refused(opt, params, before, saved, "unexpected key.*'unknown'")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda sd: sd.clear(), r"SGD.load_state_dict: expected a dict with keys .*, got \[\]"),
        (lambda sd: sd.pop("state"), r"expected a dict with keys 'state' and 'param_groups'"),
        (lambda sd: sd.update(state=[]), r"'state' must be a dict .*, got \[\]"),
        (lambda sd: sd.update(param_groups=None), r"'param_groups' must be a list .*, got None"),
        (lambda sd: sd.update(param_groups=[3]), r"param_groups\[0\] must be a dict, got 3"),
        (lambda sd: sd["param_groups"][0].update(params="ab"), r"\['params'\] must be a list"),
        (lambda sd: sd["param_groups"][0].update(params=[1, 0]), r"must be \[0, 1\].*\[1, 0\]"),
        (lambda sd: sd["state"].update(x={}), r"state key 'x' is not a parameter index"),
        (lambda sd: sd["state"].update({"5": {}}), r"state\['5'\] is for parameter index 5"),
        (lambda sd: sd["state"].update({0: {}}), r"state\[0\] repeats parameter index 0"),
        (lambda sd: sd["param_groups"][0].update(initial_lr="a"), r"initial_lr'\] must be a real"),
    ],
)
def test_load_state_dict_refuses_a_malformed_container(edit, message):
    # Before: bare parsing errors ("object of type 'NoneType' has no len()", "'list' object has
    # no attribute 'items'", "invalid literal for int() with base 10: 'x'").
    params = [Parameter(-1.5), Parameter(2.0)]
    opt = SGD(params, lr=1e-3, momentum=0.9)
    run(rosenbrock, params, opt, 2)
    before = json.dumps(opt.state_dict())
    saved = json.loads(before)
    edit(saved)
    _refused(opt, params, before, saved, message)


def test_load_state_dict_refuses_the_state_a_step_could_not_use():
    # An Adagrad without a parameter's sum, an Adam with amsgrad and no v_max, an L-BFGS that
    # iterated without its history, Newton's state under a second parameter: each made step()
    # fail with KeyError or RuntimeError after the load.
    opt, params, before = _trained("Adagrad")
    saved = json.loads(before)
    del saved["state"]["1"]
    _refused(opt, params, before, saved, "Adagrad.load_state_dict: no state for parameter 1")
    opt, params, before = _trained("Adam-amsgrad")
    saved = json.loads(before)
    del saved["state"]["1"]["max_exp_avg_sq"]
    _refused(opt, params, before, saved, r"state\['1'\] lacks \['max_exp_avg_sq'\]")
    opt, params, before = _trained("LBFGS")
    saved = json.loads(before)
    saved["state"]["0"]["old_dirs"] = None
    _refused(opt, params, before, saved, r"n_iter=\d+ but lacks \['old_dirs'\]")
    saved = json.loads(before)
    saved["state"]["0"]["ro"].append(1.0)
    _refused(opt, params, before, saved, r"\['ro'\] must be up to history_size=2")
    opt, params, before = _trained("Newton")
    saved = json.loads(before)
    saved["state"]["1"] = saved["state"]["0"]
    _refused(opt, params, before, saved, "Newton keeps its state under the first parameter")


def test_load_state_dict_restores_hyperparameters_and_betas_tuple():
    src = Adam([Parameter(1.0)], lr=0.5, betas=(0.5, 0.6))
    dst = Adam([Parameter(1.0)])
    dst.load_state_dict(json.loads(json.dumps(src.state_dict())))
    assert dst.param_groups[0]["lr"] == 0.5 and dst.param_groups[0]["betas"] == (0.5, 0.6)


# ----------------------------------------------------------------------------------------------
# schedules
# ----------------------------------------------------------------------------------------------


def lr_sequence(make_scheduler, epochs, lr=0.1):
    """lr used in epochs 0 .. epochs-1: read, optimizer.step(), scheduler.step()."""
    p = Parameter(1.0)
    opt = SGD([p], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(epochs):
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_step_lr_matches_closed_form():
    got = lr_sequence(lambda o: StepLR(o, step_size=3, gamma=0.5), 10)
    assert got == pytest.approx([0.1 * 0.5 ** (e // 3) for e in range(10)], rel=1e-15)


def test_exponential_lr_matches_closed_form():
    got = lr_sequence(lambda o: ExponentialLR(o, gamma=0.9), 30)
    assert got == pytest.approx([0.1 * 0.9**e for e in range(30)], rel=1e-13)


@pytest.mark.parametrize("t_max, eta_min", [(10, 0.0), (7, 0.01)])
def test_cosine_lr_matches_closed_form_also_past_t_max(t_max, eta_min):
    epochs = 3 * t_max + 2  # past the bottom the cosine rises again (period 2 T_max), as torch
    got = lr_sequence(lambda o: CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), epochs)
    closed = [
        eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2 for e in range(epochs)
    ]
    assert got == pytest.approx(closed, abs=1e-12)
    assert got[t_max] == pytest.approx(eta_min, abs=1e-12)


def test_scheduler_drives_the_optimizer_and_epoch_jumps_use_the_closed_form():
    x = Parameter(1.0)
    opt = SGD([x], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    sched.step()  # lr 0.5
    opt.zero_grad()
    (x * x).backward()
    opt.step()
    assert x.data == pytest.approx(1 - 0.5 * 2)
    cos = CosineAnnealingLR(SGD([Parameter(1.0)], lr=0.2), T_max=8)
    cos.step(4)
    assert cos.last_epoch == 4 and cos.get_last_lr() == [pytest.approx(0.1)]
    assert isinstance(sched, LRScheduler) and isinstance(opt, Optimizer)


def test_scheduler_state_dict_round_trip():
    opt = SGD([Parameter(1.0)], lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    saved_opt = json.loads(json.dumps(opt.state_dict()))
    saved = json.loads(json.dumps(sched.state_dict()))
    rest = []
    for _ in range(4):
        sched.step()
        rest.append(sched.get_last_lr()[0])

    opt2 = SGD([Parameter(1.0)], lr=0.1)
    sched2 = CosineAnnealingLR(opt2, T_max=10)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    rest2 = []
    for _ in range(4):
        sched2.step()
        rest2.append(sched2.get_last_lr()[0])
    assert rest2 == rest


def test_scheduler_validation():
    opt = SGD([Parameter(1.0)])
    with pytest.raises(TypeError, match="expected an Optimizer"):
        StepLR("not an optimizer", step_size=2)
    with pytest.raises(ValueError, match="StepLR: invalid step_size 0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: invalid T_max 0"):
        CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(KeyError, match="initial_lr"):
        ExponentialLR(SGD([Parameter(1.0)]), gamma=0.9, last_epoch=3)


# ----------------------------------------------------------------------------------------------
# test functions and minimize
# ----------------------------------------------------------------------------------------------

FUNCTIONS = {
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
    "ill_conditioned_bowl": ill_conditioned_bowl,
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_test_functions_agree_on_floats_and_values_and_have_their_stationary_point(name):
    f = FUNCTIONS[name]
    for x, y in [(0.3, -0.7), (-1.2, 1.1), (2.0, 0.5)]:
        assert f(Value(x), Value(y)).data == pytest.approx(f(x, y), rel=1e-15)
    point = TEST_FUNCTION_MINIMA[name] or (0.0, 0.0)
    vx, vy = Value(point[0]), Value(point[1])
    assert f(*point) == 0.0
    assert grad(f(vx, vy), [vx, vy]) == pytest.approx((0.0, 0.0), abs=1e-12)


def test_test_function_hessians():
    assert hessian(saddle, [0.0, 0.0]) == [[2.0, 0.0], [0.0, -2.0]]
    assert hessian(ill_conditioned_bowl, [0.3, 0.2]) == [[1.0, 0.0], [0.0, 50.0]]
    assert hessian(rosenbrock, [1.0, 1.0]) == [[802.0, -400.0], [-400.0, 200.0]]


# the tilted double well: every stationary point in closed form
WELL_POINTS = {  # (x, y): (f, Hessian, kind)
    (-1.5, -0.75): (-117 / 16, [[20.5, -1.0], [-1.0, 2.0]], "global minimum"),
    (1.0, 0.5): (0.5, [[5.5, -1.0], [-1.0, 2.0]], "local minimum"),
    (0.5, 0.25): (11 / 16, [[-3.5, -1.0], [-1.0, 2.0]], "saddle"),
}


def test_tilted_double_well_stationary_points_are_the_closed_form():
    # On y = x/2, df/dx = 4x^3 - 7x + 3 = (x - 1)(2x - 1)(2x + 3): roots 1, 1/2, -3/2.
    for (x, y), (value, hess, kind) in WELL_POINTS.items():
        assert 4 * x**3 - 7 * x + 3 == 0.0 and y == x / 2
        vx, vy = Value(x), Value(y)
        f = tilted_double_well(vx, vy)
        assert f.data == value == tilted_double_well(x, y)
        assert grad(f, [vx, vy]) == (0.0, 0.0)
        assert hessian(tilted_double_well, [x, y]) == hess
        det = hess[0][0] * hess[1][1] - hess[0][1] ** 2
        assert (det > 0 and hess[0][0] > 0) == (kind != "saddle")
    assert TEST_FUNCTION_MINIMA["tilted_double_well"] == (-1.5, -0.75)
    assert min(v[0] for v in WELL_POINTS.values()) == tilted_double_well(-1.5, -0.75)


def test_tilted_double_well_gradient_matches_its_formula_and_values():
    for x, y in [(0.3, -0.7), (-1.2, 1.1), (2.0, 0.5), (-2.5, -2.0)]:
        vx, vy = Value(x), Value(y)
        f = tilted_double_well(vx, vy)
        assert f.data == pytest.approx(tilted_double_well(x, y), rel=1e-15)
        # df/dx = 4x^3 - 7x + 3 - (y - x/2), df/dy = 2 (y - x/2)
        expected = (4 * x**3 - 7 * x + 3 - (y - x / 2), 2 * (y - x / 2))
        assert grad(f, [vx, vy]) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_where_gradient_descent_ends_on_the_double_well_depends_on_the_start():
    def end(start):
        return minimize(tilted_double_well, start, lambda p: SGD(p, lr=0.02), 300)[-1]

    assert end((1.8, 1.5)) == pytest.approx((1.0, 0.5), abs=1e-4)  # the local minimum
    assert end((0.6, 0.3)) == pytest.approx((1.0, 0.5), abs=1e-4)
    assert end((0.4, 0.2)) == pytest.approx((-1.5, -0.75), abs=1e-4)  # other side of the saddle
    assert end((-2.2, 1.5)) == pytest.approx((-1.5, -0.75), abs=1e-4)


# ----------------------------------------------------------------------------------------------
# constraints: projections and Projected
# ----------------------------------------------------------------------------------------------


def test_project_onto_box_clips_each_coordinate():
    assert project_onto_box([2.0, -3.0, 0.5], -1.0, 1.0) == [1.0, -1.0, 0.5]
    assert project_onto_box([2.0, -3.0], [0.0, -math.inf], [1.5, 0.0]) == [1.5, -3.0]
    with pytest.raises(ValueError, match=r"project_onto_box: empty box, lower\[1\] = 2.0"):
        project_onto_box([0.0, 0.0], [0.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="project_onto_box: lower has 3 entries"):
        project_onto_box([0.0, 0.0], [0.0, 0.0, 0.0], 1.0)
    with pytest.raises(TypeError, match="project_onto_box: point must be a sequence"):
        project_onto_box("ab", 0.0, 1.0)


def test_project_onto_ball_and_hyperplane_by_hand():
    assert project_onto_ball([3.0, 4.0]) == pytest.approx([0.6, 0.8], rel=1e-15)
    assert project_onto_ball([0.3, -0.4]) == [0.3, -0.4]  # inside: unchanged
    assert project_onto_ball([4.0, 1.0], radius=2.0, center=[1.0, 1.0]) == [3.0, 1.0]
    # x + y = 1 from (1, 1): the violation 1 is split equally, (0.5, 0.5).
    assert project_onto_hyperplane([1.0, 1.0], [1.0, 1.0], 1.0) == [0.5, 0.5]
    assert project_onto_hyperplane([2.0, 0.0, 5.0], [0.0, 0.0, 2.0], 4.0) == [2.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="project_onto_ball: radius must be >= 0"):
        project_onto_ball([1.0], radius=-1.0)
    with pytest.raises(ValueError, match="project_onto_hyperplane: the normal is zero"):
        project_onto_hyperplane([1.0, 2.0], [0.0, 0.0], 1.0)


def test_projections_are_idempotent_and_no_feasible_point_is_closer():
    rng = random.Random(0)
    projections = [
        lambda z: project_onto_box(z, -1.0, [0.5, 2.0]),
        lambda z: project_onto_ball(z, 1.5, [0.5, -0.5]),
        lambda z: project_onto_hyperplane(z, [1.0, 2.0], 1.0),
    ]
    for project in projections:
        for _ in range(200):
            x = [rng.uniform(-4, 4), rng.uniform(-4, 4)]
            p = project(x)
            assert project(p) == pytest.approx(p, abs=1e-12)  # P(P(x)) = P(x): p is feasible
            # Any other feasible point (the projection of a random point) is no closer to x.
            q = project([rng.uniform(-4, 4), rng.uniform(-4, 4)])
            assert math.dist(x, p) <= math.dist(x, q) + 1e-12


def test_projected_gradient_descent_by_hand_and_at_the_kkt_point():
    # min (x - 2)^2 + (y - 1)^2 s.t. x^2 + y^2 <= 1. KKT: 2 (x - 2) + 2 mu x = 0,
    # 2 (y - 1) + 2 mu y = 0  =>  (x, y) = (2, 1) / (1 + mu), on the circle: 1 + mu = sqrt(5).
    def f(x, y):
        return (x - 2) ** 2 + (y - 1) ** 2

    def make(p):
        return Projected(SGD(p, lr=0.1), lambda z: project_onto_ball(z, 1.0))

    path = minimize(f, (0.0, 0.0), make, 100)
    # Step 1 by hand: gradient (-4, -2), x - 0.1 g = (0.4, 0.2), inside the disk: unchanged.
    assert path[1] == pytest.approx((0.4, 0.2), rel=1e-15)
    # Step 2: gradient (-3.2, -1.6), (0.72, 0.36), |.| = 0.805 still inside; step 3 leaves it.
    assert path[2] == pytest.approx((0.72, 0.36), rel=1e-15)
    assert all(math.hypot(*pt) <= 1.0 + 1e-15 for pt in path)
    kkt = (2 / math.sqrt(5), 1 / math.sqrt(5))
    assert path[-1] == pytest.approx(kkt, abs=1e-12)
    # Without the projection, gradient descent goes to the unconstrained minimum (2, 1).
    assert minimize(f, (0.0, 0.0), lambda p: SGD(p, lr=0.1), 200)[-1] == pytest.approx((2, 1))


def test_projected_wraps_an_optimizer_and_checks_its_input():
    p = [Parameter(3.0), Parameter(-3.0)]
    opt = Projected(Adam(p, lr=0.1), lambda z: project_onto_box(z, -1.0, 1.0))
    assert opt.param_groups is opt.optimizer.param_groups and "Projected(Adam" in repr(opt)
    p[0].grad, p[1].grad = 1.0, 1.0
    opt.step()
    assert [q.data for q in p] == [1.0, -1.0]  # Adam stepped 0.1, then the box clipped
    assert opt.state[p[0]]["step"] == 1 and opt.state_dict()["state"][0]["step"] == 1
    opt.zero_grad()
    assert p[0].grad == 0.0
    with pytest.raises(TypeError, match="Projected: expected an Optimizer"):
        Projected(p, lambda z: z)
    with pytest.raises(TypeError, match="Projected: project must be callable"):
        Projected(SGD(p), None)
    with pytest.raises(ValueError, match="Projected.step: project returned 1 values for 2"):
        Projected(SGD(p), lambda z: z[:1]).step()


def test_a_schedule_drives_a_projected_optimizer():
    # Before: StepLR(Projected(...)) raised TypeError: StepLR: expected an Optimizer, got
    # 'Projected', although Projected's docstring says a schedule can drive it.
    p = [Parameter(0.0)]
    opt = Projected(SGD(p, lr=0.4), lambda z: project_onto_box(z, -10.0, 10.0))
    sched = StepLR(opt, step_size=1, gamma=0.5)
    lrs = []
    for _ in range(3):
        lrs.append(opt.param_groups[0]["lr"])
        p[0].grad = -1.0
        opt.step()
        sched.step()
    assert lrs == [0.4, 0.2, 0.1] and p[0].data == pytest.approx(0.7)
    assert sched.get_last_lr() == [0.05] and opt.optimizer.param_groups[0]["lr"] == 0.05
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer"):
        StepLR(object(), step_size=1)


@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        ([0.5, "bad"], TypeError, "projected value 1 must be a real number, got 'bad'"),
        ([0.5, math.nan], ValueError, "project returned nan for parameter 1"),
        ([0.5, math.inf], ValueError, "project returned inf for parameter 1"),
        (0.5, TypeError, "project must return a sequence of 2 numbers, got 0.5"),
        (b"ab", TypeError, "project must return a sequence of 2 numbers, got b'ab'"),
    ],
)
def test_a_bad_projection_changes_no_parameter_half_way(result, error, message):
    # Before: [0.5, "bad"] assigned 0.5 to the first parameter and then raised on the second,
    # leaving a point half projected; NaN was assigned silently.
    p = [Parameter(1.0), Parameter(2.0)]
    opt = Projected(SGD(p, lr=0.1), lambda z: result)
    p[0].grad = p[1].grad = 1.0
    with pytest.raises(error, match=re.escape(message)):
        opt.step()
    assert [q.data for q in p] == [0.9, 1.9]  # the SGD step, and no projected value


def test_projections_neither_overflow_nor_underflow():
    # Before: [3e200, 4e200] came back as [0, 0] (the squared norm overflowed to inf), and a
    # point at distance 5e-200 stayed outside a ball of radius 1e-201 (it underflowed to 0).
    assert project_onto_ball([3e200, 4e200], 1.0) == pytest.approx([0.6, 0.8], rel=1e-15)
    tiny = project_onto_ball([3e-200, 4e-200], 1e-201)
    assert tiny == pytest.approx([6e-202, 8e-202], rel=1e-15)
    assert project_onto_ball([1e308, 0.0], 1.0, center=[-1e308, 0.0]) == [-1e308 + 1.0, 0.0]
    assert project_onto_ball([3e-200, 4e-200], 1e-199) == [3e-200, 4e-200]  # inside
    # The same class in the hyperplane's a . a: with a ~ 1e200 it overflowed (the point came
    # back unchanged), with a ~ 1e-200 it underflowed ("the normal is zero").
    for scale in (1e200, 1e-200, 1.0):
        got = project_onto_hyperplane([1.0, 1.0], [3 * scale, 4 * scale], 0.0)
        assert got == pytest.approx([0.16, -0.12], rel=1e-12)
    with pytest.raises(ValueError, match="project_onto_hyperplane: the normal must be finite"):
        project_onto_hyperplane([1.0, 1.0], [math.inf, 1.0], 0.0)


@pytest.mark.parametrize("point", [bytearray(b"ab"), memoryview(b"ab")])
def test_projections_refuse_bytes_as_a_point(point):
    # Before: bytearray(b"ab") was read as the point (97, 98).
    for project in (
        lambda z: project_onto_box(z, 0.0, 1.0),
        lambda z: project_onto_ball(z, 1.0),
        lambda z: project_onto_hyperplane(z, [1.0, 1.0], 0.0),
    ):
        with pytest.raises(TypeError, match="point must be a sequence of numbers"):
            project(point)
    with pytest.raises(TypeError, match="project_onto_box: lower must be a number or a seq"):
        project_onto_box([0.0, 0.0], bytearray(b"ab"), 1.0)


def test_minimize_returns_the_path_and_stops_on_divergence():
    path = minimize(ill_conditioned_bowl, (1.0, 1.0), lambda p: SGD(p, lr=0.01), 5)
    assert len(path) == 6 and path[0] == (1.0, 1.0)
    # x and y decay independently: x_k = 0.99^k, y_k = (1 - 0.5)^k
    assert path[5] == pytest.approx((0.99**5, 0.5**5))
    diverging = minimize(rosenbrock, (-1.5, 2.0), lambda p: SGD(p, lr=0.1), 50)
    assert 1 < len(diverging) < 51
    assert all(math.isfinite(c) for point in diverging for c in point)
    n_d = minimize(
        lambda a, b, c: a * a + b * b + c * c, [1, 2, 3], lambda p: Newton(p, damping=0.0), 1
    )
    assert n_d[1] == pytest.approx((0.0, 0.0, 0.0), abs=1e-15)
    with pytest.raises(ValueError, match="minimize: steps must be"):
        minimize(rosenbrock, (0.0, 0.0), lambda p: SGD(p), -1)


def _iterations_to_reach(path, target=(1.0, 1.0), tol=1e-6):
    for i, point in enumerate(path):
        if math.hypot(point[0] - target[0], point[1] - target[1]) < tol:
            return i
    return None


def test_rosenbrock_newton_and_lbfgs_need_far_fewer_iterations_than_gradient_descent():
    """From (-1.5, 2), iterations until within 1e-6 of the minimum (1, 1), as measured:

    - Newton (damping 1e-4, lr 1):                      6 iterations (6 Hessian evaluations)
    - L-BFGS (strong Wolfe, one iteration per step):   41 iterations; run as one step(closure)
      with max_iter=100 it ends 2e-7 from (1, 1) after 42 iterations and 52 function evaluations
    - gradient descent (SGD, lr 1e-3, stable):     34,987 iterations
    - (for comparison, momentum 0.9 needs 3,339)

    L-BFGS uses tolerance_change=1e-12: with PyTorch's default 1e-9 it stops, as designed, once
    the slope along its direction |g.d| falls below 1e-9, which here is 3.3e-6 from (1, 1).
    """
    start = (-1.5, 2.0)
    newton = _iterations_to_reach(minimize(rosenbrock, start, lambda p: Newton(p), 10))
    opts = []

    def make_lbfgs(p):
        opts.append(
            LBFGS(p, max_iter=1, max_eval=25, tolerance_change=1e-12, line_search_fn="strong_wolfe")
        )
        return opts[-1]

    lbfgs = _iterations_to_reach(minimize(rosenbrock, start, make_lbfgs, 60))
    gd = _iterations_to_reach(minimize(rosenbrock, start, lambda p: SGD(p, lr=1e-3), 40_000))
    assert newton is not None and newton <= 8
    assert lbfgs is not None and lbfgs <= 50
    assert gd is not None and gd > 30_000
    assert gd > 500 * lbfgs and gd > 3000 * newton
    one_call = []

    def make_one_call(p):
        one_call.append(
            LBFGS(p, max_iter=100, tolerance_change=1e-12, line_search_fn="strong_wolfe")
        )
        return one_call[-1]

    end = minimize(rosenbrock, start, make_one_call, 1)[-1]
    assert math.hypot(end[0] - 1, end[1] - 1) < 1e-6
    state = one_call[0].state[one_call[0].param_groups[0]["params"][0]]
    assert state["n_iter"] <= 50 and state["func_evals"] <= 60


# ----------------------------------------------------------------------------------------------
# against PyTorch: trajectories recorded from torch 2.13.0 (CPU, float64, foreach=False)
# ----------------------------------------------------------------------------------------------
# The project's tests do not import torch. The reference points below were produced by running the
# same problem, start and hyperparameters through torch.optim (the script: build the start as
# float64 tensors, the same closure, opt.step(closure) `steps` times, record p.item() after the
# listed steps) and pasted here at full precision. torch's CPU kernels fuse some multiply-adds
# (lerp, addcmul, add with alpha use FMA), ours round each product: the two can differ in the
# last bit per operation, so the comparison allows 1e-12, not exact equality.


def _logistic(ps, log1p_exp):
    """A strictly convex 5-parameter problem: L2-regularised logistic regression on 6 points."""
    data = [
        (-1.0, 0.5, 1),
        (0.3, -0.7, -1),
        (1.2, 0.1, 1),
        (-0.5, -1.1, -1),
        (0.8, 0.9, 1),
        (-1.3, 0.4, -1),
    ]
    w0, w1, w2, w3, b = ps
    total = 0
    for x0, x1, s in data:
        total = total + log1p_exp(-s * (w0 * x0 + w1 * x1 + w2 * x0 * x1 + w3 * x1 * x1 + b))
    return total / len(data) + 0.05 * (w0**2 + w1**2 + w2**2 + w3**2 + b**2)


TORCH_TRAJECTORIES = [  # (problem, steps, optimizer, kwargs, {step: point})
    (
        "rosenbrock",
        200,
        "SGD",
        {"lr": 0.0001, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        {
            1: (-1.47054715, 2.0094962),
            100: (-1.3685041719509623, 1.8804455059930572),
            200: (-1.3105721316450052, 1.7253010226195962),
        },
    ),
    (
        "rosenbrock",
        200,
        "SGD",
        {"lr": 0.0001, "momentum": 0.9, "dampening": 0.3},
        {
            1: (-1.4845, 2.005),
            100: (-1.3829352911274548, 1.9200584314748144),
            200: (-1.3437035859137945, 1.8132002985197642),
        },
    ),
    (
        "rosenbrock",
        200,
        "Adagrad",
        {"lr": 0.2, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
        {
            1: (-1.30000041623192, 2.199996000119596),
            100: (-1.3798753361192713, 1.9104336897809093),
            200: (-1.3478740335404171, 1.8231347788171028),
        },
    ),
    (
        "logistic",
        100,
        "Adagrad",
        {"lr": 0.3, "weight_decay": 0.01},
        {
            1: (
                0.7000000007016127,
                -1.70000000004547,
                0.20000000028112508,
                1.20000000010039,
                -0.7000000001962343,
            ),
            50: (
                0.6370749855584005,
                0.6051509218256007,
                0.11592515408293627,
                -0.3012048614083962,
                0.13234209654298545,
            ),
            100: (
                0.6443033563856606,
                0.9662019578464839,
                0.13049023283685918,
                -0.25925644883338483,
                0.11275681936659765,
            ),
        },
    ),
    (
        "rosenbrock",
        200,
        "RMSprop",
        {"lr": 0.001, "centered": True},
        {
            1: (-1.4899496218539248, 2.01005037813239),
            100: (-1.430429762334507, 2.0523060437757903),
            200: (-1.4221317403481746, 2.028686321114008),
        },
    ),
    (
        "rosenbrock",
        200,
        "RMSprop",
        {"lr": 0.0001, "momentum": 0.9, "weight_decay": 0.01},
        {
            1: (-1.4990000000006451, 2.0009999999979993),
            100: (-1.432572937814423, 2.0575491920935174),
            200: (-1.4269560459783488, 2.042373863842081),
        },
    ),
    (
        "logistic",
        60,
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
        {
            1: (
                0.9666667005847432,
                -1.9666666684033862,
                0.4666666775905336,
                1.4666666705813094,
                -0.9666666744432793,
            ),
            30: (
                0.7463338887481479,
                -0.5370938460628711,
                -0.1433239650827986,
                0.2045174519832571,
                -0.10354444188556276,
            ),
            60: (
                0.66208011415215,
                0.6648046141443282,
                0.1108161388628355,
                -0.27815454798865386,
                0.12866719345392577,
            ),
        },
    ),
    (
        "rosenbrock",
        200,
        "Adam",
        {"lr": 0.01, "amsgrad": True},
        {
            1: (-1.4900000000006453, 2.009999999998),
            100: (-1.4051822154735631, 1.9810054100867598),
            200: (-1.3518144052305825, 1.8335923503986589),
        },
    ),
    (
        "logistic",
        100,
        "Adam",
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01},
        {
            1: (
                0.950000011693541,
                -1.9500000007578333,
                0.45000000468541823,
                1.4500000016731664,
                -0.9500000032705705,
            ),
            50: (
                0.6504570979295745,
                0.0761244544902275,
                0.06181674525060384,
                -0.2405748567445332,
                0.1096998867700355,
            ),
            100: (
                0.6418999622238768,
                0.9056475897211751,
                0.13088944729875343,
                -0.27955901351331963,
                0.12078828374306272,
            ),
        },
    ),
    (
        "rosenbrock",
        200,
        "AdamW",
        {"lr": 0.01},
        {
            1: (-1.4898500000006452, 2.009799999998),
            100: (-1.3958109602893018, 1.9549841022280345),
            200: (-1.3307824285002594, 1.777357306659879),
        },
    ),
    (
        "logistic",
        100,
        "AdamW",
        {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
        {
            1: (
                0.9450000152631454,
                -1.940000000781524,
                0.44750000491574127,
                1.4425000017615894,
                -0.9450000034994762,
            ),
            50: (
                0.6521846435327505,
                0.29722555207131085,
                0.15344788813494217,
                -0.3792678182323061,
                0.15760713183298847,
            ),
            100: (
                0.6639858231740755,
                0.9298696585233948,
                0.13361146875182392,
                -0.2683273777360711,
                0.12166633388691207,
            ),
        },
    ),
    (
        "rosenbrock",
        5,
        "LBFGS",
        {"lr": 0.001},
        {
            1: (-1.4978794751846316, 2.0007528425475756),
            2: (-1.4965024882624072, 2.0013903851426176),
            5: (-1.4926612831250163, 2.0036953840504657),
        },
    ),
    (
        "rosenbrock",
        2,
        "LBFGS",
        {"line_search_fn": "strong_wolfe"},
        {
            1: (-0.08511855589860293, -0.028757058413769698),
            2: (0.9995835472529905, 0.9991550319577943),
        },
    ),
    (
        "logistic",
        3,
        "LBFGS",
        {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 5},
        {
            1: (
                0.6901259650070215,
                1.1592833992856197,
                0.07770708842787985,
                -0.20649220283942782,
                0.09820647076638679,
            ),
            3: (
                0.6758781238435959,
                1.1548434966893726,
                0.13785840797403928,
                -0.24092802709149233,
                0.10814727962988264,
            ),
        },
    ),
    (
        "logistic",
        5,
        "LBFGS",
        {"lr": 0.5, "history_size": 3},
        {
            1: (
                0.675880109017803,
                1.1548231183039592,
                0.13786207886127674,
                -0.24094024260521785,
                0.10814979725237714,
            ),
            2: (
                0.675880109017803,
                1.1548231183039592,
                0.13786207886127674,
                -0.24094024260521785,
                0.10814979725237714,
            ),
            5: (
                0.675880109017803,
                1.1548231183039592,
                0.13786207886127674,
                -0.24094024260521785,
                0.10814979725237714,
            ),
        },
    ),
]
TORCH_LRS = {
    "StepLR": {
        0: 0.1,
        1: 0.1,
        6: 0.1,
        7: 0.05,
        12: 0.05,
        13: 0.05,
        14: 0.025,
        20: 0.025,
        26: 0.0125,
        27: 0.0125,
        39: 0.003125,
    },
    "ExponentialLR": {
        0: 0.1,
        1: 0.09300000000000001,
        6: 0.06469901834490002,
        7: 0.06017008706075702,
        12: 0.0418596297479371,
        13: 0.0389294556655815,
        14: 0.036204393768990796,
        20: 0.0234238873662592,
        26: 0.015155025184184757,
        27: 0.014094173421291824,
        39: 0.0058997688101849145,
    },
    "CosineAnnealingLR": {
        0: 0.1,
        1: 0.09869238178417235,
        6: 0.060424150611489535,
        7: 0.04957584938851047,
        12: 0.01130761821582766,
        13: 0.01,
        14: 0.01130761821582766,
        20: 0.06042415061148974,
        26: 0.10000000000000034,
        27: 0.09869238178417268,
        39: 0.01,
    },
}


@pytest.mark.parametrize(
    "problem, steps, name, kwargs, reference",
    TORCH_TRAJECTORIES,
    ids=[f"{c[2]}-{c[0]}-{'-'.join(c[3])}" for c in TORCH_TRAJECTORIES],
)
def test_trajectory_matches_torch(problem, steps, name, kwargs, reference):
    import tinygrad_edu.optim as ours

    if problem == "rosenbrock":
        start = [-1.5, 2.0]
        f = lambda ps: rosenbrock(*ps)  # noqa: E731
    else:
        start = [1.0, -2.0, 0.5, 1.5, -1.0]
        f = lambda ps: _logistic(ps, lambda z: (1 + z.exp()).log())  # noqa: E731
    params = [Parameter(s) for s in start]
    opt = getattr(ours, name)(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = f(params)
        loss.backward()
        return loss

    for k in range(1, steps + 1):
        opt.step(closure)
        if k in reference:
            assert max(abs(p.data - r) for p, r in zip(params, reference[k])) < 1e-12, k
    assert max(reference) == steps


@pytest.mark.parametrize("name", sorted(TORCH_LRS))
def test_schedules_match_torch(name):
    import tinygrad_edu.optim as ours

    kwargs = {
        "StepLR": dict(step_size=7, gamma=0.5),
        "ExponentialLR": dict(gamma=0.93),
        "CosineAnnealingLR": dict(T_max=13, eta_min=0.01),
    }[name]
    ours_lrs = lr_sequence(lambda o: getattr(ours, name)(o, **kwargs), 40)
    for epoch, lr in TORCH_LRS[name].items():
        assert ours_lrs[epoch] == pytest.approx(lr, abs=1e-15), epoch


# ----------------------------------------------------------------------------------------------
# ridge regression: the normal equations
# ----------------------------------------------------------------------------------------------


def _ridge_loss(X, y, w, b, lam):
    """J(w, b) = sum_i (x_i . w + b - y_i)^2 + lam ||w||^2, on floats or Values."""
    residuals = [sum(wk * xk for wk, xk in zip(w, row)) + b - t for row, t in zip(X, y)]
    return sum(r * r for r in residuals) + lam * sum(wk * wk for wk in w)


def test_ridge_regression_hand_worked_line():
    # x = 0, 1, 2 and y = 1, 3, 5 lie on y = 2x + 1: least squares (lam = 0) recovers it exactly.
    X, y = [[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0]
    w, b = ridge_regression(X, y, lam=0.0)
    assert w == pytest.approx([2.0], abs=1e-14) and b == pytest.approx(1.0, abs=1e-14)
    # lam = 1: centred x = -1, 0, 1 (sum x^2 = 2), centred y = -2, 0, 2 (sum xy = 4), so
    # w = 4 / (2 + 1) = 4/3 and b = mean(y) - mean(x) w = 3 - 4/3 = 5/3.
    w, b = ridge_regression(X, y, lam=1.0)
    assert w == pytest.approx([4.0 / 3.0], abs=1e-14) and b == pytest.approx(5.0 / 3.0, abs=1e-14)


def test_ridge_regression_without_intercept_hand_worked():
    # X^T X = [[2, 1], [1, 2]], X^T y = [3, 4]; with lam = 1: [[3, 1], [1, 3]] w = [3, 4]
    # -> w = (1/8) [[3, -1], [-1, 3]] [3, 4] = [5/8, 9/8].
    X, y = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 2.0, 2.0]
    w, b = ridge_regression(X, y, lam=1.0, fit_intercept=False)
    assert w == pytest.approx([5.0 / 8.0, 9.0 / 8.0], abs=1e-14)
    assert b == 0.0


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("lam", [0.0, 0.3, 10.0])
def test_ridge_regression_zeroes_the_engines_gradient(fit_intercept, lam):
    # The solution is a stationary point of J: backward() through J gives a zero gradient there,
    # and nudging any coordinate raises J (J is convex, so stationary = global minimum).
    rng = random.Random(7)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(12)]
    y = [rng.gauss(0.0, 1.0) + 1.5 for _ in range(12)]
    w, b = ridge_regression(X, y, lam=lam, fit_intercept=fit_intercept)
    ws = [Value(wk) for wk in w]
    bv = Value(b) if fit_intercept else 0.0
    loss = _ridge_loss(X, y, ws, bv, lam)
    loss.backward()
    grads = [v.grad for v in ws] + ([bv.grad] if fit_intercept else [])
    assert max(abs(g) for g in grads) < 1e-10
    for k in range(3):
        nudged = list(w)
        nudged[k] += 1e-3
        assert _ridge_loss(X, y, nudged, b, lam) > loss.data


def test_ridge_regression_penalty_shrinks_the_weights():
    rng = random.Random(3)
    X = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(20)]
    y = [2.0 * r[0] - 3.0 * r[1] + rng.gauss(0.0, 0.1) for r in X]
    norms = [math.hypot(*ridge_regression(X, y, lam)[0]) for lam in (0.0, 1.0, 10.0, 100.0)]
    assert norms == sorted(norms, reverse=True) and norms[-1] < 0.5 * norms[0]


@pytest.mark.parametrize(
    "X, y, lam, message",
    [
        ([[1.0], [2.0]], [1.0], 0.1, "2 rows but y has 1"),
        ([[1.0, 2.0], [3.0]], [1.0, 2.0], 0.1, "row 1 has 1 features"),
        ([], [], 0.1, "at least one row"),
        ([[1.0], [2.0]], [1.0, 2.0], -1.0, "lam must be a number >= 0"),
        ([[1.0], [2.0]], [1.0, 2.0], float("nan"), "lam must be a number >= 0"),
        ([[1.0], [float("inf")]], [1.0, 2.0], 0.1, "finite"),
        # two identical columns and no penalty: infinitely many least-squares solutions
        ([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], [1.0, 2.0, 4.0], 0.0, "singular"),
    ],
)
def test_ridge_regression_rejects_bad_input(X, y, lam, message):
    with pytest.raises(ValueError, match="ridge_regression") as info:
        ridge_regression(X, y, lam)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("make", "edit", "message"),
    [
        (
            StepLR,
            lambda sd: sd.update(last_epoch="x"),
            r"'last_epoch' must be an int >= -1, got 'x'",
        ),
        (StepLR, lambda sd: sd.update(base_lrs=None), r"'base_lrs' must be a list of 1 finite lrs"),
        (StepLR, lambda sd: sd.update(_last_lr=[0.1, 0.2]), r"'_last_lr' must be a list of 1"),
        (StepLR, lambda sd: sd.update(_step_count=-2), r"'_step_count' must be an int >= 0"),
        (StepLR, lambda sd: sd.update(_is_initial="no"), r"'_is_initial' must be a bool"),
        (StepLR, lambda sd: sd.update(step_size=0), r"invalid step_size 0"),
        (StepLR, lambda sd: sd.update(gamma=-1.0), r"invalid gamma -1.0"),
        (StepLR, lambda sd: sd.pop("gamma"), r"lacks \['gamma'\]"),
        (StepLR, lambda sd: sd.update(T_max=3), r"unexpected keys \['T_max'\]"),
        (ExponentialLR, lambda sd: sd.update(gamma="a"), r"gamma must be a real number, got 'a'"),
        (CosineAnnealingLR, lambda sd: sd.update(T_max=0), r"invalid T_max 0"),
        (CosineAnnealingLR, lambda sd: sd.update(eta_min=float("nan")), r"invalid eta_min nan"),
    ],
)
def test_scheduler_load_state_dict_refuses_garbage_and_changes_nothing(make, edit, message):
    # Before: load_state_dict was self.__dict__.update(state_dict): anything loaded, and the
    # next step() failed (or set a string lr) far from the cause.
    opt = SGD([Parameter(1.0)], lr=0.1)
    kwargs = {StepLR: {"step_size": 2}, ExponentialLR: {"gamma": 0.9}}.get(make, {"T_max": 5})
    sched = make(opt, **kwargs)
    sched.step()
    before = json.dumps(sched.state_dict())
    saved = json.loads(before)
    edit(saved)
    name = make.__name__
    with pytest.raises((TypeError, ValueError), match=rf"{name}.load_state_dict: .*{message}"):
        sched.load_state_dict(saved)
    assert json.dumps(sched.state_dict()) == before
    with pytest.raises(TypeError, match=rf"{name}.load_state_dict: expected a dict"):
        sched.load_state_dict(None)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, momentum=0.9, nesterov="no"), "SGD: nesterov must be True or False"),
        (lambda p: Adam(p, amsgrad="no"), "Adam: amsgrad must be True or False, got 'no'"),
        (lambda p: RMSprop(p, centered=1), "RMSprop: centered must be True or False, got 1"),
        (lambda p: StepLR(SGD(p), 1, last_epoch="x"), "StepLR: last_epoch must be an int"),
        (lambda p: StepLR(SGD(p), 1, last_epoch=-2), "StepLR: last_epoch must be >= -1"),
    ],
)
def test_flags_and_last_epoch_are_checked(make, message):
    # The same class as issue 13's loose input checks: amsgrad="no" switched AMSGrad on (a
    # non-empty string is true), last_epoch="x" surfaced as a KeyError about 'initial_lr'.
    with pytest.raises((TypeError, ValueError), match=message):
        make([Parameter(1.0)])


def test_an_int_too_large_for_a_float_is_named():
    # Before: OverflowError: int too large to convert to float, naming neither the optimizer
    # nor the argument.
    with pytest.raises(ValueError, match="SGD: learning rate is too large for a float, got 1000"):
        SGD([Parameter(1.0)], lr=10**400)
    with pytest.raises(ValueError, match=r"project_onto_box: point\[0\] is too large for a float"):
        project_onto_box([10**400], 0.0, 1.0)
