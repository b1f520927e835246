"""The one clock of a run: it reads the time and drives waiting.

:class:`SystemClock` is the real clock; :class:`ManualClock` only moves when told to (or, in
autojump mode, whenever every task is waiting on it) so that tests run the race in virtual time.
Every wait of the race shell goes through :meth:`Clock.sleep_until`. The arithmetic (units,
:class:`~lagrace.timebase.WallAnchor`, RFC 3339) is in :mod:`lagrace.timebase`.

This is the only module of lagrace that reads the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Coroutine, Iterable
from typing import Any, Final, Protocol

from lagrace.timebase import NS_PER_S, WallAnchor


class Clock(Protocol):
    """The clock seam: monotonic run time, the wall anchor taken at the origin, and waiting."""

    @property
    def anchor(self) -> WallAnchor:
        """Wall-clock time at the origin."""
        ...

    def now_ns(self) -> int:
        """Monotonic nanoseconds since the origin."""
        ...

    def wall_ns(self) -> int:
        """The wall-clock time now, in Unix nanoseconds, consistent with :meth:`now_ns`."""
        ...

    async def sleep_until(self, t_ns: int) -> None:
        """Return once the clock reads at least ``t_ns`` (at once if it already does)."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic_ns`` since construction, anchored to ``time.time_ns``."""

    __slots__ = ("_anchor", "_mono_origin")

    def __init__(self) -> None:
        self._mono_origin = time.monotonic_ns()
        self._anchor = WallAnchor(unix_ns=time.time_ns())

    @property
    def anchor(self) -> WallAnchor:
        """Wall-clock time at the origin."""
        return self._anchor

    def now_ns(self) -> int:
        """Monotonic nanoseconds since the origin."""
        return time.monotonic_ns() - self._mono_origin

    def wall_ns(self) -> int:
        """Anchor plus elapsed monotonic time: never jumps with NTP, matches ``now_ns``."""
        return self._anchor.unix_ns + self.now_ns()

    async def sleep_until(self, t_ns: int) -> None:
        """Sleep on the running loop until ``t_ns``."""
        delay = t_ns - self.now_ns()
        if delay > 0:
            await asyncio.sleep(delay / NS_PER_S)


class ManualClock:
    """A clock that only moves when told to (:meth:`advance`, :meth:`set`); for tests.

    Coroutines that :meth:`sleep_until` wake when the clock is moved past their time. Inside
    ``async with clock.autojump():`` the clock also moves by itself, as trio's ``MockClock``
    with ``autojump_threshold=0``: whenever every task on the loop is waiting (nothing is ready
    to run), it jumps to the earliest sleeper's time. A race of a minute then runs in
    milliseconds, deterministically, and what it waits for is what the real clock would make
    it wait for. Waits on anything else (I/O, real-time timers) do not hold the jump back, so
    tests in virtual time use in-memory fakes (:mod:`lagrace.testing`).
    """

    __slots__ = ("_anchor", "_now", "_seq", "_sleeper_added", "_sleepers")

    def __init__(self, anchor_unix_ns: int = 1_767_225_600 * NS_PER_S, start_ns: int = 0) -> None:
        self._anchor = WallAnchor(unix_ns=anchor_unix_ns)
        self._now = start_ns
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._sleeper_added: asyncio.Event | None = None

    @property
    def anchor(self) -> WallAnchor:
        """Wall-clock time at the origin."""
        return self._anchor

    def now_ns(self) -> int:
        """The time set by :meth:`advance` / :meth:`set`."""
        return self._now

    def wall_ns(self) -> int:
        """Anchor plus manual time."""
        return self._anchor.unix_ns + self._now

    def advance(self, ns: int) -> None:
        """Move time forward by ``ns`` (never backwards), waking every sleeper now due."""
        if ns < 0:
            raise ValueError("a monotonic clock cannot go backwards")
        self._now += ns
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def set(self, t_ns: int) -> None:
        """Jump to ``t_ns`` (not earlier than now)."""
        self.advance(t_ns - self._now)

    @property
    def next_wake_ns(self) -> int | None:
        """The earliest time a sleeper waits for (``None``: nobody sleeps)."""
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def sleep_until(self, t_ns: int) -> None:
        """Wait until the clock is moved to ``t_ns`` or later."""
        if t_ns <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (t_ns, next(self._seq), future))
        if self._sleeper_added is not None:
            self._sleeper_added.set()
        await future

    @contextlib.asynccontextmanager
    async def autojump(self) -> AsyncIterator[None]:
        """Within this block, jump to the next sleeper's time whenever the loop is idle."""
        if self._sleeper_added is not None:
            raise RuntimeError("this ManualClock is already autojumping")
        self._sleeper_added = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as tg:
                jumper = tg.create_task(self._jump_when_idle(self._sleeper_added))
                try:
                    yield
                finally:
                    jumper.cancel()
        finally:
            self._sleeper_added = None

    async def _jump_when_idle(self, sleeper_added: asyncio.Event) -> None:
        while True:
            await _until_idle()
            wake = self.next_wake_ns
            if wake is None:
                sleeper_added.clear()
                await sleeper_added.wait()
            else:
                self.set(wake)


# On a loop that does not show its ready queue (uvloop), how many consecutive looks must find
# every task waiting before the clock jumps: a done-callback (``asyncio.wait``, ``gather``)
# runs from the ready queue, not from a task, and wakes its task one loop iteration later.
CALM_LOOKS: Final = 4


async def _until_idle() -> None:
    """Yield until nothing can run: every other task waits on a future that is not done and,
    where the loop shows it, its ready queue is empty (uvloop: :data:`CALM_LOOKS` looks).

    A task whose future is done is about to run (its wake-up is scheduled); a task without
    one is ready."""
    me = asyncio.current_task()
    ready = getattr(asyncio.get_running_loop(), "_ready", None)  # asyncio's; uvloop has none
    needed = 1 if ready is not None else CALM_LOOKS
    calm = 0
    while calm < needed:
        await asyncio.sleep(0)
        idle = not ready and all(
            _waiting(t) for t in asyncio.all_tasks() if t is not me and not t.done()
        )
        calm = calm + 1 if idle else 0


def _waiting(task: asyncio.Task[Any]) -> bool:
    waiter = getattr(task, "_fut_waiter", None)  # the future the task awaits (asyncio's own)
    return waiter is not None and not waiter.done()


async def sleep(clock: Clock, seconds: float) -> None:
    """Sleep ``seconds`` of ``clock``'s time."""
    await clock.sleep_until(clock.now_ns() + int(seconds * NS_PER_S))


async def wait_event(clock: Clock, event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` of ``clock``'s time passed; whether it is set."""
    if event.is_set():
        return True
    await first_done(clock, (event.wait(),), clock.now_ns() + int(seconds * NS_PER_S))
    return event.is_set()


async def wait_tasks(
    clock: Clock, tasks: Iterable[asyncio.Task[None]], deadline_ns: int
) -> list[asyncio.Task[None]]:
    """Wait until every task is done or ``clock`` reaches ``deadline_ns``; the tasks not done.

    The tasks are not cancelled (the caller decides)."""
    pending = [t for t in tasks if not t.done()]
    if pending:
        await first_done(clock, (asyncio.wait(pending),), deadline_ns)
    return [t for t in pending if not t.done()]


async def first_done(
    clock: Clock, awaitables: Iterable[Coroutine[Any, Any, object]], deadline_ns: int
) -> None:
    """Run ``awaitables`` (coroutines) until the first finishes or the clock's deadline passes;
    cancel the rest. Exceptions of the coroutines propagate."""
    async with asyncio.TaskGroup() as tg:
        racers: list[asyncio.Task[object]] = [tg.create_task(a) for a in awaitables]
        racers.append(tg.create_task(clock.sleep_until(deadline_ns)))
        await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        for racer in racers:
            racer.cancel()


@contextlib.asynccontextmanager
async def deadline(clock: Clock, at_ns: int) -> AsyncIterator[None]:
    """Like ``asyncio.timeout_at`` on ``clock``'s time: the block is cancelled at ``at_ns`` and
    :class:`TimeoutError` raised. On the system clock this is ``asyncio.timeout``."""
    loop = asyncio.get_running_loop()
    if isinstance(clock, SystemClock):
        async with asyncio.timeout(max(0.0, (at_ns - clock.now_ns()) / NS_PER_S)):
            yield
        return
    async with asyncio.timeout(None) as scope:

        async def fire() -> None:
            await clock.sleep_until(at_ns)
            scope.reschedule(loop.time())
            # Stay ready to run until the block is cancelled: waiting on an event instead would
            # let the autojumper move the clock past the deadline before the cancel lands.
            while not scope.expired():  # noqa: ASYNC110
                await asyncio.sleep(0)

        async with asyncio.TaskGroup() as tg:
            timer = tg.create_task(fire())
            try:
                yield
            finally:
                timer.cancel()


def timeout(clock: Clock, seconds: float) -> contextlib.AbstractAsyncContextManager[None]:
    """:func:`deadline` ``seconds`` from now."""
    return deadline(clock, clock.now_ns() + int(seconds * NS_PER_S))
