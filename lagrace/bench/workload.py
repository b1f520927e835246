"""The bench's coroutines: progress pollers, the entry workload, readiness polls, loop ticker.

Each runs in the bench's ``TaskGroup`` on the one loop; every call goes through an
:class:`~lagrace.api.client.HttpNodeClient`, which records it in the history, and what the
bench notes besides (changed ``/cluster`` readings, each entry's index bounds, readiness
windows) is recorded through the same :class:`~lagrace.recorder.Recorder`. Pollers of a remote
cluster are the one place that sleeps in a loop (``docs/architecture.md``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from lagrace.api.client import HttpNodeClient
from lagrace.bench.config import MIX_CREATE_EVERY, BenchConfig, noop_duration_s
from lagrace.bench.histogram import LatencyHistogram
from lagrace.bench.measure import MARK_ENTRY, MARK_READY
from lagrace.bench.progress import OBS_PROGRESS, Window, progress_data
from lagrace.clock import Clock
from lagrace.recorder import Recorder
from lagrace.timebase import NS_PER_S

LOOP_TICK_S: Final = 0.005  # the ticker that measures the driver's own loop lag


@dataclass(slots=True)
class ProgressState:
    """The latest reading of every node, and the poll send times (for the achieved interval)."""

    commit: dict[int, int] = field(default_factory=dict)
    applied: dict[int, int] = field(default_factory=dict)
    sends: dict[int, list[int]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def max_commit(self) -> int:
        """The highest commit any node has shown."""
        return max(self.commit.values(), default=0)

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait, re-checking after every reading, until ``predicate`` holds or time runs out."""
        try:
            async with asyncio.timeout(timeout_s):
                while not predicate():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            return False
        return True


async def poll_progress(
    api: HttpNodeClient,
    recorder: Recorder,
    state: ProgressState,
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Read ``GET /cluster`` of one node every ``interval_s``; record each change with the
    send time of the previous answered poll (``since_ns``: the window's lower bound)."""
    clock = recorder.clock
    node, interval = api.node, int(interval_s * NS_PER_S)
    previous_sent: int | None = None
    previous: tuple[int, int] | None = None
    sends = state.sends.setdefault(node, [])
    while not stop.is_set():
        sent = clock.now_ns()
        sends.append(sent)
        reply = await api.cluster(worker=f"bench-poll-{node}")
        if reply.ok and reply.value is not None:
            values = (reply.value.commit, reply.value.pending_operations)
            if values != previous:
                recorder.observe(
                    OBS_PROGRESS,
                    node=node,
                    peer_id=api.peer_id,
                    data=progress_data(values[0], values[1], previous_sent),
                )
                previous = values
            previous_sent = sent
            state.commit[node] = values[0]
            state.applied[node] = max(0, values[0] - values[1])
            state.changed.set()
        await clock.sleep_until(sent + interval)


async def tick_loop(clock: Clock, hist: LatencyHistogram, measuring: asyncio.Event) -> None:
    """Sleep ``LOOP_TICK_S`` again and again; record how late each wake-up was (while
    ``measuring`` is set). Runs until cancelled."""
    step = int(LOOP_TICK_S * NS_PER_S)
    due = clock.now_ns() + step
    while True:
        await clock.sleep_until(due)
        now = clock.now_ns()
        if measuring.is_set():
            hist.record_ns(now - due)
        due = now + step


def entry_kind(cfg: BenchConfig, seq: int) -> str:
    """What the ``seq``-th entry of the workload is: ``noop`` or ``pair`` (create + delete)."""
    if cfg.workload == "noop":
        return "noop"
    if cfg.workload == "create":
        return "pair"
    return "pair" if seq % MIX_CREATE_EVERY == MIX_CREATE_EVERY - 1 else "noop"


@dataclass(slots=True)
class Bench:
    """What the entry coroutines share."""

    cfg: BenchConfig
    recorder: Recorder
    apis: Mapping[int, HttpNodeClient]
    state: ProgressState
    collection: str  # the bench's own collection (no-ops are addressed to it)
    target_peer: int
    run_id: str
    created: set[str] = field(default_factory=set)

    @property
    def via(self) -> HttpNodeClient:
        """The proposer."""
        return self.apis[self.cfg.via]

    async def note_index(self, op_id: int, floor: int) -> None:
        """Read the proposer's applied index right after an answer; note the entry's bounds."""
        reply = await self.via.cluster(worker="bench-index")
        after = None
        if reply.ok and reply.value is not None:
            after = max(0, reply.value.commit - reply.value.pending_operations)
        self.recorder.mark(MARK_ENTRY, {"op_id": op_id, "floor": floor, "applied_after": after})

    async def noop(self, slot: int, intended: int | None) -> None:
        """One no-op: ``test_slow_down`` of (almost) 0 s aimed at the target, via the proposer."""
        floor = self.state.max_commit
        reply = await self.via.test_slow_down(
            self.collection,
            peer_id=self.target_peer,
            duration_s=noop_duration_s(slot),
            timeout_s=self.cfg.entry_timeout_s,
            worker=f"bench-{slot}",
            intended_ns=intended,
        )
        if reply.ok:
            await self.note_index(reply.op_id, floor)

    async def _ready(self, api: HttpNodeClient, name: str, gone: bool) -> Window | None:
        """Poll one node until ``name`` is there with every local replica Active (or gone)."""
        clock = self.recorder.clock
        interval = int(self.cfg.poll_s * NS_PER_S)
        last_sent: int | None = None
        deadline = clock.now_ns() + self.cfg.entry_timeout_s * NS_PER_S
        while clock.now_ns() < deadline:
            sent = clock.now_ns()
            reply = await api.collection_cluster(name, worker=f"bench-ready-{api.node}")
            if gone:
                done = reply.status == 404
            else:
                local = [] if reply.value is None else [r for r in reply.value.replicas if r.local]
                done = reply.ok and all(r.state == "Active" for r in local)
            if done:
                return None if last_sent is None else Window(last_sent, clock.now_ns())
            if reply.status is not None:
                last_sent = sent
            await clock.sleep_until(sent + interval)
        return None

    async def pair(self, slot: int, seq: int, intended: int | None) -> None:
        """A create then a delete of a fresh collection; readiness polled on every peer."""
        name = f"bench_c_{self.run_id}_{seq}"
        body = {
            "vectors": {"size": 4, "distance": "Cosine"},
            "shard_number": self.cfg.create_shards,
            "replication_factor": len(self.apis),
        }
        for gone in (False, True):
            floor = self.state.max_commit
            async with asyncio.TaskGroup() as tg:
                waits = {
                    n: tg.create_task(self._ready(api, name, gone)) for n, api in self.apis.items()
                }
                if gone:
                    reply = await self.via.delete_collection(
                        name, timeout_s=self.cfg.entry_timeout_s, worker=f"bench-{slot}"
                    )
                else:
                    self.created.add(name)
                    reply = await self.via.create_collection(
                        name,
                        body,
                        timeout_s=self.cfg.entry_timeout_s,
                        worker=f"bench-{slot}",
                        intended_ns=intended,
                    )
                if not reply.ok:
                    for task in waits.values():
                        task.cancel()
            if not reply.ok:
                return
            if gone:
                self.created.discard(name)
            await self.note_index(reply.op_id, floor)
            for node, task in waits.items():
                window = task.result()
                if window is not None:
                    self.recorder.mark(
                        MARK_READY,
                        {
                            "op_id": reply.op_id,
                            "node": node,
                            "lo_ns": window.lo_ns,
                            "hi_ns": window.hi_ns,
                        },
                    )
            intended = None
