"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinygrad_edu.optim.optimizer import (
    Optimizer,
    _check_flag,
    _check_nonnegative,
    _check_number,
    _SavedState,
)


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    For each parameter theta with gradient g, at each ``step()``::

        g <- g + lambda * theta                    (weight_decay lambda, an L2 penalty)
        b <- g                          on the first step        (momentum mu != 0)
        b <- mu * b + (1 - tau) * g     afterwards               (dampening tau)
        g <- g + mu * b                 if nesterov, else  g <- b
        theta <- theta - lr * g

    With ``momentum=0`` this is plain gradient descent, theta <- theta - lr * grad f(theta). The
    buffer b is a running sum of past gradients: along a direction where they agree it grows to
    g / (1 - mu); where they alternate in sign (zig-zag across a narrow valley) it cancels out.
    Nesterov evaluates the "look-ahead" form: it adds the momentum term to the current gradient
    once more. PyTorch's form; note the first buffer is g itself, not (1 - tau) g.

    Raises:
        ValueError: negative lr, momentum or weight_decay; nesterov without momentum or with
            nonzero dampening.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        nesterov: bool = False,
        weight_decay: float = 0,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        _check_nonnegative("SGD", "momentum value", group["momentum"])
        _check_nonnegative("SGD", "weight_decay value", group["weight_decay"])
        _check_number("SGD", "dampening", group["dampening"])
        _check_flag("SGD", "nesterov", group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={group['momentum']!r}, dampening={group['dampening']!r})"
            )

    def _check_state(
        self, owner: str, index: int, saved: _SavedState | None, group: dict[str, Any]
    ) -> None:
        if saved is not None:  # b, once a step with momentum has run (None: not yet)
            saved.keys((), ("momentum_buffer",))
            saved.number("momentum_buffer", none=True)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        for p in group["params"]:
            g = p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data  # g <- g + lambda theta
            if momentum != 0:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = g  # b <- g on the first step
                else:
                    buf = buf * momentum + (1 - dampening) * g  # b <- mu b + (1 - tau) g
                state["momentum_buffer"] = buf
                g = g + momentum * buf if nesterov else buf  # g <- g + mu b, or g <- b
            p.data = p.data + (-lr) * g  # theta <- theta - lr g
