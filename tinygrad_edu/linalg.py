"""Small dense linear algebra on lists of floats, and a closed form built on it: ridge regression.

``_cholesky`` / ``_cholesky_solve`` solve a symmetric positive definite system; ``Newton`` uses them
for its step and ``ridge_regression`` for the normal equations.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence


def _cholesky(a: list[list[float]]) -> list[list[float]] | None:
    """Lower-triangular L with L L^T = a, or None if a is not (numerically) positive definite."""
    n = len(a)
    low = [[0.0] * n for _ in range(n)]
    for j in range(n):
        row_j = low[j]
        pivot = a[j][j] - sum(row_j[k] * row_j[k] for k in range(j))
        if not pivot > 0.0:  # also catches NaN
            return None
        row_j[j] = math.sqrt(pivot)
        for i in range(j + 1, n):
            row_i = low[i]
            row_i[j] = (a[i][j] - sum(row_i[k] * row_j[k] for k in range(j))) / row_j[j]
    return low


def _cholesky_solve(low: list[list[float]], b: Sequence[float]) -> list[float]:
    """Solve L L^T x = b: forward substitution L z = b, then back substitution L^T x = z."""
    n = len(b)
    z = [0.0] * n
    for i in range(n):
        z[i] = (b[i] - sum(low[i][k] * z[k] for k in range(i))) / low[i][i]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        x[i] = (z[i] - sum(low[k][i] * x[k] for k in range(i + 1, n))) / low[i][i]
    return x


def ridge_regression(
    X: Sequence[Sequence[float]], y: Sequence[float], lam: float, fit_intercept: bool = True
) -> tuple[list[float], float]:
    r"""The exact minimiser of the ridge loss, from the normal equations (no iteration).

    With samples x_i (rows of X, d features each) and targets y_i, ridge regression minimises

        J(w, b) = sum_i (x_i . w + b - y_i)^2 + lam * ||w||^2        (the intercept b is not
                                                                      penalised, as usual)

    J is a quadratic in (w, b), so setting its gradient to zero gives *linear* equations:

        dJ/db = 0  ->  b = mean(y) - mean(x) . w
        dJ/dw = 0  ->  (Xc^T Xc + lam I) w = Xc^T yc      (the normal equations)

    where Xc and yc are X and y with their column means subtracted (substituting b into dJ/dw).
    With ``fit_intercept=False``, b = 0 and the equations read (X^T X + lam I) w = X^T y. For
    lam > 0 the matrix is positive definite, so the solution exists, is unique, and is found by
    a Cholesky factorisation. A network's loss has no such formula: its gradient is not linear in
    the weights, which is why networks are trained by gradient descent.

    Args:
        X: n rows of d numbers (a one-feature problem is ``[[x1], [x2], ...]``).
        y: n targets.
        lam: the penalty weight lambda >= 0 (0 is ordinary least squares).
        fit_intercept: fit the unpenalised intercept b (else b = 0).

    Returns:
        ``(w, b)``: the d weights as a list, and the intercept (0.0 without ``fit_intercept``).

    Raises:
        ValueError: empty or ragged X, len(y) != len(X), lam < 0, a non-finite number, or
            normal equations that are singular (lam = 0 with collinear features or n < d).
    """
    op = "ridge_regression"
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not lam >= 0.0:
        raise ValueError(f"{op}: lam must be a number >= 0, got {lam!r}")
    if not math.isfinite(lam):
        raise ValueError(f"{op}: lam must be finite, got {lam!r}")
    rows = [list(map(float, row)) for row in X]
    targets = [float(t) for t in y]
    if not rows or not rows[0]:
        raise ValueError(f"{op}: X must have at least one row and one column")
    d = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != d:
            raise ValueError(f"{op}: X row {i} has {len(row)} features, row 0 has {d}")
    if len(targets) != len(rows):
        raise ValueError(f"{op}: X has {len(rows)} rows but y has {len(targets)} targets")
    if not all(math.isfinite(v) for row in rows for v in row) or not all(
        math.isfinite(t) for t in targets
    ):
        raise ValueError(f"{op}: X and y must hold finite numbers")

    n = len(rows)
    x_mean = [sum(row[k] for row in rows) / n for k in range(d)] if fit_intercept else [0.0] * d
    y_mean = sum(targets) / n if fit_intercept else 0.0
    centred = [[row[k] - x_mean[k] for k in range(d)] for row in rows]
    yc = [t - y_mean for t in targets]
    # A = Xc^T Xc + lam I (symmetric), rhs = Xc^T yc
    a = [
        [sum(r[j] * r[k] for r in centred) + (lam if j == k else 0.0) for k in range(d)]
        for j in range(d)
    ]
    rhs = [sum(r[j] * t for r, t in zip(centred, yc)) for j in range(d)]
    low = _cholesky(a)
    # Collinear columns leave a pivot of rounding-error size, not exactly 0: call those singular
    # too (relative to the largest diagonal entry), since the solution would be noise.
    scale = max(a[j][j] for j in range(d))
    if low is None or min(low[j][j] ** 2 for j in range(d)) <= 1e-12 * scale:
        raise ValueError(
            f"{op}: the normal equations are singular (X^T X + lam I is not positive definite; "
            f"lam={lam!r}, {n} samples, {d} features): use lam > 0"
        )
    w = _cholesky_solve(low, rhs)
    b = y_mean - sum(m * wk for m, wk in zip(x_mean, w)) if fit_intercept else 0.0
    return w, b
