"""The first SIGINT/SIGTERM cancels a command's coroutine and returns INTERRUPTED."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from lagrace.cli.interrupt import INTERRUPTED, interruptible


async def test_the_body_result_comes_back_and_the_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    async def body() -> int:
        assert signal.getsignal(signal.SIGINT) is not before[0]
        return 42

    assert await interruptible(body(), doing="stopping", second_exit=9) == 42
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_the_first_signal_cancels_the_body(
    signum: signal.Signals, capfd: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []
    wrapped_up = asyncio.Event()

    async def body() -> int:
        os.kill(os.getpid(), signum)
        try:
            await asyncio.Event().wait()  # only the cancellation ends this
        finally:
            wrapped_up.set()
        return 0

    got = await interruptible(
        body(), doing="stopping cleanly", second_exit=9, on_first=lambda: seen.append("first")
    )
    assert got is INTERRUPTED
    assert seen == ["first"]
    assert wrapped_up.is_set()
    assert f"lagrace: {signum.name}, stopping cleanly" in capfd.readouterr().err
    current = asyncio.current_task()
    assert current is not None
    assert current.cancelling() == 0  # the cancellation was taken back


async def test_a_cancellation_that_is_not_ours_propagates() -> None:
    async def body() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await interruptible(body(), doing="stopping", second_exit=9)
