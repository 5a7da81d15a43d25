"""The modes live in tinygrad_edu.modes; the old import paths name the same objects."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Generator, Iterator

import pytest

import tinygrad_edu
from tinygrad_edu import engine, modes

NAMES = (
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
)


def test_old_import_paths_name_the_objects_of_modes() -> None:
    for name in NAMES:
        assert getattr(engine, name) is getattr(modes, name)
        assert getattr(tinygrad_edu, name) is getattr(modes, name)


def test_no_grad_from_modes_stops_recording_of_engine_ops() -> None:
    x = engine.Value(2.0)
    with modes.no_grad():
        assert not modes.is_grad_enabled()
        y = x * x
    assert y.parents == () and (x * x).parents == (x, x)


# -- one instance shared by threads, tasks and nested blocks (issue 13, item 6) --------------------


def test_one_no_grad_instance_shared_by_two_threads_at_once() -> None:
    # The first thread to enter exits first, while the second is still inside.
    shared = modes.no_grad()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[bool]] = {}
    errors: list[BaseException] = []

    def run(
        name: str,
        wait_before: threading.Event | None,
        signal: threading.Event,
        wait_inside: threading.Event | None,
        signal_out: threading.Event | None,
    ) -> None:
        try:
            if wait_before:
                wait_before.wait(5)
            with shared:
                signal.set()
                if wait_inside:
                    wait_inside.wait(5)
                inside = modes.is_grad_enabled()
            seen[name] = [inside, modes.is_grad_enabled()]
        except BaseException as e:  # noqa: BLE001 - reported by the assert below
            errors.append(e)
        finally:
            if signal_out:
                signal_out.set()

    threads = [
        threading.Thread(target=run, args=("first", None, first_in, second_in, first_out)),
        threading.Thread(target=run, args=("second", first_in, second_in, first_out, None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seen == {"first": [False, True], "second": [False, True]}


def test_one_no_grad_instance_shared_by_two_asyncio_tasks_at_once() -> None:
    shared = modes.no_grad()

    async def task() -> tuple[bool, bool]:
        with shared:
            await asyncio.sleep(0.01)  # the other task enters the instance meanwhile
            inside = modes.is_grad_enabled()
        return inside, modes.is_grad_enabled()

    async def main() -> list[tuple[bool, bool]]:
        return list(await asyncio.gather(task(), task()))

    assert asyncio.run(main()) == [(False, True), (False, True)]


def test_one_instance_nested_inside_itself() -> None:
    shared = modes.no_grad()
    with shared:
        with modes.enable_grad():
            with shared:
                assert not modes.is_grad_enabled()
            assert modes.is_grad_enabled()
        assert not modes.is_grad_enabled()
    assert modes.is_grad_enabled()


def test_exit_without_enter_names_the_mode() -> None:
    with pytest.raises(RuntimeError, match=r"no_grad.__exit__ without a matching .*no mode"):
        modes.no_grad().__exit__(None, None, None)
    outer, inner = modes.detect_anomaly(), modes.enable_grad()
    with outer:
        with pytest.raises(RuntimeError, match="detect_anomaly.*innermost mode entered is enable"):
            with inner:
                outer.__exit__(None, None, None)
        assert modes.is_anomaly_enabled()  # the refused exit changed nothing
    assert not modes.is_anomaly_enabled()


# -- decorated generators and coroutines run under the mode (issue 13, item 4) --------------------


def test_decorated_generator_runs_each_step_under_the_mode_and_the_caller_keeps_its_own() -> None:
    @modes.no_grad
    def bare() -> Iterator[bool]:
        while True:
            yield modes.is_grad_enabled()

    @modes.no_grad()
    def called() -> Iterator[bool]:
        while True:
            yield modes.is_grad_enabled()

    for make in (bare, called):
        steps = make()
        assert next(steps) is False
        assert modes.is_grad_enabled()  # the caller's mode between yields
        with modes.enable_grad():
            assert next(steps) is False
        with modes.no_grad():
            assert next(steps) is False
            assert not modes.is_grad_enabled()
        assert modes.is_grad_enabled()

    @modes.enable_grad()
    def recording() -> Iterator[bool]:
        while True:
            yield modes.is_grad_enabled()

    steps = recording()
    with modes.no_grad():
        assert next(steps) is True
        assert not modes.is_grad_enabled()


def test_decorated_generator_passes_send_throw_close_and_return_value_through() -> None:
    log: list[tuple[str, object, bool]] = []

    @modes.no_grad()
    def echo() -> Generator[int, int, str]:
        try:
            received = yield 1
            log.append(("sent", received, modes.is_grad_enabled()))
            try:
                yield 2
            except KeyError as e:
                log.append(("thrown", e.args[0], modes.is_grad_enabled()))
            yield 3
            return "done"
        finally:
            log.append(("finally", None, modes.is_grad_enabled()))

    steps = echo()
    assert next(steps) == 1
    assert steps.send(10) == 2
    assert steps.throw(KeyError("k")) == 3
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value == "done"
    closed = echo()
    next(closed)
    closed.close()
    assert log == [
        ("sent", 10, False),
        ("thrown", "k", False),
        ("finally", None, False),
        ("finally", None, False),
    ]
    assert modes.is_grad_enabled()


def test_detect_anomaly_on_a_generator_checks_its_body() -> None:
    big = engine.Value(1e308)

    @modes.detect_anomaly()
    def steps() -> Iterator[bool]:
        yield modes.is_anomaly_enabled()
        yield (big * 10).data == math.inf  # an inf made in the body: AnomalyError

    it = steps()
    assert next(it) is True
    assert not modes.is_anomaly_enabled()
    assert (big * 10).data == math.inf  # the caller's ops are not checked
    with pytest.raises(modes.AnomalyError, match="inf"):
        next(it)


def test_decorated_async_def_runs_under_the_mode() -> None:
    @modes.no_grad
    async def bare() -> bool:
        await asyncio.sleep(0)
        return modes.is_grad_enabled()

    @modes.no_grad()
    async def called() -> tuple[bool, bool]:
        await asyncio.sleep(0)
        return modes.is_grad_enabled(), (engine.Value(2.0) * 3).parents == ()

    async def main() -> tuple[bool, tuple[bool, bool], bool]:
        return await bare(), await called(), modes.is_grad_enabled()

    assert asyncio.run(main()) == (False, (False, True), True)


def test_decorated_async_generator_runs_each_step_under_the_mode() -> None:
    @modes.no_grad()
    async def steps() -> AsyncIterator[bool]:
        for _ in range(2):
            await asyncio.sleep(0)
            yield modes.is_grad_enabled()

    async def main() -> list[bool]:
        seen = []
        async for inside in steps():
            seen += [inside, modes.is_grad_enabled()]
        return seen

    assert asyncio.run(main()) == [False, True, False, True]


def test_a_mode_refuses_to_decorate_what_is_not_a_function() -> None:
    with pytest.raises(TypeError, match="enable_grad: expected a function to decorate, got False"):
        modes.enable_grad(False)  # type: ignore[arg-type]
