"""L-BFGS (quasi-Newton, "1.5th order") and its strong-Wolfe line search, as torch.optim.LBFGS."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tinygrad_edu.engine import enable_grad
from tinygrad_edu.optim.optimizer import (
    Closure,
    Optimizer,
    _check_nonnegative,
    _check_positive_int,
    _dot,
    _is_vector,
    _max_abs,
    _SavedState,
)


class LBFGS(Optimizer):
    r"""L-BFGS: a quasi-Newton method that models the inverse Hessian from recent steps.

    It keeps the last ``history_size`` pairs s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k (only those
    with curvature y_k . s_k > 1e-10) and forms the direction d = -H g by the two-loop recursion::

        q <- -g
        for k = newest ... oldest:  a_k = rho_k s_k . q;  q <- q - a_k y_k    (rho_k = 1/(y_k.s_k))
        r <- gamma q,  gamma = (y . s) / (y . y) of the newest pair
        for k = oldest ... newest:  b = rho_k y_k . r;  r <- r + (a_k - b) s_k
        d = r

    and steps x <- x + t d. H satisfies the secant condition H y_k = s_k for the newest pair: it
    has the curvature of f along the directions just travelled, without ever forming a matrix.
    The very first direction is -g with t = min(1, 1 / |g|_1) * lr; after that t = lr, and with
    ``line_search_fn="strong_wolfe"`` t is refined by a line search (cubic interpolation) until
    f decreases enough and the slope along d has flattened (see ``_strong_wolfe``).

    One ``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls, default
    ``max_iter * 5 // 4``) and stops early when max |g| <= tolerance_grad or when f or x change by
    less than tolerance_change. PyTorch's algorithm, step for step; its state (history, counts
    ``n_iter`` and ``func_evals``) is kept in ``state[first parameter]``.

    Raises:
        ValueError: negative lr, max_iter / max_eval / history_size < 1, an unknown
            ``line_search_fn``, or more than one parameter group.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        _check_positive_int("LBFGS", "max_iter", max_iter)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_positive_int("LBFGS", "max_iter", group["max_iter"])
        _check_positive_int("LBFGS", "max_eval", group["max_eval"])
        _check_positive_int("LBFGS", "history_size", group["history_size"])
        _check_nonnegative("LBFGS", "tolerance_grad", group["tolerance_grad"])
        _check_nonnegative("LBFGS", "tolerance_change", group["tolerance_change"])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', "
                f"got {group['line_search_fn']!r}"
            )

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        if saved is None:
            return
        if index != 0:
            raise ValueError(
                f"{owner}: {saved.where} is for parameter {index}; LBFGS keeps its state "
                f"under the first parameter (index 0)"
            )
        history = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad")
        saved.keys((), ("func_evals", "n_iter", *history, "prev_loss"))
        saved.count("func_evals")
        saved.count("n_iter")
        state, n = saved.state, len(group["params"])
        if state.get("n_iter", 0) > 0:  # every step() that iterated saved all of them
            missing = [k for k in history if state.get(k) is None]
            if missing:
                raise ValueError(
                    f"{owner}: {saved.where} has n_iter={state['n_iter']} but lacks {missing}, "
                    f"which every iteration saves"
                )
        for key in ("t", "H_diag", "prev_loss"):
            saved.number(key, none=True)
        saved.vector("d", n, none=True)
        saved.vector("prev_flat_grad", n, none=True)
        pairs = [state.get(k) for k in ("old_dirs", "old_stps", "ro")]
        if all(v is None for v in pairs):
            return
        dirs, stps, ro = pairs
        if not (
            isinstance(dirs, list)
            and isinstance(stps, list)
            and _is_vector(ro, len(dirs))
            and len(stps) == len(dirs) <= group["history_size"]
            and all(_is_vector(v, n) for v in dirs + stps)
        ):
            raise ValueError(
                f"{owner}: {saved.where}['old_dirs'], ['old_stps'] and ['ro'] must be up to "
                f"history_size={group['history_size']} curvature pairs (lists of {n} finite "
                f"numbers, and one number per pair), got {dirs!r}, {stps!r}, {ro!r}"
            )

    # -- flat-vector views of the parameters -----------------------------------------------------

    def _gather_flat_grad(self) -> list[float]:
        return [p.grad for p in self.param_groups[0]["params"]]

    def _add_grad(self, step_size: float, update: Sequence[float]) -> None:
        for p, u in zip(self.param_groups[0]["params"], update):
            p.data = p.data + step_size * u

    def _directional_evaluate(
        self, closure: Closure, x: list[float], t: float, d: list[float]
    ) -> tuple[float, list[float]]:
        """f and grad f at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, xi in zip(self.param_groups[0]["params"], x):
            p.data = xi
        return loss, flat_grad

    def _move(
        self,
        closure: Closure,
        d: list[float],
        t: float,
        loss: float,
        flat_grad: list[float],
        gtd: float,
        last_iteration: bool,
        max_ls: int,
    ) -> tuple[float, list[float], float, int, bool]:
        """x <- x + t d, with t from the strong-Wolfe line search if one is set.

        Returns the loss, gradient and t at the new x, the closure calls spent, and whether
        max |g| <= tolerance_grad there. Without a line search the new point is evaluated only
        if another iteration follows (as PyTorch); otherwise loss and gradient are the old ones.
        """
        group = self.param_groups[0]
        if group["line_search_fn"] is not None:
            x_init = [p.data for p in group["params"]]

            def obj_func(x: list[float], t: float, d: list[float]) -> tuple[float, list[float]]:
                return self._directional_evaluate(closure, x, t, d)

            loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_ls
            )
            self._add_grad(t, d)
            return loss, flat_grad, t, ls_func_evals, _max_abs(flat_grad) <= group["tolerance_grad"]
        self._add_grad(t, d)  # a fixed step, no line search
        if last_iteration:
            return loss, flat_grad, t, 0, False
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        return loss, flat_grad, t, 1, _max_abs(flat_grad) <= group["tolerance_grad"]

    def step(self, closure: Closure | None = None) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; returns the loss at the starting point.

        Args:
            closure: required. Zeroes the grads, computes the loss, calls ``backward()``,
                returns the loss. Called once at the start and once per function evaluation.
        """
        if closure is None:
            raise TypeError(
                "LBFGS.step: a closure is required (it re-evaluates the loss and its gradient "
                "at trial points): opt.step(closure)"
            )
        group = self.param_groups[0]
        params = group["params"]
        lr, history_size = group["lr"], group["history_size"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]

        state = self.state.setdefault(params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        if _max_abs(flat_grad) <= tolerance_grad:
            return orig_loss  # already optimal to tolerance

        # Carried over from the previous step() call (all None before the first iteration).
        d: list[float] | None = state.get("d")
        t: float | None = state.get("t")
        old_dirs: list[list[float]] | None = state.get("old_dirs")
        old_stps: list[list[float]] | None = state.get("old_stps")
        ro: list[float] | None = state.get("ro")
        H_diag: float | None = state.get("H_diag")
        prev_flat_grad: list[float] | None = state.get("prev_flat_grad")
        prev_loss: float | None = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # -- the direction ------------------------------------------------------------------
            if state["n_iter"] == 1:
                d = [-gi for gi in flat_grad]
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                d, H_diag = _quasi_newton_direction(
                    state,
                    flat_grad,
                    d,
                    t,
                    old_dirs,
                    old_stps,
                    ro,
                    H_diag,
                    prev_flat_grad,
                    history_size,
                )

            prev_flat_grad = list(flat_grad)
            prev_loss = loss

            # -- the step length ----------------------------------------------------------------
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / sum(abs(gi) for gi in flat_grad)) * lr
            else:
                t = lr
            gtd = _dot(flat_grad, d)  # the slope along d; must be negative (a descent direction)
            if gtd > -tolerance_change:
                break

            loss, flat_grad, t, ls_func_evals, opt_cond = self._move(
                closure, d, t, loss, flat_grad, gtd, n_iter == max_iter, max_eval - current_evals
            )
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # -- stopping tests -----------------------------------------------------------------
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _max_abs(d) * abs(t) <= tolerance_change:
                break  # the step no longer moves x
            if abs(loss - prev_loss) < tolerance_change:
                break  # f no longer changes

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag)
        state.update(prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss


def _quasi_newton_direction(
    state: dict[str, Any],
    flat_grad: list[float],
    d: list[float] | None,
    t: float | None,
    old_dirs: list[list[float]] | None,
    old_stps: list[list[float]] | None,
    ro: list[float] | None,
    H_diag: float | None,
    prev_flat_grad: list[float] | None,
    history_size: int,
) -> tuple[list[float], float]:
    """The direction of an iteration after the first: add the last step's pair, two-loop -H g.

    The pair is s = t d (the last step) and y = g - g_prev; the history lists are updated in
    place. Returns the direction and gamma.
    """
    if (
        d is None
        or t is None
        or old_dirs is None
        or old_stps is None
        or ro is None
        or H_diag is None
        or prev_flat_grad is None
    ):
        # Every step() that runs an iteration saves all of these together, so this
        # means a state not written by LBFGS.step (e.g. a hand-edited state_dict).
        raise RuntimeError(
            f"LBFGS.step: state has n_iter={state['n_iter']} but lacks the "
            "direction/history saved by earlier iterations"
        )
    y = [a - b for a, b in zip(flat_grad, prev_flat_grad)]
    s = [di * t for di in d]
    H_diag = _add_curvature_pair(old_dirs, old_stps, ro, H_diag, s, y, history_size)
    return _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag), H_diag


def _add_curvature_pair(
    old_dirs: list[list[float]],
    old_stps: list[list[float]],
    ro: list[float],
    H_diag: float,
    s: list[float],
    y: list[float],
    history_size: int,
) -> float:
    """Keep the pair (s, y) if its curvature y . s > 1e-10, the oldest dropped past history_size.

    Returns gamma = (y . s) / (y . y), the scale of the initial inverse Hessian (unchanged if the
    pair is rejected).
    """
    ys = _dot(y, s)
    if ys > 1e-10:  # keep only pairs with positive curvature
        if len(old_dirs) == history_size:
            old_dirs.pop(0)
            old_stps.pop(0)
            ro.pop(0)
        old_dirs.append(y)
        old_stps.append(s)
        ro.append(1.0 / ys)
        H_diag = ys / _dot(y, y)  # gamma: the initial inverse Hessian's scale
    return H_diag


def _two_loop_direction(
    flat_grad: list[float],
    old_dirs: list[list[float]],
    old_stps: list[list[float]],
    ro: list[float],
    H_diag: float,
) -> list[float]:
    """d = -H g by the two-loop recursion in the class docstring (y_k: old_dirs, s_k: old_stps)."""
    num_old = len(old_dirs)
    al = [0.0] * num_old
    q = [-gi for gi in flat_grad]
    for i in range(num_old - 1, -1, -1):  # newest ... oldest: a_k = rho_k s_k . q
        al[i] = _dot(old_stps[i], q) * ro[i]
        q = [qj + (-al[i]) * yj for qj, yj in zip(q, old_dirs[i])]
    r = [qj * H_diag for qj in q]  # r = gamma q
    for i in range(num_old):  # oldest ... newest: b = rho_k y_k . r
        be_i = _dot(old_dirs[i], r) * ro[i]
        r = [rj + (al[i] - be_i) * sj for rj, sj in zip(r, old_stps[i])]
    return r


# -- the line search ----------------------------------------------------------------------------


def _strong_wolfe(
    obj_func: Callable[[list[float], float, list[float]], tuple[float, list[float]]],
    x: list[float],
    t: float,
    d: list[float],
    f: float,
    g: list[float],
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, list[float], float, int]:
    """Find a step t along d satisfying the strong Wolfe conditions (PyTorch's / minFunc's).

    The conditions, with phi(t) = f(x + t d) and phi'(t) = grad f(x + t d) . d::

        phi(t) <= phi(0) + c1 t phi'(0)          (sufficient decrease, Armijo)
        |phi'(t)| <= c2 |phi'(0)|                (the slope has flattened enough)

    First *bracket*: grow t (by cubic extrapolation) until an interval is known to contain such
    a point; then *zoom*: shrink the bracket by cubic interpolation until a point satisfies both.

    Returns:
        (f_new, g_new, t, number of function evaluations).
    """
    g = list(g)
    found = _bracket_phase(obj_func, x, t, d, f, g, gtd, c1, c2, max_ls)
    return _zoom_phase(found, obj_func, x, d, f, gtd, c1, c2, tolerance_change, max_ls)


@dataclass
class _Bracket:
    """Step lengths t (with f, grad f and slope there) known to bracket a strong-Wolfe point.

    One point when ``done`` (it already satisfies both conditions); ``ls_iter`` and ``evals``
    count the line-search iterations and function evaluations so far.
    """

    t: list[float]
    f: list[float]
    g: list[list[float]]
    gtd: list[float]
    done: bool
    ls_iter: int
    evals: int


def _bracket_phase(
    obj_func: Callable[[list[float], float, list[float]], tuple[float, list[float]]],
    x: list[float],
    t: float,
    d: list[float],
    f: float,
    g: list[float],
    gtd: float,
    c1: float,
    c2: float,
    max_ls: int,
) -> _Bracket:
    """Grow t by cubic extrapolation until [t_prev, t] brackets a strong-Wolfe point."""
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    # Bracketing phase.
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[list[float]] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, list(g_new)], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, list(g_new)], [gtd_prev, gtd_new]
            break
        # Extrapolate: the next trial step lies between 1.01 t and 10 t.
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, list(g_new), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:  # out of evaluations: settle for the best of 0 and t
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]
    return _Bracket(bracket, bracket_f, bracket_g, bracket_gtd, done, ls_iter, ls_func_evals)


def _zoom_phase(
    found: _Bracket,
    obj_func: Callable[[list[float], float, list[float]], tuple[float, list[float]]],
    x: list[float],
    d: list[float],
    f: float,
    gtd: float,
    c1: float,
    c2: float,
    tolerance_change: float,
    max_ls: int,
) -> tuple[float, list[float], float, int]:
    """Shrink the bracket by cubic interpolation until a point satisfies both conditions.

    Returns:
        (f_new, g_new, t, number of function evaluations), at the bracket's low end.
    """
    bracket, bracket_f, bracket_g, bracket_gtd = found.t, found.f, found.g, found.gtd
    done, ls_iter, ls_func_evals = found.done, found.ls_iter, found.evals
    d_norm = _max_abs(d)
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small to matter
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # If t lands within 10% of the bracket's ends twice running (or outside it), move it
        # to 10% inside: otherwise the bracket could shrink from one side only, very slowly.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # No sufficient decrease, or not below the low end: t becomes the high end.
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = list(g_new), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # strong Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # The minimum is on the other side of t: the old low end becomes the high end.
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = list(g_new), gtd_new

    t = bracket[low_pos]
    return bracket_f[low_pos], bracket_g[low_pos], t, ls_func_evals


def _cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, in bounds.

    With d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2) and d2 = sqrt(d1^2 - g1 g2), the minimiser is
    x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2) (x2 the point further right). If the cubic
    has no minimum (d1^2 < g1 g2), take the middle of the bounds. (minFunc's polyinterp.)
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0
