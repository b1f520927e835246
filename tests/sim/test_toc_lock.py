"""The table of contents' lock: FIFO-fair, a queued writer blocks new readers."""

from __future__ import annotations

import asyncio

from lagrace.sim.toc_lock import FairRwLock, LockStatistics


async def test_readers_share_and_a_writer_waits_for_them() -> None:
    """Two readers hold together; a writer queues until both released."""
    lock = FairRwLock()
    order: list[str] = []
    release = asyncio.Event()

    async def reader(name: str) -> None:
        async with lock.read():
            order.append(name)
            await release.wait()

    async def writer() -> None:
        async with lock.write():
            order.append("w")

    async with asyncio.TaskGroup() as group:
        group.create_task(reader("r1"))
        group.create_task(reader("r2"))
        await asyncio.sleep(0)
        group.create_task(writer())
        await asyncio.sleep(0)
        assert lock.statistics() == LockStatistics(2, False, 0, 1)
        release.set()
    assert order == ["r1", "r2", "w"]


async def test_a_queued_writer_blocks_a_new_reader_the_cycle() -> None:
    """A reader arriving after a queued writer waits, even while an old reader holds the lock."""
    lock = FairRwLock()
    async with lock.read():
        writer = asyncio.create_task(_write(lock))
        await asyncio.sleep(0)
        late = asyncio.create_task(_read(lock))
        await asyncio.sleep(0.01)
        assert not late.done(), "the late reader waits behind the writer"
        assert lock.statistics() == LockStatistics(1, False, 1, 1)
    await asyncio.wait_for(asyncio.gather(writer, late), 1)
    assert lock.statistics() == LockStatistics(0, False, 0, 0)


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    """A writer cancelled in the queue lets the readers behind it in."""
    lock = FairRwLock()
    async with lock.read():
        writer = asyncio.create_task(_write(lock))
        await asyncio.sleep(0)
        late = asyncio.create_task(_read(lock))
        await asyncio.sleep(0)
        writer.cancel()
        await asyncio.wait_for(late, 1)
    assert lock.statistics() == LockStatistics(0, False, 0, 0)


async def _write(lock: FairRwLock) -> None:
    async with lock.write():
        await asyncio.sleep(0)


async def _read(lock: FairRwLock) -> None:
    async with lock.read():
        await asyncio.sleep(0)


async def test_a_waiter_cancelled_before_a_release_is_skipped() -> None:
    """A reader cancelled in the queue right before the writer's release is not granted."""
    lock = FairRwLock()
    async with lock.write():
        doomed = asyncio.create_task(_read(lock))
        kept = asyncio.create_task(_read(lock))
        await asyncio.sleep(0)
        doomed.cancel()
    await asyncio.wait_for(kept, 1)
    await asyncio.gather(doomed, return_exceptions=True)
    assert lock.statistics() == LockStatistics(0, False, 0, 0)
