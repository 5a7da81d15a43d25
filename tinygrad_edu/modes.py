"""Gradient modes: ``no_grad`` / ``enable_grad`` (recording on or off) and ``detect_anomaly``.

As PyTorch keeps ``grad_mode`` and ``anomaly_mode`` apart from the tensor, these live apart from
``Value``. A ``ContextVar`` makes both settings per thread and per asyncio task; one variable holds
both flags, so each op pays for a single lookup (``bench`` workloads ``moons`` and ``chain``).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import sys
from collections.abc import AsyncGenerator, Callable, Generator
from types import FrameType
from typing import Any, TypeVar

__all__ = [
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
]

F = TypeVar("F", bound=Callable[..., Any])

_RECORD = 1  # bit 0: record parents (grad mode)
_ANOMALY = 2  # bit 1: check every result and remember where each node was made
_TRACE = 4  # bit 2: a compiler is tracing (``tinygrad_edu.compiler``): hand it every new node
_MODE: contextvars.ContextVar[int] = contextvars.ContextVar("tinygrad_edu_mode", default=_RECORD)
# While _TRACE is set: the callable that receives each new node, ``tracer(out, parents, local)``.
_TRACER: contextvars.ContextVar[Any] = contextvars.ContextVar("tinygrad_edu_tracer", default=None)


class _ModeSwitch:
    """A context manager that is also a decorator: sets or clears one bit of the mode.

    One instance may be entered again while entered (nested), and by several threads or asyncio
    tasks at once: the tokens that undo each entry live in the context (``_ENTERED``), not on the
    instance, so each thread or task exits what it entered.
    """

    _bit = 0
    _on = False

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        if func is not None:  # used bare, as ``@no_grad``
            return self(func)
        return self

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        pass

    def __enter__(self) -> _ModeSwitch:
        mode = _MODE.get()
        mode = (mode | self._bit) if self._on else (mode & ~self._bit)
        _ENTERED.set((*_ENTERED.get(), (self, _MODE.set(mode))))
        return self

    def __exit__(self, *exc_info: object) -> None:
        entered = _ENTERED.get()
        if not entered or entered[-1][0] is not self:
            name = type(self).__name__
            innermost = (
                f"the innermost mode entered is {type(entered[-1][0]).__name__}"
                if entered
                else "no mode is entered"
            )
            raise RuntimeError(
                f"{name}.__exit__ without a matching {name}.__enter__ "
                f"({innermost} in this thread / task)"
            )
        _ENTERED.set(entered[:-1])
        _MODE.reset(entered[-1][1])

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(
                f"{type(self).__name__}: expected a function to decorate, got {func!r} "
                f"(as a context manager: with {type(self).__name__}(): ...)"
            )
        switch = type(self)
        # A generator's (or coroutine's) body runs when it is resumed, not when it is called, so
        # the mode must be entered around each resumption, not around the call (as torch does).
        if inspect.isasyncgenfunction(func):
            wrapper: Callable[..., Any] = _async_generator_under(switch, func)
        elif inspect.isgeneratorfunction(func):
            wrapper = _generator_under(switch, func)
        elif inspect.iscoroutinefunction(func):
            wrapper = _coroutine_under(switch, func)
        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with switch():
                    return func(*args, **kwargs)

        return functools.wraps(func)(wrapper)  # type: ignore[return-value]


# The (switch, token) of every mode entered and not yet exited in this thread / task, innermost
# last; ``_MODE.reset(token)`` undoes one entry.
_ENTERED: contextvars.ContextVar[tuple[tuple[_ModeSwitch, contextvars.Token[int]], ...]] = (
    contextvars.ContextVar("tinygrad_edu_entered", default=())
)


def _generator_under(
    switch: type[_ModeSwitch], func: Callable[..., Generator[Any, Any, Any]]
) -> Callable[..., Generator[Any, Any, Any]]:
    """func's generators, each step of their body run under the mode; the caller's mode between."""

    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        inner = func(*args, **kwargs)
        try:
            with switch():
                response = inner.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with switch():
                        inner.close()
                    raise
                except BaseException as exc:  # thrown in by the caller: pass it on
                    with switch():
                        response = inner.throw(exc)
                else:
                    with switch():
                        response = inner.send(request)
        except StopIteration as stop:
            return stop.value

    return wrapper


def _async_generator_under(
    switch: type[_ModeSwitch], func: Callable[..., AsyncGenerator[Any, Any]]
) -> Callable[..., AsyncGenerator[Any, Any]]:
    """As ``_generator_under``, for ``async def`` functions that yield."""

    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        inner = func(*args, **kwargs)
        try:
            with switch():
                response = await inner.asend(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with switch():
                        await inner.aclose()
                    raise
                except BaseException as exc:
                    with switch():
                        response = await inner.athrow(exc)
                else:
                    with switch():
                        response = await inner.asend(request)
        except StopAsyncIteration:
            return

    return wrapper


def _coroutine_under(switch: type[_ModeSwitch], func: Callable[..., Any]) -> Callable[..., Any]:
    """func's coroutines awaited under the mode (per task: other tasks keep their own)."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with switch():
            return await func(*args, **kwargs)

    return wrapper


class no_grad(_ModeSwitch):
    """Stop recording: Values made inside have no parents and ``requires_grad=False``.

    Use it for evaluation (validation loss, plotting) where no gradient is needed: no graph is
    built, so it is faster and uses no memory for the graph. Works as ``with no_grad():``, as
    ``@no_grad()`` and as ``@no_grad``. The setting is per thread and per asyncio task.
    """

    _bit = _RECORD
    _on = False


class enable_grad(_ModeSwitch):
    """Turn recording back on inside a ``no_grad`` block (context manager or decorator)."""

    _bit = _RECORD
    _on = True


class detect_anomaly(_ModeSwitch):
    """Raise ``AnomalyError`` as soon as a NaN or inf appears, forward or backward.

    Inside it, every new node remembers the ``file:line`` of the user code that created it, so the
    error names the op and where it was made. It is slower; use it to hunt a NaN, then turn it off.
    """

    _bit = _ANOMALY
    _on = True


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad`` (in this thread / task)."""
    return bool(_MODE.get() & _RECORD)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly``."""
    return bool(_MODE.get() & _ANOMALY)


class AnomalyError(RuntimeError):
    """A NaN or inf appeared inside ``detect_anomaly``; the message names the op and where."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _creation_site() -> str:
    """``file:line`` of the first frame outside this package: where the user made the node."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == (
        _PACKAGE_DIR
    ):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
