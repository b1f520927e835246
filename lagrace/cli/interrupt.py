"""The first SIGINT/SIGTERM ends a command cleanly, a second exits at once (run, hunt, suite).

The handlers are process-level (``signal.signal``), not loop callbacks, so a second signal exits
even while the loop is busy in synchronous work (analysis, the report). The first one hands the
cancellation to the loop (``call_soon_threadsafe``); the command's coroutine wraps up what it
has (a run's directory, a hunt's state, a suite's matrix) and :func:`interruptible` returns
:data:`INTERRUPTED` if the cancellation reached it.
"""

from __future__ import annotations

import asyncio
import enum
import os
import signal
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, Final, Literal, TypeVar

from lagrace.loop import uncancel_current

T = TypeVar("T")


class _Interrupted(enum.Enum):
    INTERRUPTED = "interrupted"


INTERRUPTED: Final = _Interrupted.INTERRUPTED
SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


def _nothing() -> None:
    return None


async def interruptible(
    body: Coroutine[Any, Any, T],
    *,
    doing: str,
    second_exit: int,
    on_first: Callable[[], None] = _nothing,
) -> T | Literal[_Interrupted.INTERRUPTED]:
    """Await ``body`` with the signal handlers installed (module doc). On the first signal,
    print ``lagrace: SIGINT, {doing}``, call ``on_first`` and cancel ``body``; on a second,
    exit with ``second_exit``. The previous handlers are restored on the way out."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupts = 0

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        name = signal.Signals(signum).name
        if interrupts > 1:
            os.write(2, f"\nlagrace: second {name}, exiting now\n".encode())
            os._exit(second_exit)
        os.write(2, f"\nlagrace: {name}, {doing}\n".encode())
        on_first()
        loop.call_soon_threadsafe(task.cancel)

    previous = {sig: signal.signal(sig, on_signal) for sig in SIGNALS}
    try:
        return await body
    except asyncio.CancelledError:
        if interrupts == 0:
            raise  # not ours
        uncancel_current()
        return INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
