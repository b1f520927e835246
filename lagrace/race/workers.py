"""The race's workers: slow-down proposers, the collection burst, and the upsert hammer.

Each worker is a coroutine that the runner starts in its TaskGroup, sharing one
:class:`~lagrace.race.context.RunContext`. Every call goes through a
:class:`~lagrace.api.protocol.NodeApi`, which records it in the history; workers only decide
what to send and when (the times come from :mod:`lagrace.plan`); every wait is on the run's
clock, so the workers run in virtual time under a :class:`~lagrace.clock.ManualClock`.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any, Final

from lagrace.api.calls import PointsJson
from lagrace.clock import sleep
from lagrace.plan import (
    CreateStep,
    SlowDownStep,
    hammer_node,
    hammer_wait,
    make_points,
    worker_first_id,
)
from lagrace.race.context import RunContext
from lagrace.timebase import NS_PER_S


def collection_body(shards: int, replication_factor: int, vector_size: int) -> dict[str, Any]:
    """The ``PUT /collections/{n}`` body lagrace uses."""
    return {
        "vectors": {"size": vector_size, "distance": "Cosine"},
        "shard_number": shards,
        "replication_factor": replication_factor,
    }


async def propose_slow_down(ctx: RunContext, step: SlowDownStep, worker: str) -> None:
    """Send one ``test_slow_down`` at its planned time."""
    at = ctx.origin_ns + step.at_ns
    await ctx.clock.sleep_until(at)
    await ctx.apis[step.via].test_slow_down(
        ctx.plan.existing,
        peer_id=step.target_peer,
        duration_s=step.duration_s,
        timeout_s=ctx.scenario.lag.timeout_s,
        worker=worker,
        intended_ns=at,
    )


async def create_in_burst(
    ctx: RunContext, step: CreateStep, gate: asyncio.Semaphore, worker: str
) -> None:
    """Create one collection at its planned time, at most ``burst.concurrency`` in flight."""
    burst = ctx.scenario.burst
    body = collection_body(
        burst.shards, burst.replication_factor, ctx.scenario.existing.vector_size
    )
    at = ctx.origin_ns + step.at_ns
    await ctx.clock.sleep_until(at)
    async with gate:
        await ctx.apis[step.via].create_collection(
            step.name, body, timeout_s=burst.timeout_s, worker=worker, intended_ns=at
        )


MAX_IN_FLIGHT_PER_WORKER = 64  # open loop: beyond this, sends wait (and record the delay)
VECTOR_POOL: Final = 64  # seeded vectors a hammer worker serialises once and cycles through


class Batches:
    """A hammer worker's upsert bodies, serialised without the JSON encoder on the hot path.

    The worker's seeded vectors are drawn once (the first :data:`VECTOR_POOL`, exactly those
    :func:`~lagrace.plan.make_points` gives for the same seed) and serialised once into one
    body template per position in the pool; each batch fills the next consecutive ids into the
    next template, cycling through the vectors. What the server receives is the JSON of the
    same point shape as before: ``{"id", "vector", "payload"}``.
    """

    __slots__ = ("_batch", "_next_id", "_pos", "_templates")

    def __init__(self, rng: random.Random, first_id: int, batch: int, vector_size: int) -> None:
        vectors = [
            json.dumps(p["vector"], separators=(",", ":")).encode().replace(b"%", b"%%")
            for p in make_points(rng, 0, VECTOR_POOL, vector_size)
        ]
        self._templates: list[bytes] = []
        for pos in range(0, VECTOR_POOL * batch, batch):
            if pos and pos % VECTOR_POOL == 0:
                break  # back at the first vector: the templates repeat from here
            points = (
                b'{"id":%%d,"vector":%s,"payload":{"lagrace":true}}'
                % vectors[(pos + i) % VECTOR_POOL]
                for i in range(batch)
            )
            self._templates.append(b'{"points":[' + b",".join(points) + b"]}")
        self._next_id = first_id
        self._batch = batch
        self._pos = 0

    def next(self) -> PointsJson:
        """The next batch's body."""
        first = self._next_id
        body = self._templates[self._pos] % tuple(range(first, first + self._batch))
        self._next_id += self._batch
        self._pos = (self._pos + 1) % len(self._templates)
        return PointsJson(body, self._batch)


async def _upsert(
    ctx: RunContext, worker: int, seq: int, points: PointsJson, intended: int | None
) -> bool:
    """One upsert of the hammer; counts it in the live stats."""
    h = ctx.scenario.hammer
    api = ctx.apis[hammer_node(ctx.scenario, ctx.nodes, ctx.plan.target, worker, seq).node]
    ctx.stats.sent += 1
    reply = await api.upsert_points(
        ctx.plan.existing,
        points,
        wait=hammer_wait(ctx.scenario, worker),
        ordering=h.ordering,
        timeout_s=h.timeout_s,
        worker=f"hammer-{worker}",
        intended_ns=intended,
    )
    if reply.ok:
        ctx.stats.ok += 1
    else:
        ctx.stats.failed += 1
    return reply.ok


async def hammer(ctx: RunContext, worker: int) -> None:
    """Upsert batches into the existing collection until ``stop``.

    Closed loop: the next upsert goes when the previous one answered. Open loop: upserts go at
    their scheduled times whether or not earlier ones answered (a slow answer — Qdrant may hold
    a ``wait=true`` write up to 30 s, notes §4.6 A — does not slow the offered load), with at most
    ``MAX_IN_FLIGHT_PER_WORKER`` in flight; each records its intended send time.
    """
    scenario, clock = ctx.scenario, ctx.clock
    h = scenario.hammer
    rng = random.Random(f"{scenario.run.seed}-{worker}")
    batches = Batches(rng, worker_first_id(worker), h.batch, scenario.existing.vector_size)
    seq = 0
    if h.mode == "closed":
        while not ctx.stop.is_set():
            if not await _upsert(ctx, worker, seq, batches.next(), None):
                await sleep(clock, 0.01)  # do not spin on a refusing node
            seq += 1
        return
    period_ns = int(NS_PER_S * max(1, h.workers) / h.rate)
    start = clock.now_ns()
    gate = asyncio.Semaphore(MAX_IN_FLIGHT_PER_WORKER)

    async def one(seq: int, points: PointsJson, intended: int) -> None:
        try:
            await _upsert(ctx, worker, seq, points, intended)
        finally:
            gate.release()

    async with asyncio.TaskGroup() as tg:
        while not ctx.stop.is_set():
            intended = start + seq * period_ns
            await clock.sleep_until(intended)
            await gate.acquire()
            if ctx.stop.is_set():
                gate.release()
                break
            tg.create_task(one(seq, batches.next(), intended))
            seq += 1
