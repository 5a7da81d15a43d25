"""Gradient checking: the engine's derivatives against central finite differences.

For a function f of inputs x_1..x_n the analytic gradient (from ``backward()``) is compared with

    numeric_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)          (error O(eps^2))

and each pair must satisfy |analytic - numeric| <= atol + rtol * |numeric|, with PyTorch's
defaults (``torch.autograd.gradcheck``: eps=1e-6, atol=1e-5, rtol=1e-3). ``gradgradcheck`` does the
same one level up: the gradient graph (``grad(..., create_graph=True)``) is differentiated again and
compared with finite differences of the gradient.

On failure a ``GradcheckError`` is raised whose message is a table, one row per (output, input):

    output  input  analytic      numeric       error      status
    0       x0     2.000000e+00  2.000000e+00  1.2e-10    pass
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence, Set

from tinygrad_edu.autodiff import grad
from tinygrad_edu.engine import Value, enable_grad, no_grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_jacobian"]


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message is a table of every entry."""


Function = Callable[..., "Value | Sequence[Value]"]


def _outputs(result: object, name: str) -> list[Value | float]:
    """f may return one Value (or number, NumPy scalars too) or a sequence of them."""
    if isinstance(result, (Value, numbers.Real)):
        return [result]  # type: ignore[list-item]
    if isinstance(result, Sequence) and not isinstance(result, (str, bytes, bytearray, memoryview)):
        outputs = list(result)
        for i, v in enumerate(outputs):
            if not isinstance(v, (Value, numbers.Real)):
                raise TypeError(
                    f"{name}: f must return Values or numbers, got {type(v).__name__} {v!r} "
                    f"as output {i}"
                )
        return outputs
    raise TypeError(
        f"{name}: f must return a Value or a sequence of Values, got {type(result).__name__} "
        f"{result!r}"
    )


def _data(v: Value | float) -> float:
    return v.data if isinstance(v, Value) else float(v)


def numerical_jacobian(
    f: Callable[..., object], inputs: Sequence[float], eps: float = 1e-6
) -> list[list[float]]:
    """J[i][j] ~ d f_i / d x_j by central differences, f evaluated under ``no_grad``."""
    _check_steps("numerical_jacobian", f, eps)
    x = _floats(inputs, "numerical_jacobian")
    columns = []
    with no_grad():
        for j in range(len(x)):
            plus, minus = list(x), list(x)
            plus[j] += eps
            minus[j] -= eps
            f_plus = [_data(v) for v in _outputs(f(*[Value(v) for v in plus]), "gradcheck")]
            f_minus = [_data(v) for v in _outputs(f(*[Value(v) for v in minus]), "gradcheck")]
            columns.append([(a - b) / (2.0 * eps) for a, b in zip(f_plus, f_minus)])
    n_out = len(columns[0]) if columns else 0
    return [[columns[j][i] for j in range(len(x))] for i in range(n_out)]


def _analytic_jacobian(f: Callable[..., object], inputs: Sequence[float]) -> list[list[float]]:
    """J[i][j] = d f_i / d x_j with ``backward()`` on fresh leaves, one backward per output."""
    rows = []
    n_outputs = len(_outputs(f(*[Value(v) for v in inputs]), "gradcheck"))
    for i in range(n_outputs):
        leaves = [Value(v, label=f"x{j}") for j, v in enumerate(inputs)]
        out = _outputs(f(*leaves), "gradcheck")[i]
        if isinstance(out, Value):
            out.backward()
        rows.append([leaf.grad for leaf in leaves])
    return rows


def _compare(
    name: str,
    analytic: list[list[float]],
    numeric: list[list[float]],
    atol: float,
    rtol: float,
    raise_exception: bool,
) -> bool:
    rows = []
    ok = True
    for i, (a_row, n_row) in enumerate(zip(analytic, numeric)):
        for j, (a, n) in enumerate(zip(a_row, n_row)):
            error = abs(a - n)
            passed = error <= atol + rtol * abs(n) and not (math.isnan(a) or math.isnan(n))
            ok = ok and passed
            rows.append(
                (
                    str(i),
                    f"x{j}",
                    f"{a:.6e}",
                    f"{n:.6e}",
                    f"{error:.1e}",
                    "pass" if passed else "FAIL",
                )
            )
    if ok or not raise_exception:
        return ok
    header = ("output", "input", "analytic", "numeric", "error", "status")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    raise GradcheckError(
        f"{name}: analytic and numeric derivatives disagree "
        f"(pass if |analytic - numeric| <= atol + rtol*|numeric|, atol={atol}, rtol={rtol})\n"
        + "\n".join(lines)
    )


def _floats(inputs: Sequence[float | Value], name: str) -> list[float]:
    """The point as floats, from Values (their data) and real numbers (NumPy scalars too)."""
    if isinstance(inputs, (Value, numbers.Real)):
        inputs = [inputs]  # type: ignore[list-item]
    # Input i is x_i: a set or a dict has no such order, and bytes would be read as their codes.
    if not isinstance(inputs, Iterable) or isinstance(
        inputs, (str, bytes, bytearray, memoryview, Set, Mapping)
    ):
        raise TypeError(
            f"{name}: inputs must be a list of numbers or Values, got {type(inputs).__name__} "
            f"{inputs!r}"
        )
    out = []
    for i, v in enumerate(inputs):
        if isinstance(v, Value):
            out.append(v.data)
        elif isinstance(v, numbers.Real):
            out.append(float(v))
        else:
            raise TypeError(
                f"{name}: inputs must be numbers or Values, got {type(v).__name__!r} {v!r} "
                f"as input {i}"
            )
    if not out:
        raise ValueError(f"{name}: needs at least one input")
    return out


def _check_steps(name: str, f: object, eps: object, atol: object = 0.0, rtol: object = 0.0) -> None:
    """f is callable, the step eps > 0 and the tolerances atol, rtol >= 0, all finite."""
    if not callable(f):
        raise TypeError(f"{name}: f must be a function, got {f!r}")
    for arg, value, least in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}: {arg} must be a real number, got {value!r}")
        number = float(value)
        big_enough = number > 0 if least == "> 0" else number >= 0
        if not (math.isfinite(number) and big_enough):
            raise ValueError(f"{name}: {arg} must be finite and {least}, got {value!r}")


def gradcheck(
    f: Function,
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check ``backward()``'s gradients of f against central differences at ``inputs``.

    Args:
        f: takes ``len(inputs)`` Values and returns a Value (or a sequence of Values).
        inputs: the point, as numbers (or Values, whose data is used; they are not modified).
        eps: the finite-difference step.
        atol, rtol: pass if |analytic - numeric| <= atol + rtol * |numeric| for every entry.
        raise_exception: if False, return False instead of raising.

    Returns:
        True if every entry passes.

    Raises:
        GradcheckError: with a table of input, analytic, numeric, error and pass/fail.
    """
    _check_steps("gradcheck", f, eps, atol, rtol)
    x = _floats(inputs, "gradcheck")
    analytic = _analytic_jacobian(f, x)
    numeric = numerical_jacobian(f, x, eps)
    return _compare("gradcheck", analytic, numeric, atol, rtol, raise_exception)


def gradgradcheck(
    f: Function,
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: the gradient built with ``create_graph=True``, differentiated again
    by ``backward()``, against central differences of the gradient.

    f must return a single Value. Arguments and result as ``gradcheck``; row i of the table is
    d/dx (d f/dx_i), i.e. the Hessian.
    """
    _check_steps("gradgradcheck", f, eps, atol, rtol)
    x = _floats(inputs, "gradgradcheck")

    def first_derivatives(*leaves: Value) -> list[Value | float]:
        out = f(*leaves)
        if not isinstance(out, Value):
            raise TypeError("gradgradcheck: f must return a single Value")
        return list(grad(out, leaves, create_graph=True))

    analytic = _analytic_jacobian(first_derivatives, x)
    numeric = numerical_jacobian(lambda *vs: _gradient_floats(f, [v.data for v in vs]), x, eps)
    return _compare("gradgradcheck", analytic, numeric, atol, rtol, raise_exception)


def _gradient_floats(f: Function, x: Sequence[float]) -> list[float]:
    """The gradient of f at x as floats (recorded even when called under ``no_grad``)."""
    leaves = [Value(v) for v in x]
    with enable_grad():
        out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError("gradgradcheck: f must return a single Value")
    return list(grad(out, leaves))
