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

The whole-function check says *that* a derivative is wrong; ``check_local_derivatives(root)`` says
*where*: it checks every edge of a graph, each node's stored local derivative against central
differences of that node's op alone.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

from tinygrad_edu import ops
from tinygrad_edu.autodiff import grad
from tinygrad_edu.engine import Value, enable_grad, no_grad, topological_order

__all__ = [
    "GradcheckError",
    "LocalDerivativeFailure",
    "LocalDerivativeReport",
    "check_local_derivatives",
    "gradcheck",
    "gradgradcheck",
    "numerical_jacobian",
]


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


def _analytic_jacobian(
    f: Callable[..., object], inputs: Sequence[float], calls: int = 1
) -> list[list[float]]:
    """J[i][j] = d f_i / d x_j with ``backward()`` on fresh leaves, one graph per output; with
    ``calls`` backward() calls on that graph, the leaves' accumulated gradient / calls."""
    rows = []
    n_outputs = len(_outputs(f(*[Value(v) for v in inputs]), "gradcheck"))
    for i in range(n_outputs):
        leaves = [Value(v, label=f"x{j}") for j, v in enumerate(inputs)]
        out = _outputs(f(*leaves), "gradcheck")[i]
        if isinstance(out, Value):
            for _ in range(calls):
                out.backward()
        rows.append([leaf.grad / calls for leaf in leaves])
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
        f"(pass if |analytic - numeric| <= atol + rtol*|numeric|, atol={atol}, rtol={rtol}); "
        f"to see which op's local derivative is wrong, call "
        f"tinygrad_edu.gradcheck.check_local_derivatives(root) on the output of f\n"
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
    _check_tolerances(name, eps, atol, rtol)


def _check_tolerances(name: str, eps: object, atol: object, rtol: object) -> None:
    """The step eps > 0 and the tolerances atol, rtol >= 0, all finite."""
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
    backward_twice: bool = False,
) -> bool:
    """Check ``backward()``'s gradients of f against central differences at ``inputs``.

    Args:
        f: takes ``len(inputs)`` Values and returns a Value (or a sequence of Values).
        inputs: the point, as numbers (or Values, whose data is used; they are not modified).
        eps: the finite-difference step.
        atol, rtol: pass if |analytic - numeric| <= atol + rtol * |numeric| for every entry.
        raise_exception: if False, return False instead of raising.
        backward_twice: call ``backward()`` twice on each graph and check half of what the
            leaves accumulated: leaves add across calls (as in PyTorch), interior nodes start
            again from zero, so a second call must give exactly the gradient again. This catches
            what one call on a fresh graph cannot (a second call that resets a leaf, or one that
            keeps an interior node's old gradient).

    Returns:
        True if every entry passes.

    Raises:
        GradcheckError: with a table of input, analytic, numeric, error and pass/fail.
    """
    _check_steps("gradcheck", f, eps, atol, rtol)
    x = _floats(inputs, "gradcheck")
    analytic = _analytic_jacobian(f, x, calls=2 if backward_twice else 1)
    numeric = numerical_jacobian(f, x, eps)
    name = "gradcheck(backward_twice=True)" if backward_twice else "gradcheck"
    return _compare(name, analytic, numeric, atol, rtol, raise_exception)


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


# ----------------------------------------------------------------------------------------------
# Blame the edge: each node's local derivatives against central differences of its op alone
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalDerivativeFailure:
    """One edge whose stored local derivative disagrees with its op's finite differences.

    Attributes:
        node: the Value whose ``local_grads`` entry is checked.
        op: its op.
        parent_index: which parent (the edge from ``node.parents[parent_index]``).
        stored: ``node.local_grads[parent_index]``, what ``backward()`` multiplies by.
        numeric: (op(x + eps) - op(x - eps)) / (2 eps), x the parent's data, the others fixed.
        left, right: the one-sided differences; they differ at a kink.
        kind: ``"wrong"``, or ``"kink"`` where the op has no derivative (the one-sided slopes
            differ, or one is not finite) and the stored value is one of the slopes between them.
    """

    node: Value
    op: str
    parent_index: int
    stored: float
    numeric: float
    left: float
    right: float
    kind: str = "wrong"

    def __str__(self) -> str:
        where = f"{self.node.label or self.op!s} ({self.op}), parent {self.parent_index}"
        if self.kind == "kink":
            return (
                f"{where}: a kink, slopes {self.left:.6g} (left) and {self.right:.6g} (right); "
                f"stored {self.stored:.6g}"
            )
        return f"{where}: stored {self.stored:.6g}, numeric {self.numeric:.6g}"


class LocalDerivativeReport(list):  # type: ignore[type-arg]
    """The failures of ``check_local_derivatives`` (a list, empty when every edge agrees).

    Attributes:
        kinks: the edges at a kink (``kind == "kink"``): not failures, a derivative the op chose.
        unchecked: nodes of custom ops with no forward to re-run (pass ``forwards=``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.kinks: list[LocalDerivativeFailure] = []
        self.unchecked: list[Value] = []

    def __str__(self) -> str:
        lines = [str(f) for f in self] or ["every local derivative agrees"]
        lines += [f"kink: {k}" for k in self.kinks]
        lines += [f"unchecked: custom op {v.op!r} (no forward given)" for v in self.unchecked]
        return "\n".join(lines)


def _op_forward(
    node: Value, forwards: Mapping[str, Callable[..., float]]
) -> Callable[[list[float]], float] | None:
    """The node's op as a function of its parents' data (flat), or None if it is not known."""
    if node.op in forwards:
        custom = forwards[node.op]
        return lambda data: float(custom(*data))
    entry = ops.OPS.get(node.op)
    if entry is None:
        return None
    op, arg = node.op, node.arg

    def forward(data: list[float]) -> float:
        args = ops.rule_args(op, data)
        return entry.forward(*args, arg) if entry.has_arg else entry.forward(*args)

    return forward


def _check_edge(
    node: Value,
    i: int,
    forward: Callable[[list[float]], float],
    eps: float,
    atol: float,
    rtol: float,
) -> LocalDerivativeFailure | None:
    """Compare one stored local derivative with the differences of the op in parent i alone."""
    data = [p.data for p in node.parents]

    def at(x: float) -> float:
        moved = list(data)
        moved[i] = x
        return forward(moved)

    x, here = data[i], forward(data)
    plus, minus = at(x + eps), at(x - eps)
    numeric = (plus - minus) / (2.0 * eps)
    left, right = (here - minus) / eps, (plus - here) / eps
    stored = node.local_grads[i]
    found = LocalDerivativeFailure(node, node.op, i, stored, numeric, left, right)
    one_sided_differ = abs(left - right) > 10.0 * (atol + rtol * max(abs(left), abs(right)))
    if not (math.isfinite(left) and math.isfinite(right)) or one_sided_differ:
        low, high = sorted((left, right))
        slack = atol + rtol * max(abs(left), abs(right))
        if not math.isfinite(stored) or low - slack <= stored <= high + slack:
            return LocalDerivativeFailure(node, node.op, i, stored, numeric, left, right, "kink")
        return found
    passed = abs(stored - numeric) <= atol + rtol * abs(numeric)
    return None if passed else found


def check_local_derivatives(
    root: Value,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    forwards: Mapping[str, Callable[..., float]] | None = None,
) -> LocalDerivativeReport:
    """Check every edge of root's graph: each stored local derivative against its op alone.

    For a node v = op(p_1, ..., p_k) and each parent i, the number ``backward()`` will multiply by,
    ``v.local_grads[i]``, is compared with the central difference of the op in its i-th input, the
    others held at their data::

        numeric = (op(.., p_i + eps, ..) - op(.., p_i - eps, ..)) / (2 eps)

    (the op's forward from ``ops.OPS``, with its constant argument). Where ``gradcheck`` of the
    whole function fails, this names the edge. Where the one-sided differences disagree (relu or
    abs at 0) the op has no derivative to check: the edge is reported in ``.kinks`` if the stored
    value lies between the two slopes (a choice, like relu'(0) = 0), as a failure otherwise.

    Args:
        eps, atol, rtol: the step and the tolerances, as in ``gradcheck``.
        forwards: for ``custom_op`` ops, their forward ``fn(*parents_data) -> float`` by name;
            nodes of custom ops not in it are listed in ``.unchecked``.

    Returns:
        A ``LocalDerivativeReport``: a list of ``LocalDerivativeFailure`` (empty when every edge
        agrees), with ``.kinks`` and ``.unchecked``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"check_local_derivatives: root must be a Value, got {root!r}")
    _check_tolerances("check_local_derivatives", eps, atol, rtol)
    report = LocalDerivativeReport()
    for node in topological_order(root):
        if not node.parents:
            continue
        forward = _op_forward(node, forwards or {})
        if forward is None:
            report.unchecked.append(node)
            continue
        for i in range(len(node.parents)):
            found = _check_edge(node, i, forward, eps, atol, rtol)
            if found is not None:
                (report.kinks if found.kind == "kink" else report).append(found)
    return report
