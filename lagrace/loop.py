"""Running a coroutine on the chosen event loop (uvloop by default, or asyncio's)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], loop: str = "uvloop") -> T:
    """Run ``coro`` to completion on a fresh loop of the given kind."""
    if loop == "uvloop":
        return uvloop.run(coro)
    return asyncio.run(coro)


def uncancel_current() -> None:
    """Take back the cancellation that interrupted the running task: the caller handles the
    interruption (wraps the run up) instead of propagating it (``Task.uncancel``)."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
