"""Adam and AdamW: momentum divided by a running RMS, bias-corrected; AdamW decays decoupled."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tinygrad_edu.optim.optimizer import (
    Optimizer,
    _check_betas,
    _check_flag,
    _check_nonnegative,
    _lerp,
    _SavedState,
)


class Adam(Optimizer):
    r"""Adam: momentum (first moment) divided by a running RMS (second moment), bias-corrected.

    With t the number of ``step()`` calls so far (the same t for every parameter)::

        g <- g + lambda * theta                  (weight_decay lambda; L2, "coupled")
        m <- beta1 * m + (1 - beta1) * g         (m, v start at 0)
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                   (amsgrad only; then v_max replaces v below)
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    m and v start at 0, so early on they are biased toward 0; dividing by (1 - beta^t) undoes
    that. The bias correction must use the number of ``step()`` calls: each parameter keeps its
    own ``state[p]['step']`` (as PyTorch does), advanced once per ``step()``. The classic bug is
    one shared counter advanced inside the loop over parameters, i.e. once per *parameter*.

    ``AdamW`` is the same with decoupled weight decay (``decoupled_weight_decay=True``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_nonnegative(self._name, "epsilon value", group["eps"])
        group["betas"] = _check_betas(self._name, group["betas"])
        _check_nonnegative(self._name, "weight_decay value", group["weight_decay"])
        _check_flag(self._name, "amsgrad", group["amsgrad"])
        _check_flag(self._name, "decoupled_weight_decay", group["decoupled_weight_decay"])

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        if saved is None:  # created at the parameter's first step
            return
        required = ["step", "exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * bool(group["amsgrad"])
        saved.keys(required, ("max_exp_avg_sq",))
        saved.count("step")  # t, for the bias correction
        saved.number("exp_avg")  # m
        saved.number("exp_avg_sq", nonnegative=True)  # v
        saved.number("max_exp_avg_sq", nonnegative=True)  # v_max

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay, amsgrad = (
            group["lr"],
            group["eps"],
            group["weight_decay"],
            group["amsgrad"],
        )
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
                if amsgrad:
                    state["max_exp_avg_sq"] = 0.0
            state["step"] += 1
            g = p.grad
            if weight_decay != 0:
                if decoupled:
                    # AdamW: theta <- theta (1 - lr lambda)
                    p.data = p.data * (1 - lr * weight_decay)
                else:
                    g = g + weight_decay * p.data  # Adam: g <- g + lambda theta
            exp_avg = _lerp(state["exp_avg"], g, 1 - beta1)  # m <- beta1 m + (1 - beta1) g
            # v <- beta2 v + (1 - beta2) g^2
            exp_avg_sq = state["exp_avg_sq"] * beta2 + (1 - beta2) * g * g
            state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
            step = state["step"]
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if amsgrad:
                state["max_exp_avg_sq"] = max(state["max_exp_avg_sq"], exp_avg_sq)  # v_max
                denom = math.sqrt(state["max_exp_avg_sq"]) / bias_correction2_sqrt + eps
            else:
                denom = math.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
            # theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
            p.data = p.data + (-step_size) * exp_avg / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): decay theta, not the gradient.

    ::

        theta <- theta * (1 - lr * lambda)       (weight_decay lambda, default 1e-2)
        then Adam's update with the plain gradient g (no lambda * theta added to it)

    In Adam, an L2 term lambda * theta added to g is divided by sqrt(v) like the rest of the
    gradient, so parameters with large gradients are barely decayed. AdamW shrinks every
    parameter by the same factor, independent of its gradient history.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # as PyTorch: AdamW always decays decoupled
            group["decoupled_weight_decay"] = True
