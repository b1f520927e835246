"""The table of contents' lock: a FIFO-fair reader-writer lock, as tokio's ``RwLock`` is.

Every acquisition queues in arrival order. Readers at the head of the queue are granted
together; a writer is granted alone once every earlier reader released. A queued writer blocks
every reader that arrives after it, even while other readers still hold the lock — the property
that lets an apply of ``CreateCollection`` (a writer) and a request holding a read guard wait for
each other (notes §4.8). A waiter cancelled in the queue leaves it; one cancelled right after its
grant releases what it was given.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LockStatistics:
    """A snapshot of the lock: holders and queue."""

    readers: int
    writer: bool
    queued_readers: int
    queued_writers: int


@dataclass(slots=True, eq=False)
class _Waiter:
    write: bool
    granted: asyncio.Future[None]


class FairRwLock:
    """FIFO-fair reader-writer lock; use ``async with lock.read()`` / ``lock.write()``."""

    __slots__ = ("_queue", "_readers", "_writer")

    def __init__(self) -> None:
        self._readers = 0
        self._writer = False
        self._queue: deque[_Waiter] = deque()

    def statistics(self) -> LockStatistics:
        """Who holds the lock and who waits, now."""
        writers = sum(1 for w in self._queue if w.write)
        return LockStatistics(self._readers, self._writer, len(self._queue) - writers, writers)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[None]:
        """Hold a read guard for the block."""
        await self._acquire(write=False)
        try:
            yield
        finally:
            self._release(write=False)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """Hold the write guard for the block."""
        await self._acquire(write=True)
        try:
            yield
        finally:
            self._release(write=True)

    def _free_for(self, write: bool) -> bool:
        if self._writer:
            return False
        return self._readers == 0 if write else True

    def _take(self, write: bool) -> None:
        if write:
            self._writer = True
        else:
            self._readers += 1

    async def _acquire(self, *, write: bool) -> None:
        if not self._queue and self._free_for(write):
            self._take(write)
            return
        waiter = _Waiter(write, asyncio.get_running_loop().create_future())
        self._queue.append(waiter)
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter in self._queue:
                self._queue.remove(waiter)
                self._wake()
            elif waiter.granted.done() and not waiter.granted.cancelled():
                self._release(write)  # granted, then cancelled before it resumed
            raise

    def _release(self, write: bool) -> None:
        if write:
            self._writer = False
        else:
            self._readers -= 1
        self._wake()

    def _wake(self) -> None:
        while self._queue and self._queue[0].granted.done():
            self._queue.popleft()  # cancelled; its task removes nothing more
        while self._queue and self._free_for(self._queue[0].write):
            waiter = self._queue.popleft()
            if waiter.granted.done():
                continue  # cancelled while queued
            self._take(waiter.write)
            waiter.granted.set_result(None)
            if waiter.write:
                return
