"""Adagrad: a per-parameter learning rate, divided by the root of the summed squared gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tinygrad_edu.optim.optimizer import Optimizer, _check_nonnegative, _SavedState


class Adagrad(Optimizer):
    r"""Adagrad: each parameter's step is divided by the root of its summed squared gradients.

    With t the number of ``step()`` calls so far (this one included)::

        g <- g + lambda * theta                       (weight_decay lambda)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        G <- G + g^2                                  (G starts at initial_accumulator_value)
        theta <- theta - lr_t * g / (sqrt(G) + eps)

    A parameter that has had large gradients takes small steps and vice versa: a per-parameter
    learning rate. G only grows, so the steps shrink for ever (RMSprop's fix: forget old g^2).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # G starts at initial_accumulator_value, so the state exists before the first step.
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {"step": 0, "sum": float(group["initial_accumulator_value"])}

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_nonnegative("Adagrad", f"{name} value", group[name])

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        if saved is None:  # the constructor gave every parameter its t and G
            raise ValueError(
                f"{owner}: no state for parameter {index}; Adagrad keeps 'step' and 'sum' "
                f"for every parameter"
            )
        saved.keys(("step", "sum"))
        saved.count("step")
        saved.number("sum", nonnegative=True)  # G, a sum of squares

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps, weight_decay = (
            group["lr"],
            group["lr_decay"],
            group["eps"],
            group["weight_decay"],
        )
        for p in group["params"]:
            state = self.state[p]
            state["step"] += 1
            g = p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data  # g <- g + lambda theta
            clr = lr / (1 + (state["step"] - 1) * lr_decay)  # lr_t = lr / (1 + (t - 1) lr_decay)
            state["sum"] = state["sum"] + 1 * g * g  # G <- G + g^2
            std = math.sqrt(state["sum"]) + eps
            p.data = p.data + (-clr) * g / std  # theta <- theta - lr_t g / (sqrt(G) + eps)
