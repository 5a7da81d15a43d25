"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each sets ``param_group['lr']``.

Call ``scheduler.step()`` after ``optimizer.step()`` (or after each epoch)::

    from tinygrad_edu.optim.lr_scheduler import StepLR
    scheduler = StepLR(opt, step_size=30, gamma=0.1)   # lr_e = lr_0 * 0.1^floor(e / 30)
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any

from tinygrad_edu.optim.optimizer import (
    Optimizer,
    _check_nonnegative,
    _check_number,
    _check_positive_int,
    _is_finite,
)
from tinygrad_edu.optim.projections import Projected


class LRScheduler:
    """Base class of the learning-rate schedules: sets ``param_group['lr']`` once per ``step()``.

    As in PyTorch: creating a schedule records each group's ``initial_lr`` (``base_lrs``) and
    performs step 0 (``last_epoch`` becomes 0); call ``scheduler.step()`` after each
    ``optimizer.step()`` (or after each epoch) to move to the next lr. ``last_epoch`` counts the
    ``step()`` calls; pass ``last_epoch=k`` to resume (the groups must then hold
    ``'initial_lr'``). ``step(epoch)`` jumps to an epoch using the closed form. Subclasses define
    ``get_lr()`` (the recursive rule PyTorch uses) and ``_get_closed_form_lr()``.

    The optimizer is an ``Optimizer`` or anything that shows one's ``param_groups`` (a
    ``Projected`` optimizer): a schedule reads and writes only ``param_groups[i]['lr']``.
    """

    def __init__(self, optimizer: Optimizer | Projected, last_epoch: int = -1) -> None:
        groups = getattr(optimizer, "param_groups", None)
        if not (
            isinstance(optimizer, (Optimizer, Projected))
            and isinstance(groups, list)
            and all(isinstance(g, dict) and "lr" in g for g in groups)
        ):
            raise TypeError(
                f"{type(self).__name__}: expected an Optimizer (or a Projected one), got "
                f"{type(optimizer).__name__!r}"
            )
        self.optimizer = optimizer
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int):
            raise TypeError(f"{type(self).__name__}: last_epoch must be an int, got {last_epoch!r}")
        if last_epoch < -1:
            raise ValueError(
                f"{type(self).__name__}: last_epoch must be >= -1 (-1: a fresh start), "
                f"got {last_epoch!r}"
            )
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr' when "
                        f"resuming with last_epoch={last_epoch}; load the optimizer's "
                        f"state_dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each group for the epoch ``last_epoch`` (already advanced)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch`` with the closed form) and set the lrs."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest ``step()`` (one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as plain numbers and lists (JSON-serialisable)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (the lrs in the optimizer come from its own state_dict).

        Checked before anything changes: the keys must be this schedule's, the counters ints,
        the lrs one finite number per parameter group, the hyperparameters as the constructor
        checks them; an error names the schedule, the key and the value.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{owner}: expected a dict (from state_dict()), got {state_dict!r}")
        expected = set(self.state_dict())
        missing = sorted(expected - set(state_dict))
        unknown = sorted(map(repr, set(state_dict) - expected))
        if missing or unknown:
            raise ValueError(
                f"{owner}: the saved state lacks {missing} and has unexpected keys "
                f"[{', '.join(unknown)}] (a state_dict of another schedule?)"
            )
        state = copy.deepcopy(state_dict)
        n = len(self.optimizer.param_groups)
        for key in ("base_lrs", "_last_lr"):
            value = state[key]
            if not (isinstance(value, list) and len(value) == n and all(map(_is_finite, value))):
                raise ValueError(
                    f"{owner}: {key!r} must be a list of {n} finite lrs (one per parameter "
                    f"group), got {value!r}"
                )
        for key, lowest in (("last_epoch", -1), ("_step_count", 0)):
            value = state[key]
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lowest:
                raise ValueError(f"{owner}: {key!r} must be an int >= {lowest}, got {value!r}")
        if not isinstance(state["_is_initial"], bool):
            raise TypeError(f"{owner}: '_is_initial' must be a bool, got {state['_is_initial']!r}")
        self._check_hyperparameters(owner, state)
        self.__dict__.update(state)

    def _check_hyperparameters(self, owner: str, state: dict[str, Any]) -> None:
        """The schedule's own hyperparameters in a saved state, checked as the constructor does."""


class StepLR(LRScheduler):
    r"""Multiply the lr by gamma every ``step_size`` epochs.

    lr_e = lr_0 * gamma^floor(e / step_size), for epoch e = 0, 1, 2, ...

    Raises:
        ValueError: step_size not a positive integer, gamma negative.
    """

    def __init__(
        self,
        optimizer: Optimizer | Projected,
        step_size: int,
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        _check_positive_int("StepLR", "step_size", step_size)
        _check_nonnegative("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self, owner: str, state: dict[str, Any]) -> None:
        _check_positive_int(owner, "step_size", state["step_size"])
        _check_nonnegative(owner, "gamma", state["gamma"])

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    r"""Multiply the lr by gamma every epoch: lr_e = lr_0 * gamma^e.

    Raises:
        ValueError: gamma negative.
    """

    def __init__(
        self, optimizer: Optimizer | Projected, gamma: float, last_epoch: int = -1
    ) -> None:
        _check_nonnegative("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self, owner: str, state: dict[str, Any]) -> None:
        _check_nonnegative(owner, "gamma", state["gamma"])

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr down to ``eta_min`` over ``T_max`` epochs.

    The closed form (SGDR without restarts)::

        lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2

    ``step()`` applies PyTorch's recursive form, lr_{e} = eta_min + (lr_{e-1} - eta_min) *
    (1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max)), which equals the closed form (to
    rounding) and also respects lr changes made by someone else in between. Past T_max the
    cosine keeps going: the lr rises again, with period 2 T_max (as in PyTorch).

    Raises:
        ValueError: T_max not positive, eta_min negative.
    """

    def __init__(
        self,
        optimizer: Optimizer | Projected,
        T_max: int,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if not _check_number("CosineAnnealingLR", "T_max", T_max) > 0:
            raise ValueError(f"CosineAnnealingLR: invalid T_max {T_max!r} (must be > 0)")
        _check_nonnegative("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self, owner: str, state: dict[str, Any]) -> None:
        if not _check_number(owner, "T_max", state["T_max"]) > 0:
            raise ValueError(f"{owner}: invalid T_max {state['T_max']!r} (must be > 0)")
        _check_nonnegative(owner, "eta_min", state["eta_min"])

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:  # resumed: use the closed form
            return self._get_closed_form_lr()
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            # The previous epoch sat at the cosine's bottom, where the ratio below is 0 / 0.
            return [
                group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * self.last_epoch / self.T_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
            * (group["lr"] - self.eta_min)
            + self.eta_min
            for group in groups
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]
