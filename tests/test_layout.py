"""The package's layout: the old import paths still name the same objects, and nothing grows long.

``optim`` became a package laid out as ``torch.optim``, its test functions and ``minimize`` moved
to ``problems``, ``ridge_regression`` to ``linalg``, the losses from ``nn`` to ``losses``, and
``plots`` became a package by course topic. Code written against the old layout must keep working,
with the very same objects (not copies). The size guard keeps the layout from regressing: no
module past 800 lines, no function past 100, except the modules being split elsewhere (the
allow-list).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tinygrad_edu import linalg, losses, nn, optim, plots, problems
from tinygrad_edu.optim import (
    adagrad,
    adam,
    lbfgs,
    lr_scheduler,
    newton,
    optimizer,
    projections,
    rmsprop,
    sgd,
)

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_edu"

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100
ALLOWED_LONG: set[str] = set()  # modules allowed past the guide (none)


# -- the old import paths name the new objects -----------------------------------------------------

# (old module, name, new module): the name as tinygrad_edu.<old> is the one defined in <new>
MOVED = [
    *[
        (optim, name, home)
        for home, names in [
            (optimizer, ["Optimizer", "Closure"]),
            (sgd, ["SGD"]),
            (adagrad, ["Adagrad"]),
            (rmsprop, ["RMSprop"]),
            (adam, ["Adam", "AdamW"]),
            (lbfgs, ["LBFGS", "_strong_wolfe", "_cubic_interpolate"]),
            (newton, ["Newton"]),
            (
                lr_scheduler,
                ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"],
            ),
            (
                projections,
                ["Projected", "project_onto_box", "project_onto_ball", "project_onto_hyperplane"],
            ),
            (
                problems,
                [
                    "rosenbrock",
                    "beale",
                    "saddle",
                    "ill_conditioned_bowl",
                    "tilted_double_well",
                    "TEST_FUNCTION_MINIMA",
                    "minimize",
                ],
            ),
            (linalg, ["ridge_regression", "_cholesky", "_cholesky_solve"]),
        ]
        for name in names
    ],
    *[
        (nn, name, losses)
        for name in [
            "mse_loss",
            "mae_loss",
            "huber_loss",
            "hinge_loss",
            "binary_cross_entropy_with_logits",
            "cross_entropy",
            "softmax",
            "l2_penalty",
        ]
    ],
    (plots, "OptimizerPath", problems),
]


@pytest.mark.parametrize(
    ("old", "name", "new"), MOVED, ids=[f"{o.__name__}.{n}" for o, n, _ in MOVED]
)
def test_old_import_path_names_the_same_object(old, name, new):
    assert getattr(old, name) is getattr(new, name)


# Every name the single-file modules had (public and private), as they were before the split.
OLD_OPTIM_NAMES = """
    Optimizer SGD Adagrad RMSprop Adam AdamW LBFGS Newton LRScheduler StepLR ExponentialLR
    CosineAnnealingLR rosenbrock beale saddle ill_conditioned_bowl tilted_double_well
    TEST_FUNCTION_MINIMA project_onto_box project_onto_ball project_onto_hyperplane Projected
    minimize ridge_regression Closure _check_number _check_nonnegative _check_positive_int
    _check_betas _lerp _dot _max_abs _cubic_interpolate _strong_wolfe _cholesky _cholesky_solve
    _check_point _check_vector
""".split()
OLD_PLOTS_NAMES = """
    Problem2D TEST_FUNCTIONS plot_history plot_histories plot_step_losses plot_fit
    plot_decision_boundary plot_finite_difference_error OptimizerPath optimizer_path
    plot_trajectories LossLandscape loss_landscape plot_loss_landscape PathLike _COLORS
    _SPLIT_STYLE _CURVE_NAMES _MACHINE_EPS _MINIMA _END_MARKERS _root_figure _figure_and_axes
    _finish _scalar _scores _history_dict _moving_average _metric_panel _column _resolve_problem
    _grid_values _path_name _mark_path_ends _neuron_groups _random_direction
""".split()


@pytest.mark.parametrize(
    ("module", "names"),
    [(optim, OLD_OPTIM_NAMES), (plots, OLD_PLOTS_NAMES)],
    ids=["optim", "plots"],
)
def test_every_old_name_is_still_there(module, names):
    assert [n for n in names if not hasattr(module, n)] == []


def test_all_lists_the_old_public_names():
    old_public = {n for n in OLD_OPTIM_NAMES + OLD_PLOTS_NAMES if not n.startswith("_")}
    assert set(optim.__all__) == {n for n in old_public if hasattr(optim, n)} - {"Closure"}
    # added since the split: plots.korean
    new_plots = {"use_korean_font", "KoreanFontNotFoundError", "KOREAN_FONTS"}
    assert set(plots.__all__) == ({n for n in old_public if hasattr(plots, n)} - {"PathLike"}) | (
        new_plots
    )
    for module in (optim, plots, nn, losses):
        assert all(hasattr(module, n) for n in module.__all__)


def test_lr_scheduler_imports_as_in_pytorch():
    from tinygrad_edu.engine import Parameter
    from tinygrad_edu.optim.lr_scheduler import StepLR

    opt = optim.SGD([Parameter(1.0)], lr=1.0)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_plots_topic_modules_import():
    for topic in (
        "_common",
        "training",
        "regression",
        "classification",
        "finite_differences",
        "trajectories",
        "landscape",
    ):
        importlib.import_module(f"tinygrad_edu.plots.{topic}")


def test_minimize_and_optimizer_path_share_one_loop():
    # optimizer_path records the points minimize returns (it adds the losses and counts)
    def factory(params):
        return optim.Adam(params, lr=0.1)

    start = plots.TEST_FUNCTIONS["rosenbrock"].start
    path = plots.optimizer_path("rosenbrock", factory, steps=20)
    assert path.points == optim.minimize(optim.rosenbrock, start, factory, 20)
    assert path.losses == [optim.rosenbrock(x, y) for x, y in path.points]


# -- the size guard --------------------------------------------------------------------------------


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if ".venv" not in p.parts)


def _allowed(path: Path) -> bool:
    return path.relative_to(PACKAGE).as_posix() in ALLOWED_LONG


def test_no_module_is_past_800_lines():
    too_long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in _modules()
        if not _allowed(p)
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}, f"split these modules (lines): {too_long}"


def test_no_function_is_past_100_lines():
    too_long = {}
    for path in _modules():
        if _allowed(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"] = n
    assert too_long == {}, f"split these functions into named steps (lines): {too_long}"


def test_the_size_guard_sees_the_package():
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"optim/adam.py", "optim/lr_scheduler.py", "plots/trajectories.py", "losses.py"} <= names


def test_viz_is_a_package_whose_old_names_still_work() -> None:
    from tinygrad_edu import viz
    from tinygrad_edu.viz import drawing, rendering, stepping, steps

    assert viz.draw_graph is drawing.draw_graph and viz.render is rendering.render
    assert viz.step_through is stepping.step_through and viz.backprop_steps is steps.backprop_steps
    for name in viz.__all__:
        assert getattr(viz, name) is not None, name
    assert callable(viz._renderer)  # a private name tests and notebooks used keeps working
