"""tinygrad_edu: a scalar reverse-mode autograd engine you can run, watch and check."""

from tinygrad_edu.engine import (
    AnomalyError,
    Parameter,
    Value,
    detect_anomaly,
    dot,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    topological_order,
)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "Parameter",
    "Value",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "topological_order",
    "__version__",
]
