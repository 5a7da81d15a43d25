"""Tests of tinygrad_edu.plots: figures checked through matplotlib's objects (Agg, no display).

Where a number is drawn, the test recomputes it independently: closed-form optimizer paths on a
quadratic bowl, a linear model's exact fit line, a 1-parameter model's loss parabola.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tinygrad_edu import nn, optim, plots  # noqa: E402
from tinygrad_edu.autodiff import grad  # noqa: E402
from tinygrad_edu.data import make_regression_1d, regression_curve  # noqa: E402
from tinygrad_edu.engine import Parameter, Value  # noqa: E402


class GradientDescent:
    """The plainest optimizer, written here so the expected paths are known in closed form."""

    def __init__(self, params: list[Parameter], lr: float) -> None:
        self.params = params
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def step(self, closure=None):
        loss = closure()
        for p in self.params:
            p.data -= self.lr * p.grad
        return loss


class Line:
    """y = w x + b with two Parameters (a model for the landscape and fit tests)."""

    def __init__(self, w: float, b: float) -> None:
        self.w = Parameter(w, label="w")
        self.b = Parameter(b, label="b")

    def parameters(self) -> list[Parameter]:
        return [self.w, self.b]

    def __call__(self, x: list[float]) -> Value:
        return self.w * x[0] + self.b


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _contours(ax) -> list[ContourSet]:
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def _assert_nothing_clipped(fig: Figure) -> None:
    """Every axes with its labels, ticks and colour bar lies inside the saved picture."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= 0 and box.y0 >= 0, (ax.get_ylabel(), box)
        assert box.x1 <= width and box.y1 <= height, (ax.get_ylabel(), box)


@pytest.fixture(autouse=True)
def _no_pyplot_leaks():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "plots must not open pyplot figures"


# ----------------------------------------------------------------------------------------------
# plot_history
# ----------------------------------------------------------------------------------------------

HISTORY = {
    "train_loss_step": [4.0, 3.0, 2.5, 2.0, 1.2, 1.0, 0.8, 0.7],
    "train_loss_epoch": [3.5, 2.25, 1.1, 0.75],
    "val_loss_epoch": [3.0, 2.0, 1.5, 1.6],
    "best_epoch": 2,
}


def test_history_draws_steps_and_epochs():
    fig = plots.plot_history(HISTORY)
    assert isinstance(fig, Figure)
    step_ax, epoch_ax = fig.axes
    raw = step_ax.get_lines()[0]
    assert list(raw.get_xdata()) == list(range(1, 9))
    assert list(raw.get_ydata()) == HISTORY["train_loss_step"]
    # The moving average of the last w values: its last point is the mean of the last w steps.
    smooth = step_ax.get_lines()[1]
    window = int(_texts(step_ax)[1].split("(")[1].split()[0])
    assert smooth.get_ydata()[-1] == pytest.approx(
        sum(HISTORY["train_loss_step"][-window:]) / window
    )
    train, val, best = epoch_ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert list(train.get_ydata()) == HISTORY["train_loss_epoch"]
    assert list(val.get_ydata()) == HISTORY["val_loss_epoch"]
    assert list(best.get_xdata()) == [3, 3]  # best_epoch is 0-based, epochs are drawn from 1
    assert _texts(epoch_ax) == ["train", "validation", "best epoch (3)"]
    assert step_ax.get_yscale() == epoch_ax.get_yscale() == "linear"
    _assert_nothing_clipped(fig)


def test_history_log_scale_single_panel_and_history_object(tmp_path):
    class FakeHistory:
        def to_dict(self):
            return {k: v for k, v in HISTORY.items() if k != "best_epoch"}

    fig = plots.plot_history(FakeHistory(), log=True, per="epoch", path=tmp_path / "h.png")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert _texts(ax) == ["train", "validation"]
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_into_given_axes_and_bad_input():
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_history(HISTORY, per="step", ax=ax) is fig
    sub = Figure().subfigures(1, 2)[1]  # axes inside a SubFigure: the top-level Figure comes back
    assert plots.plot_history(HISTORY, per="epoch", ax=sub.add_subplot()) is sub.figure
    with pytest.raises(ValueError, match="per must be"):
        plots.plot_history(HISTORY, per="batch")
    with pytest.raises(ValueError, match="needs 2 axes"):
        plots.plot_history(HISTORY, ax=ax)
    with pytest.raises(ValueError, match="no losses"):
        plots.plot_history({"train_loss_step": [], "train_loss_epoch": []})
    with pytest.raises(TypeError, match="plot_history"):
        plots.plot_history([1.0, 2.0])


def test_histories_overlay_one_curve_per_run():
    other = dict(HISTORY, val_loss_epoch=[2.0, 1.0], train_loss_epoch=[2.0, 1.0])
    fig = plots.plot_histories({"batch": HISTORY, "stochastic": other})
    ax = fig.axes[0]
    first, second = ax.get_lines()
    assert list(first.get_ydata()) == HISTORY["val_loss_epoch"]
    assert list(second.get_xdata()) == [1, 2]
    assert _texts(ax) == ["batch", "stochastic"]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    # Per-step curves on a common clock: 8 steps over 4 epochs -> step i at epoch i / 2.
    fig = plots.plot_histories({"run": HISTORY}, "train_loss_step", x="epoch", log=False)
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [0.5 * i for i in range(1, 9)]
    with pytest.raises(ValueError, match="has no curve 'val_acc'"):
        plots.plot_histories({"run": HISTORY}, "val_acc")


def test_histories_against_steps_and_wall_clock_time():
    # 4 epochs of 2 steps each, taking 1, 2, 3 and 4 seconds.
    timed = {**HISTORY, "epoch_time": [1.0, 2.0, 3.0, 4.0]}
    fig = plots.plot_histories({"run": timed}, "val_loss_epoch", x="step", log=False)
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [2.0, 4.0, 6.0, 8.0]  # epoch e ends at step 2e
    assert fig.axes[0].get_xlabel() == "optimisation step"
    fig = plots.plot_histories({"run": timed}, "val_loss_epoch", x="time", log=False)
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [1.0, 3.0, 6.0, 10.0]  # cumulative seconds
    assert fig.axes[0].get_xlabel() == "wall-clock time (s)"
    # Steps are spread evenly over their epoch: step 1 of epoch 2 (2 s long) at 1 + 1 = 2 s.
    fig = plots.plot_histories({"run": timed}, "train_loss_step", x="time", log=False)
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == pytest.approx([0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 8.0, 10.0])
    with pytest.raises(ValueError, match="no epoch_time"):
        plots.plot_histories({"run": HISTORY}, x="time")
    with pytest.raises(ValueError, match="x must be"):
        plots.plot_histories({"run": HISTORY}, x="seconds")


def test_step_losses_one_panel_per_run_on_a_shared_axis(tmp_path):
    smooth = {**HISTORY, "train_loss_step": [4.0, 3.0, 2.0, 1.0]}
    fig = plots.plot_step_losses(
        {"batch": smooth, "stochastic": HISTORY}, path=tmp_path / "s.png", title="noise"
    )
    left, right = fig.axes
    assert left.get_title() == "batch: 4 steps" and right.get_title() == "stochastic: 8 steps"
    assert list(left.get_lines()[0].get_ydata()) == [4.0, 3.0, 2.0, 1.0]
    assert list(right.get_lines()[0].get_ydata()) == HISTORY["train_loss_step"]
    assert left.get_yscale() == right.get_yscale() == "log"
    assert left.get_shared_y_axes().joined(left, right)
    assert left.get_ylabel() == "loss" and right.get_ylabel() == ""  # labelled once
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _assert_nothing_clipped(fig)
    with pytest.raises(ValueError, match="at least one run"):
        plots.plot_step_losses({})


# ----------------------------------------------------------------------------------------------
# plot_fit
# ----------------------------------------------------------------------------------------------


def test_fit_draws_the_models_curve_and_the_splits(tmp_path):
    model = Line(2.0, 1.0)
    X, y = make_regression_1d(n=30, seed=1)
    splits = ((X[:20], y[:20]), (X[20:25], y[20:25]), (X[25:], y[25:]))
    fig = plots.plot_fit(model, splits=splits, true_curve=True, path=tmp_path / "fit.svg")
    ax = fig.axes[0]
    assert _texts(ax) == ["train (n=20)", "val (n=5)", "test (n=5)", "true curve", "model"]
    assert len(ax.collections) == 3  # one scatter per split
    assert [len(c.get_offsets()) for c in ax.collections] == [20, 5, 5]
    true, fitted = ax.get_lines()
    xs = fitted.get_xdata()
    assert fitted.get_ydata() == pytest.approx([2.0 * x + 1.0 for x in xs])
    assert true.get_ydata() == pytest.approx([regression_curve(x) for x in true.get_xdata()])
    assert min(xs) < min(x[0] for x in X) and max(xs) > max(x[0] for x in X)
    # Drawn under no_grad: no gradient reached the parameters.
    assert model.w.grad == model.b.grad == 0.0
    assert (tmp_path / "fit.svg").read_text().lstrip().startswith("<?xml")
    _assert_nothing_clipped(fig)


def test_fit_with_an_mlp_and_plain_data():
    model = nn.MLP(1, [16, 1], seed=0)
    X, y = make_regression_1d(n=25, seed=0)
    fig = plots.plot_fit(model, X, y, n_points=7)
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    assert line.get_ydata() == pytest.approx([model([x]).data for x in line.get_xdata()])
    assert _texts(ax) == ["data (n=25)", "model"]


def test_fit_bad_input():
    with pytest.raises(ValueError, match="plot_fit"):
        plots.plot_fit(Line(1, 0))
    with pytest.raises(ValueError, match="1-D inputs"):
        plots.plot_fit(Line(1, 0), [[1.0, 2.0]], [1.0])
    with pytest.raises(ValueError, match=r"\(train, val, test\)"):
        plots.plot_fit(Line(1, 0), splits=(([[1.0]], [1.0]),))


# ----------------------------------------------------------------------------------------------
# plot_decision_boundary
# ----------------------------------------------------------------------------------------------


def test_binary_boundary_is_where_the_score_is_zero():
    X = [[-1.0, 0.0], [-0.5, 1.0], [0.5, -1.0], [1.0, 0.5]]
    y = [-1, -1, 1, 1]
    # score = x1 - 0.25: the boundary is the vertical line x1 = 0.25.
    fig = plots.plot_decision_boundary(lambda p: Value(p[0]) - 0.25, X, y, resolution=41)
    ax = fig.axes[0]
    contours = _contours(ax)
    assert len(contours) == 2  # filled regions and the boundary line
    line = contours[1]
    assert list(line.levels) == [0.0]
    xs = [v[0] for path in line.get_paths() for v in path.vertices]
    assert xs and all(x == pytest.approx(0.25, abs=1e-9) for x in xs)
    assert _texts(ax) == ["class -1", "class 1"]
    assert ax.get_xlim() == pytest.approx((-1.5, 1.5))


def test_multiclass_regions_by_argmax():
    X = [[-1.0, -1.0], [1.0, -1.0], [0.0, 1.0]]
    y = [0, 1, 2]

    def model(p):  # three scores; class 2 wins above x2 = 0.5, then the sign of x1 decides
        return [Value(-p[0]), Value(p[0]), Value(2 * p[1] - 1 + 0 * p[0])]

    fig = plots.plot_decision_boundary(model, X, y, resolution=30, margin=0.2)
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    classes = mesh.get_array()
    assert set(classes.ravel().tolist()) == {0, 1, 2}
    assert _texts(ax) == ["class 0", "class 1", "class 2"]
    _assert_nothing_clipped(fig)


def test_decision_boundary_checks_lengths():
    with pytest.raises(ValueError, match="plot_decision_boundary"):
        plots.plot_decision_boundary(lambda p: Value(p[0]), [[0.0, 0.0]], [0, 1])


# ----------------------------------------------------------------------------------------------
# optimizer paths
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "ill_conditioned_bowl"])
def test_test_functions_have_their_minimum_where_marked(name):
    problem = plots.TEST_FUNCTIONS[name]
    x, y = (Value(v) for v in problem.minimum)
    f = problem.f(x, y)
    assert f.data == pytest.approx(0.0, abs=1e-12)
    assert grad(f, [x, y]) == pytest.approx((0.0, 0.0), abs=1e-9)
    lo, hi = problem.xlim
    assert lo < problem.start[0] < hi


def test_gradient_descent_path_on_the_bowl_is_the_closed_form():
    # f = 0.5 (x^2 + 50 y^2): x <- x - lr x, y <- y - lr 50 y, so x_k = x0 (1 - lr)^k and
    # y_k = y0 (1 - 50 lr)^k.
    lr, (x0, y0) = 0.01, (-1.8, 0.6)
    r = plots.optimizer_path("ill_conditioned_bowl", lambda p: GradientDescent(p, lr), steps=20)
    assert r.steps == r.evaluations == 20 and len(r.points) == 21
    for k, (x, y) in enumerate(r.points):
        assert x == pytest.approx(x0 * (1 - lr) ** k, rel=1e-12)
        assert y == pytest.approx(y0 * (1 - 50 * lr) ** k, rel=1e-12)
    assert r.losses[5] == pytest.approx(0.5 * (r.points[5][0] ** 2 + 50 * r.points[5][1] ** 2))


def test_stop_below_counts_iterations_and_divergence_is_flagged():
    # f = 0.5 (x^2 + 50 y^2) from (1, 0) with lr 0.5: f_k = 0.5 * 0.25^k < 1e-3 first at k = 5.
    r = plots.optimizer_path(
        plots.TEST_FUNCTIONS["ill_conditioned_bowl"].f,
        lambda p: GradientDescent(p, 0.5),
        start=(1.0, 0.0),
        steps=100,
        stop_below=1e-3,
    )
    assert r.converged and r.steps == 5
    # On the saddle, y <- y + 2 lr y grows by 21x a step until the floats overflow.
    r = plots.optimizer_path("saddle", lambda p: GradientDescent(p, 10.0), steps=1000)
    assert r.diverged and not r.converged and r.steps < 1000
    assert all(math.isfinite(v) for pt in r.points for v in pt)


def test_second_order_methods_count_their_evaluations():
    # Newton on a quadratic lands on the minimum in one step: theta - H^-1 g = 0.
    r = plots.optimizer_path(
        "ill_conditioned_bowl", lambda p: optim.Newton(p, damping=0.0), steps=3, stop_below=1e-20
    )
    assert r.converged and r.steps == 1
    assert r.points[1] == pytest.approx((0.0, 0.0), abs=1e-12)
    # L-BFGS: one step() runs many inner iterations, each a closure call.
    r = plots.optimizer_path(
        "rosenbrock",
        lambda p: optim.LBFGS(p, line_search_fn="strong_wolfe"),
        steps=20,
        stop_below=1e-8,
    )
    assert r.converged and r.evaluations > 5 * r.steps
    assert r.points[-1] == pytest.approx((1.0, 1.0), abs=1e-3)
    # Same path as optim.minimize, which runs the same closure.
    factory = lambda p: optim.Adam(p, lr=0.1)  # noqa: E731
    ours = plots.optimizer_path("beale", factory, steps=25).points
    assert ours == optim.minimize(optim.beale, plots.TEST_FUNCTIONS["beale"].start, factory, 25)


def test_trajectories_figure(tmp_path):
    optimizers = {
        "GD lr=0.001": lambda p: GradientDescent(p, 1e-3),
        "GD lr=0.002": lambda p: GradientDescent(p, 2e-3),
    }
    fig = plots.plot_trajectories(
        "rosenbrock", optimizers, steps=15, resolution=60, path=tmp_path / "t.png"
    )
    ax = fig.axes[0]
    texts = _texts(ax)
    assert texts[0].startswith("GD lr=0.001: f=") and texts[0].endswith("after 15 steps")
    assert texts[1].startswith("GD lr=0.002: f=")
    assert texts[2:] == ["start", "minimum"]
    paths = ax.get_lines()[:2]
    assert [len(p.get_xdata()) for p in paths] == [16, 16]
    assert (paths[0].get_xdata()[0], paths[0].get_ydata()[0]) == plots.TEST_FUNCTIONS[
        "rosenbrock"
    ].start
    filled, lines = _contours(ax)
    assert isinstance(filled.norm, LogNorm)  # Rosenbrock >= 0: log-spaced levels
    assert filled.levels[-1] / filled.levels[0] > 1e3
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_title() == "Rosenbrock"
    assert (tmp_path / "t.png").stat().st_size > 10_000
    _assert_nothing_clipped(fig)


def test_trajectories_on_the_saddle_and_on_a_custom_function():
    fig = plots.plot_trajectories(
        "saddle", {"GD": lambda p: GradientDescent(p, 0.05)}, steps=5, resolution=40
    )
    ax = fig.axes[0]
    assert not isinstance(_contours(ax)[0].norm, LogNorm)  # negative values: linear levels
    assert _texts(ax)[-1] == "saddle point"

    def bowl(x, y):
        return (x - 1) ** 2 + (y + 2) ** 2

    fig = plots.plot_trajectories(
        bowl,
        {"GD": lambda p: GradientDescent(p, 0.25)},
        start=(3.0, 0.0),
        steps=4,
        minimum=(1.0, -2.0),
        resolution=40,
    )
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < 1.0 < 3.0 < x1 and y0 < -2.0 < 0.0 < y1  # the window frames paths and minimum
    # x_k - 1 = 2 * 0.5^k: each step halves the distance.
    assert list(ax.get_lines()[0].get_xdata()) == pytest.approx([3.0, 2.0, 1.5, 1.25, 1.125])


def test_trajectories_bad_input():
    with pytest.raises(ValueError, match="unknown test function 'himmelblau'"):
        plots.plot_trajectories("himmelblau", {"GD": lambda p: GradientDescent(p, 0.1)})
    with pytest.raises(ValueError, match="at least one optimizer"):
        plots.plot_trajectories("beale", {})
    with pytest.raises(ValueError, match="start point"):
        plots.plot_trajectories(lambda x, y: x * y, {"GD": lambda p: GradientDescent(p, 0.1)})


def test_double_well_marks_its_global_and_local_minimum_and_saddle():
    problem = plots.TEST_FUNCTIONS["tilted_double_well"]
    assert problem.minimum == optim.TEST_FUNCTION_MINIMA["tilted_double_well"]
    for point in (problem.minimum, *problem.local_minima, problem.marker):
        x, y = (Value(v) for v in point)
        assert grad(problem.f(x, y), [x, y]) == (0.0, 0.0)  # all three are stationary
    assert problem.f(*problem.minimum) < problem.f(*problem.local_minima[0])
    fig = plots.plot_trajectories(
        "tilted_double_well", {"GD": lambda p: GradientDescent(p, 0.02)}, steps=5, resolution=40
    )
    assert _texts(fig.axes[0])[1:] == ["start", "global minimum", "local minimum", "saddle point"]


def test_trajectories_from_several_starts_end_in_different_minima():
    starts = [(1.8, 1.5), (0.4, 0.2), (-2.2, 1.5)]
    fig = plots.plot_trajectories(
        "tilted_double_well",
        {"GD": lambda p: GradientDescent(p, 0.02)},
        starts=starts,
        steps=300,
        resolution=40,
    )
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(fig.legends) == 1  # below the map, covering no path
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    # One optimizer: the legend names only the start; f=0.5 is the local minimum's value.
    assert texts[0] == "from (1.8, 1.5): f=0.5 after 300 steps"
    assert texts[1].startswith("from (0.4, 0.2): f=-7.31")
    assert texts[2].startswith("from (-2.2, 1.5): f=-7.31")
    assert texts[3] == "starts"
    lines = ax.get_lines()
    for line, start in zip(lines[:3], starts):
        assert (line.get_xdata()[0], line.get_ydata()[0]) == start
    assert list(lines[3].get_xdata()) == [1.8, 0.4, -2.2]  # all starts marked
    _assert_nothing_clipped(fig)
    # Two optimizers from two starts: four paths, each named by optimizer and start.
    fig = plots.plot_trajectories(
        "tilted_double_well",
        {"a": lambda p: GradientDescent(p, 0.01), "b": lambda p: GradientDescent(p, 0.02)},
        starts=starts[:2],
        steps=3,
        resolution=30,
    )
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert [t.split(":")[0] for t in texts[:4]] == [
        "a from (1.8, 1.5)",
        "b from (1.8, 1.5)",
        "a from (0.4, 0.2)",
        "b from (0.4, 0.2)",
    ]
    with pytest.raises(ValueError, match="either start or a non-empty list of starts"):
        plots.plot_trajectories("beale", {"a": lambda p: GradientDescent(p, 0.1)}, starts=[])
    with pytest.raises(ValueError, match="either start or a non-empty list of starts"):
        plots.plot_trajectories(
            "beale", {"a": lambda p: GradientDescent(p, 0.1)}, (0, 0), starts=[(1, 1)]
        )


def test_trajectories_draw_a_constraint_and_projected_gradient_descent_stays_feasible():
    def f(x, y):
        return (x - 2) ** 2 + (y - 1) ** 2

    def projected(p):
        return optim.Projected(optim.SGD(p, lr=0.1), lambda z: optim.project_onto_ball(z))

    fig = plots.plot_trajectories(
        f,
        {"projected": projected},
        start=(0.0, -0.9),
        steps=60,
        xlim=(-1.5, 2.5),
        ylim=(-1.5, 1.5),
        constraint=lambda x, y: x**2 + y**2 - 1,
        resolution=60,
    )
    ax = fig.axes[0]
    assert _texts(ax)[0] == "constraint boundary g = 0"
    # f's filled and line contours, then the hatched infeasible side and the boundary g = 0
    contours = _contours(ax)
    assert len(contours) == 4 and list(contours[3].levels) == [0.0]
    assert contours[2].hatches == ["//"]
    assert ax.get_aspect() == 1.0
    path = [ln for ln in ax.get_lines() if ln.get_label().startswith("projected")][0]
    xs, ys = path.get_xdata(), path.get_ydata()
    assert all(x * x + y * y <= 1 + 1e-12 for x, y in zip(xs, ys))
    # it ends at the KKT point (2, 1) / sqrt(5), on the circle
    assert (xs[-1], ys[-1]) == pytest.approx((2 / math.sqrt(5), 1 / math.sqrt(5)), abs=1e-9)
    _assert_nothing_clipped(fig)


# ----------------------------------------------------------------------------------------------
# loss landscape
# ----------------------------------------------------------------------------------------------


def _mse(preds, targets):
    return nn.mse_loss(preds, targets)


def test_landscape_of_one_parameter_is_the_exact_parabola():
    class Slope:
        def __init__(self):
            self.w = Parameter(0.5)

        def parameters(self):
            return [self.w]

        def __call__(self, x):
            return self.w * x[0]

    X, y = [[1.0], [2.0]], [1.0, 2.0]  # best w = 1
    model = Slope()
    land = plots.loss_landscape(model, _mse, X, y, span=2.0, steps=5, normalization="unit", seed=3)
    (d,) = land.directions[0]
    assert abs(d) == 1.0  # one parameter, unit norm: d = +-1
    assert land.alphas == [-2.0, -1.0, 0.0, 1.0, 2.0]
    for a, loss in zip(land.alphas, land.losses):
        w = 0.5 + a * d
        assert loss == pytest.approx(((w - 1) ** 2 * 1 + (2 * w - 2) ** 2) / 2, rel=1e-12)
    assert land.center_loss == land.losses[2]
    assert model.w.data == 0.5 and model.w.grad == 0.0


def test_landscape_restores_parameters_exactly_even_on_error():
    model = nn.MLP(1, [8, 1], seed=4)
    X, y = make_regression_1d(n=10, seed=2)
    before = [p.data for p in model.parameters()]
    plots.loss_landscape(model, _mse, X, y, directions=2, steps=3, span=0.37)
    assert [p.data for p in model.parameters()] == before
    assert all(p.grad == 0.0 for p in model.parameters())

    calls = []

    def failing(preds, targets):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return _mse(preds, targets)

    with pytest.raises(RuntimeError, match="boom"):
        plots.loss_landscape(model, failing, X, y, steps=5, span=0.9)
    assert [p.data for p in model.parameters()] == before


def test_filter_normalised_directions_match_each_neurons_norm():
    model = nn.MLP(2, [5, 3, 1], seed=1)
    X, y = [[0.1, 0.2]], [0.0]
    a = plots.loss_landscape(model, _mse, X, y, steps=2, seed=7)
    b = plots.loss_landscape(model, _mse, X, y, steps=2, seed=7)
    c = plots.loss_landscape(model, _mse, X, y, steps=2, seed=8)
    assert a.directions == b.directions != c.directions
    (d,) = a.directions
    groups: dict[str, list[tuple[float, float]]] = {}
    for (name, p), di in zip(model.named_parameters(), d):
        groups.setdefault(name.rsplit(".", 1)[0], []).append((p.data, di))
    assert len(groups) == 5 + 3 + 1
    for pairs in groups.values():
        norm_theta = math.sqrt(sum(t * t for t, _ in pairs))
        norm_d = math.sqrt(sum(v * v for _, v in pairs))
        assert norm_d == pytest.approx(norm_theta, rel=1e-12)


def test_landscape_figures(tmp_path):
    model = Line(0.8, 0.1)
    X = [[x / 4] for x in range(-4, 5)]
    y = [x[0] for x in X]
    fig = plots.plot_loss_landscape(model, _mse, X, y, steps=9, path=tmp_path / "l1.png")
    ax = fig.axes[0]
    curve, point = ax.get_lines()
    assert len(curve.get_xdata()) == 9
    assert list(point.get_xdata()) == [0.0]
    assert _texts(ax) == ["loss along d", "trained parameters"]
    fig = plots.plot_loss_landscape(model, _mse, X, y, directions=2, steps=7, log=True)
    ax = fig.axes[0]
    assert len(_contours(ax)) == 2 and isinstance(_contours(ax)[0].norm, LogNorm)
    assert "2-D" in ax.get_title()
    assert [p.data for p in model.parameters()] == [0.8, 0.1]
    # a square map, a log colour bar and the beta label: all inside the figure (the label used to
    # be cut off at the left edge)
    _assert_nothing_clipped(fig)
    with pytest.raises(ValueError, match="directions must be 1 or 2"):
        plots.plot_loss_landscape(model, _mse, X, y, directions=3)
    with pytest.raises(ValueError, match="normalization"):
        plots.loss_landscape(model, _mse, X, y, normalization="layer")


# ----------------------------------------------------------------------------------------------
# plot_history with a metric panel; finite-difference error against h
# ----------------------------------------------------------------------------------------------


def test_history_with_a_metric_panel():
    h = {**HISTORY, "train_metric_epoch": [0.5, 0.7, 0.9, 1.0], "val_metric_epoch": [0.4, 0.6]}
    fig = plots.plot_history(h, per="step", metric="accuracy")
    step_ax, metric_ax = fig.axes
    assert step_ax.get_title() == "loss per step"
    train, val = metric_ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert list(train.get_ydata()) == [0.5, 0.7, 0.9, 1.0]
    assert list(val.get_ydata()) == [0.4, 0.6]
    assert metric_ax.get_ylabel() == "accuracy" and metric_ax.get_yscale() == "linear"
    assert _texts(metric_ax) == ["train", "validation"]
    assert len(plots.plot_history(h, metric="accuracy", log=True).axes) == 3
    _assert_nothing_clipped(fig)
    with pytest.raises(ValueError, match="holds no metric"):
        plots.plot_history(HISTORY, metric="accuracy")


def test_finite_difference_error_curves_and_their_best_steps(tmp_path):
    x, exact = 1.0, math.cos(1.0)
    hs = [10.0**-k for k in range(0, 15)]
    fig = plots.plot_finite_difference_error(math.sin, x, exact, hs=hs, path=tmp_path / "fd.png")
    (ax,) = fig.axes
    forward, _, fwd_guide, central, _, cen_guide, rounding = ax.get_lines()
    steps = sorted(hs)
    assert list(forward.get_xdata()) == steps
    fwd = [abs((math.sin(x + h) - math.sin(x)) / h - exact) for h in steps]
    cen = [abs((math.sin(x + h) - math.sin(x - h)) / (2 * h) - exact) for h in steps]
    assert list(forward.get_ydata()) == pytest.approx(fwd, rel=1e-12)
    assert list(central.get_ydata()) == pytest.approx(cen, rel=1e-12)
    # Truncation: at h = 1e-2 the errors are close to (h/2)|f''| and (h^2/6)|f'''|.
    i = steps.index(1e-2)
    assert fwd[i] == pytest.approx(1e-2 / 2 * math.sin(1.0), rel=0.02)
    assert cen[i] == pytest.approx(1e-4 / 6 * math.cos(1.0), rel=0.02)
    # The best steps: about sqrt(eps) for forward, about eps^(1/3) for central (a decade or two).
    best_fwd, best_cen = steps[fwd.index(min(fwd))], steps[cen.index(min(cen))]
    assert 1e-10 <= best_fwd <= 1e-6 and 1e-7 <= best_cen <= 1e-3
    assert min(cen) < min(fwd) / 100
    assert _texts(ax)[0] == f"forward: best h = {best_fwd:.0e}, error {min(fwd):.1e}"
    # Guides: slope 1 and 2 through the curve at the largest h; rounding eps |f(x)| / h.
    assert fwd_guide.get_ydata()[0] == pytest.approx(fwd[-1] * steps[0] / steps[-1])
    assert cen_guide.get_ydata()[0] == pytest.approx(cen[-1] * (steps[0] / steps[-1]) ** 2)
    assert rounding.get_ydata()[-1] == pytest.approx(2.0**-52 * math.sin(1.0) / steps[-1])
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert (tmp_path / "fd.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _assert_nothing_clipped(fig)


def test_finite_difference_error_bad_input():
    with pytest.raises(ValueError, match="at least 2 steps h > 0"):
        plots.plot_finite_difference_error(math.sin, 1.0, 0.5, hs=[1e-3, -1e-3])
    with pytest.raises(ValueError, match="every error is 0"):
        plots.plot_finite_difference_error(lambda v: 2 * v, 1.0, 2.0, hs=[0.5, 0.25])


def test_trajectories_mark_each_end_and_keep_the_legend_off_the_paths():
    # Two identical optimizers: their paths lie exactly on top of each other.
    same = {
        "GD": lambda p: GradientDescent(p, 1e-3),
        "GD again": lambda p: GradientDescent(p, 1e-3),
    }
    fig = plots.plot_trajectories("rosenbrock", same, steps=10, resolution=40)
    fig.canvas.draw()
    ax = fig.axes[0]
    lines = ax.get_lines()
    paths, ends = lines[:2], [line for line in lines if len(line.get_xdata()) == 1][-2:]
    assert [e.get_marker() for e in ends] == ["s", "^"]  # a shape of its own per path
    assert ends[0].get_markersize() > ends[1].get_markersize()  # nested, the later one on top
    for path_line, end in zip(paths, ends):
        assert end.get_xdata()[0] == path_line.get_xdata()[-1]
        assert end.get_ydata()[0] == path_line.get_ydata()[-1]
        assert end.get_color() == path_line.get_color()
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.y1 <= ax.get_window_extent().y0  # below the map, covering no path
    _assert_nothing_clipped(fig)
