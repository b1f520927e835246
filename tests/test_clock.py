"""The clock: reading time, and waiting on it (real and virtual)."""

from __future__ import annotations

import asyncio

import pytest

from lagrace.clock import (
    ManualClock,
    SystemClock,
    deadline,
    sleep,
    timeout,
    wait_event,
    wait_tasks,
)
from lagrace.timebase import NS_PER_MS, NS_PER_S


def test_manual_clock_moves_only_forward() -> None:
    """The manual clock advances on request and refuses to go back."""
    clock = ManualClock(anchor_unix_ns=10 * NS_PER_S)
    clock.advance(5)
    assert clock.now_ns() == 5
    assert clock.wall_ns() == 10 * NS_PER_S + 5
    assert clock.anchor.to_run_ns(10 * NS_PER_S + 7) == 7
    with pytest.raises(ValueError, match="backwards"):
        clock.set(1)


def test_system_clock_is_monotonic_and_anchored() -> None:
    """Run time starts near zero, never decreases, and wall time follows the anchor."""
    clock = SystemClock()
    first = clock.now_ns()
    second = clock.now_ns()
    assert 0 <= first <= second
    assert clock.wall_ns() >= clock.anchor.unix_ns


async def test_sleepers_wake_when_the_manual_clock_passes_their_time() -> None:
    clock = ManualClock()
    woke: list[tuple[str, int]] = []

    async def sleeper(name: str, t_ns: int) -> None:
        await clock.sleep_until(t_ns)
        woke.append((name, clock.now_ns()))

    async with asyncio.TaskGroup() as tg:
        tg.create_task(sleeper("late", 3 * NS_PER_S))
        tg.create_task(sleeper("early", 1 * NS_PER_S))
        tg.create_task(sleeper("past", 0))
        await asyncio.sleep(0)
        assert woke == [("past", 0)]
        clock.advance(2 * NS_PER_S)
        await asyncio.sleep(0)
        assert woke == [("past", 0), ("early", 2 * NS_PER_S)]
        assert clock.next_wake_ns == 3 * NS_PER_S
        clock.set(5 * NS_PER_S)
    assert woke[-1] == ("late", 5 * NS_PER_S)
    assert clock.next_wake_ns is None


async def test_autojump_runs_an_hour_of_sleeps_in_virtual_time_in_order() -> None:
    clock = ManualClock()
    seen: list[tuple[str, int]] = []

    async def ticker(name: str, period_s: float, count: int) -> None:
        for _ in range(count):
            await sleep(clock, period_s)
            seen.append((name, clock.now_ns() // NS_PER_MS))

    async with clock.autojump(), asyncio.TaskGroup() as tg:
        tg.create_task(ticker("a", 900.0, 4))
        tg.create_task(ticker("b", 1_000.0, 3))
    assert seen == [
        ("a", 900_000),
        ("b", 1_000_000),
        ("a", 1_800_000),
        ("b", 2_000_000),
        ("a", 2_700_000),
        ("b", 3_000_000),
        ("a", 3_600_000),
    ]
    assert clock.now_ns() == 3_600 * NS_PER_S


async def test_autojump_waits_for_work_that_is_ready_before_jumping() -> None:
    """A task busy over many loop iterations (no clock wait) holds the jump back."""
    clock = ManualClock()
    steps: list[int] = []

    async def busy() -> None:
        for i in range(200):
            await asyncio.sleep(0)
            steps.append(clock.now_ns())
            del i

    async def sleeper() -> int:
        await sleep(clock, 10.0)
        return len(steps)

    async with clock.autojump(), asyncio.TaskGroup() as tg:
        tg.create_task(busy())
        done_steps = tg.create_task(sleeper())
    assert done_steps.result() == 200  # the jump came only once busy() was done
    assert set(steps) == {0}


async def test_autojump_refuses_to_nest() -> None:
    clock = ManualClock()
    async with clock.autojump():
        with pytest.raises(RuntimeError, match="already autojumping"):
            async with clock.autojump():
                pass


async def test_deadline_on_virtual_time_raises_timeout_error() -> None:
    clock = ManualClock()
    async with clock.autojump():
        with pytest.raises(TimeoutError):
            async with timeout(clock, 5.0):
                await sleep(clock, 60.0)
        assert clock.now_ns() == 5 * NS_PER_S
        async with deadline(clock, 10 * NS_PER_S):
            await sleep(clock, 1.0)  # finishes first: no error
    assert clock.now_ns() == 6 * NS_PER_S


async def test_deadline_on_the_system_clock() -> None:
    clock = SystemClock()
    with pytest.raises(TimeoutError):
        async with timeout(clock, 0.01):
            await asyncio.Event().wait()


async def test_wait_event_and_wait_tasks_on_virtual_time() -> None:
    clock = ManualClock()
    event = asyncio.Event()
    async with clock.autojump():
        assert not await wait_event(clock, event, 2.0)
        assert clock.now_ns() == 2 * NS_PER_S

        async def setter() -> None:
            await sleep(clock, 1.0)
            event.set()

        async with asyncio.TaskGroup() as tg:
            tg.create_task(setter())
            assert await wait_event(clock, event, 30.0)
        assert clock.now_ns() == 3 * NS_PER_S
        async with asyncio.TaskGroup() as tg:
            quick = tg.create_task(sleep(clock, 1.0))
            slow = tg.create_task(sleep(clock, 100.0))
            left = await wait_tasks(clock, [quick, slow], clock.now_ns() + 10 * NS_PER_S)
            assert left == [slow]
            assert quick.done()
            assert not slow.done()
            slow.cancel()
    assert clock.now_ns() == 13 * NS_PER_S
