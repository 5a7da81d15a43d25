"""Matplotlib figures: loss curves, fits, decision boundaries, optimizer paths, loss landscapes.

Every ``plot_*`` function

* returns a ``matplotlib.figure.Figure`` made directly (not through ``pyplot``), so nothing leaks
  into pyplot's global list of open figures and nothing needs closing;
* draws into a given ``ax=`` instead when you pass one (and returns the Figure holding ``ax``);
* saves the figure when given ``path=`` (the format comes from the suffix: ``.png``, ``.svg``,
  ``.pdf``), creating missing parent folders;
* is deterministic: the only randomness (the directions of a loss landscape) comes from ``seed``.

Model outputs are always computed under ``no_grad``: drawing a picture never grows a graph and never
touches a ``.grad``.

The figures by course topic, one module each:

- ``training``: ``plot_history``, ``plot_histories``, ``plot_step_losses``
- ``regression``: ``plot_fit``; ``classification``: ``plot_decision_boundary``
- ``finite_differences``: ``plot_finite_difference_error``
- ``trajectories``: ``Problem2D``, ``TEST_FUNCTIONS``, ``optimizer_path``, ``plot_trajectories``
  (``OptimizerPath`` and the loop behind ``optimizer_path`` live in ``tinygrad_edu.problems``)
- ``landscape``: ``LossLandscape``, ``loss_landscape``, ``plot_loss_landscape``
- ``korean``: ``use_korean_font`` (Hangul in titles, labels and legends)
- ``_common``: what they share (colours, axes, saving)

All of them are importable from ``tinygrad_edu.plots`` itself.
"""

from tinygrad_edu.plots._common import (
    _COLORS,
    PathLike,
    _figure_and_axes,
    _finish,
    _root_figure,
    _scalar,
    _scores,
)
from tinygrad_edu.plots.classification import plot_decision_boundary
from tinygrad_edu.plots.finite_differences import _MACHINE_EPS, plot_finite_difference_error
from tinygrad_edu.plots.korean import KOREAN_FONTS, KoreanFontNotFoundError, use_korean_font
from tinygrad_edu.plots.landscape import (
    LossLandscape,
    _neuron_groups,
    _random_direction,
    loss_landscape,
    plot_loss_landscape,
)
from tinygrad_edu.plots.regression import _SPLIT_STYLE, _column, plot_fit
from tinygrad_edu.plots.training import (
    _CURVE_NAMES,
    _history_dict,
    _metric_panel,
    _moving_average,
    plot_histories,
    plot_history,
    plot_step_losses,
)
from tinygrad_edu.plots.trajectories import (
    _END_MARKERS,
    _MINIMA,
    TEST_FUNCTIONS,
    Problem2D,
    _grid_values,
    _mark_path_ends,
    _path_name,
    _resolve_problem,
    optimizer_path,
    plot_trajectories,
)
from tinygrad_edu.problems import OptimizerPath

__all__ = [
    "Problem2D",
    "TEST_FUNCTIONS",
    "plot_history",
    "plot_histories",
    "plot_step_losses",
    "plot_fit",
    "plot_decision_boundary",
    "plot_finite_difference_error",
    "OptimizerPath",
    "optimizer_path",
    "plot_trajectories",
    "LossLandscape",
    "loss_landscape",
    "plot_loss_landscape",
    "use_korean_font",
    "KoreanFontNotFoundError",
    "KOREAN_FONTS",
]

# The module's private helpers, still reachable as plots._name as before the split.
_PRIVATE_REEXPORTS = (
    _COLORS,
    _CURVE_NAMES,
    _END_MARKERS,
    _MACHINE_EPS,
    _MINIMA,
    _SPLIT_STYLE,
    PathLike,
    _column,
    _figure_and_axes,
    _finish,
    _grid_values,
    _history_dict,
    _mark_path_ends,
    _metric_panel,
    _moving_average,
    _neuron_groups,
    _path_name,
    _random_direction,
    _resolve_problem,
    _root_figure,
    _scalar,
    _scores,
)
