"""tinygrad_edu: a scalar reverse-mode autograd engine you can run, watch and check.

The core names live here::

    from tinygrad_edu import Value, dot, no_grad, grad, jvp, hessian, gradcheck

and the rest of the package in submodules, each imported on first use (``tinygrad_edu.nn`` works
after a plain ``import tinygrad_edu``):

- ``engine``: ``Value``, its ops, ``backward()``, ``no_grad``, ``detect_anomaly``
- ``autodiff``: ``grad`` (with ``create_graph``), ``hessian``, ``hvp``, ``jacobian`` (both modes),
  ``jvp`` (forward mode)
- ``gradcheck``: ``gradcheck``, ``gradgradcheck``
- ``explain``: every path and its product (``paths``), the formula on each edge
  (``local_formula``), what a nudge of a leaf does (``nudge``)
- ``testing``: hypothesis strategies that draw random expression graphs
- ``nn``: ``Module``, ``Neuron``, ``Layer``, ``MLP`` (and the losses, re-exported)
- ``losses``: ``mse_loss``, ``hinge_loss``, ``cross_entropy``, ``huber_loss``, ...
- ``optim``: SGD ... Adam(W), L-BFGS, Newton (a package laid out as ``torch.optim``);
  ``optim.lr_scheduler``: learning-rate schedules
- ``problems``: 2-D test functions (``rosenbrock``, ...) and ``minimize``
- ``linalg``: Cholesky solves and the closed-form ``ridge_regression``
- ``data``: seeded toy datasets, splits, batches
- ``train``: ``fit()`` and its ``History``
- ``compiler``: ``compile`` (also ``tinygrad_edu.compile``): replay a traced step as Python or NumPy
- ``viz``: graphviz drawings, backprop step by step
- ``exercises``: a bug zoo to hunt (``BUGS``, ``bug(name)``) and worksheets with answer keys
- ``plots``: matplotlib figures (``use_korean_font`` for Hangul)
- ``glossary``: the Korean course's headings and terms, mapped to notebooks and API
"""

from __future__ import annotations

import importlib
from typing import Any

from tinygrad_edu.autodiff import grad, hessian, hvp, jacobian, jvp
from tinygrad_edu.engine import (
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
from tinygrad_edu.gradcheck import GradcheckError, gradcheck, gradgradcheck

__version__ = "0.1.0"

_SUBMODULES = (
    "autodiff",
    "bench",
    "compiler",
    "data",
    "engine",
    "exercises",
    "explain",
    "glossary",
    "gradcheck",
    "linalg",
    "losses",
    "nn",
    "optim",
    "plots",
    "problems",
    "testing",
    "train",
    "viz",
)

__all__ = [
    "AnomalyError",
    "GradcheckError",
    "compile",
    "Parameter",
    "Value",
    "custom_op",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "hvp",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "no_grad",
    "topological_order",
    "__version__",
    *_SUBMODULES,
]


def __getattr__(name: str) -> Any:
    """Import a submodule on first access: matplotlib, graphviz, hypothesis load only if used.

    ``tinygrad_edu.compile`` is ``compiler.compile`` (imported on first use too, with NumPy).
    """
    if name == "compile":
        return importlib.import_module("tinygrad_edu.compiler").compile
    if name in _SUBMODULES:
        return importlib.import_module(f"tinygrad_edu.{name}")
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")
