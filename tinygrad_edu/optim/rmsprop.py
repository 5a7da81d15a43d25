"""RMSprop: divide each step by a running root-mean-square of recent gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tinygrad_edu.optim.optimizer import (
    Optimizer,
    _check_flag,
    _check_nonnegative,
    _check_number,
    _lerp,
    _SavedState,
)


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running root-mean-square of recent gradients.

    ::

        g <- g + lambda * theta                        (weight_decay lambda)
        v <- alpha * v + (1 - alpha) * g^2             (v starts at 0)
        if centered:  m <- alpha * m + (1 - alpha) * g;   s = sqrt(v - m^2) + eps
        else:                                              s = sqrt(v) + eps
        if momentum mu > 0:  b <- mu * b + g / s;   theta <- theta - lr * b   (b starts at 0)
        else:                                        theta <- theta - lr * g / s

    Unlike Adagrad's sum, v forgets: it averages g^2 over roughly the last 1 / (1 - alpha) steps.
    Centered RMSprop divides by an estimate of the gradient's standard deviation instead.
    (A stricter check than PyTorch's: alpha must be in [0, 1].)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for name in ("eps", "momentum", "weight_decay"):
            _check_nonnegative("RMSprop", f"{name} value", group[name])
        if not 0.0 <= _check_number("RMSprop", "alpha", group["alpha"]) <= 1.0:
            raise ValueError(f"RMSprop: invalid alpha value {group['alpha']!r} (must be in [0, 1])")
        _check_flag("RMSprop", "centered", group["centered"])

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        if saved is None:  # created at the parameter's first step
            return
        # v always; b and m when this group's step reads them (momentum > 0, centered).
        required = ["step", "square_avg"]
        required += ["momentum_buffer"] * (group["momentum"] > 0) + ["grad_avg"] * bool(
            group["centered"]
        )
        saved.keys(required, ("momentum_buffer", "grad_avg"))
        saved.count("step")
        saved.number("square_avg", nonnegative=True)
        saved.number("momentum_buffer")
        saved.number("grad_avg")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = (
            group["weight_decay"],
            group["momentum"],
            group["centered"],
        )
        for p in group["params"]:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": 0.0}
                if momentum > 0:
                    state["momentum_buffer"] = 0.0
                if centered:
                    state["grad_avg"] = 0.0
            state["step"] += 1
            g = p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data  # g <- g + lambda theta
            square_avg = state["square_avg"] * alpha + (1 - alpha) * g * g  # v <- a v + (1 - a) g^2
            state["square_avg"] = square_avg
            if centered:
                grad_avg = _lerp(state["grad_avg"], g, 1 - alpha)  # m <- a m + (1 - a) g
                state["grad_avg"] = grad_avg
                # v - m^2 >= 0 in exact arithmetic; max() keeps rounding from making it -1e-20.
                avg = math.sqrt(max(square_avg + (-1) * grad_avg * grad_avg, 0.0))
            else:
                avg = math.sqrt(square_avg)
            avg = avg + eps  # s = sqrt(v - m^2) + eps, or sqrt(v) + eps
            if momentum > 0:
                buf = state["momentum_buffer"] * momentum + 1 * g / avg  # b <- mu b + g / s
                state["momentum_buffer"] = buf
                p.data = p.data + (-lr) * buf  # theta <- theta - lr b
            else:
                p.data = p.data + (-lr) * g / avg  # theta <- theta - lr g / s
