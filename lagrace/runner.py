"""The race runner: setup, lag, burst, hammer, watch, settle, cleanup — on one loop, one clock.

``run_race`` interprets a :class:`~lagrace.plan.Plan` against a cluster reached through
:class:`~lagrace.api.protocol.NodeApi` clients, with every call, snapshot and log line recorded
in the run's history. It never decides the verdict: that is :mod:`lagrace.analysis`'s job on
the finished history. It is the hub of the race and therefore a little longer than most
modules: each phase is a short coroutine below.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import structlog

from lagrace.api.protocol import NodeApi
from lagrace.clock import NS_PER_S, Clock, sleep_until
from lagrace.errors import ClusterError, sole_error
from lagrace.history import Recorder, run_flusher
from lagrace.plan import DeleteStep, NodeRef, Plan, make_points
from lagrace.scenario import Scenario
from lagrace.settle import EchoWatch, EndReason, SettleBounds, settle_step
from lagrace.snapshots import Convergence
from lagrace.tailer import LogTail, tail_log
from lagrace.watchers import WatchState, watch_node
from lagrace.workers import (
    RaceContext,
    collection_body,
    create_in_burst,
    hammer,
    propose_slow_down,
)

log = structlog.get_logger("lagrace.runner")

SETUP_TIMEOUT_S: Final = 60.0
PRELOAD_BATCH: Final = 64
CLEANUP_TIMEOUT_S: Final = 30.0
INTERRUPT_CLEANUP_S: Final = 1.5
ERROR_CLEANUP_S: Final = 10.0
STRAGGLER_GRACE_S: Final = 5.0  # creates and slow-downs still in flight at the end
# Upserts still in flight when the race ends are waited for before cleanup deletes anything:
# a delete under in-flight writes panics every v1.18.3 peer and left v1.16.2 peers disagreeing
# about which collections exist (docs/real-cluster.md). A write stuck in a frozen peer answers
# once Qdrant's internal timeouts fire (~21 s with grpc_timeout_ms 5000); past this bound the
# rest is cancelled (outcome info) and a ``writes_abandoned`` mark says how many.
HAMMER_DRAIN_S: Final = 30.0
# With writes abandoned, cleanup first waits this long for every peer to answer again (a freeze
# lasts three attempts of grpc_timeout_ms + 2 s: ~3 min with Qdrant's default 60 s).
THAW_WAIT_S: Final = 200.0
THAW_POLL_S: Final = 1.0
SETTLE_CHECK_S: Final = 0.25


@dataclass(slots=True)
class RaceResult:
    """How the race phase ended (the verdict comes later, from the history)."""

    reason: str = "time_limit"  # converged | time_limit | interrupted | error
    detail: str | None = None
    converged: bool = False
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    abandoned_writes: int = 0  # hammer workers whose writes were still in flight at the end


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a run in progress, for the live display."""

    phase: str
    elapsed_s: float
    remaining_s: float
    sent: int
    ok: int
    failed: int
    detail: str


ProgressSink = Callable[[Progress], None]


@dataclass(slots=True)
class RunHandles:
    """Everything ``run_race`` needs that the caller set up."""

    scenario: Scenario
    plan: Plan
    nodes: tuple[NodeRef, ...]
    apis: Mapping[int, NodeApi]
    recorder: Recorder
    logs: Mapping[int, LogTail]
    raw_log_path: Callable[[int], Path]
    on_progress: ProgressSink | None = None
    phase: str = "setup"


async def _phase(h: RunHandles, name: str) -> None:
    h.phase = name
    h.recorder.mark("phase", {"phase": name})
    log.info("phase", phase=name)


async def setup_existing(h: RunHandles, state: WatchState, leader_node: int) -> None:
    """Create the existing collection, wait until every peer sees it all Active, preload it."""
    s, name = h.scenario, h.plan.existing
    body = collection_body(s.existing.shards, s.existing.replication_factor, s.existing.vector_size)
    reply = await h.apis[leader_node].create_collection(name, body, worker="setup")
    if not reply.ok:
        raise ClusterError(f"could not create {name}: {reply.error or reply.status}")

    def all_active() -> bool:
        return state.convergence((name,)).converged

    if not await state.wait_until(all_active, SETUP_TIMEOUT_S):
        why = state.convergence((name,)).why_not
        raise ClusterError(f"{name} did not become Active on every peer in time: {why}")
    await _phase(h, "preload")
    rng = random.Random(f"{s.run.seed}-preload")
    for start in range(0, s.existing.preload, PRELOAD_BATCH):
        count = min(PRELOAD_BATCH, s.existing.preload - start)
        node = h.nodes[(start // PRELOAD_BATCH) % len(h.nodes)].node
        points = make_points(rng, start, count, s.existing.vector_size)
        done = await h.apis[node].upsert_points(name, points, wait=True, worker="setup")
        if not done.ok:
            raise ClusterError(f"could not preload {name} through node {node}: {done.error}")


async def delete_in_race(ctx: RaceContext, steps: tuple[DeleteStep, ...], worker: str) -> None:
    """The ``[delete]`` steps: from the first's planned time, one delete after another.

    (Beside the runner rather than in :mod:`lagrace.workers`: one short coroutine, scheduled
    with the others in :func:`race`.)
    """
    if not steps:
        return
    await sleep_until(ctx.clock, ctx.origin_ns + steps[0].at_ns)
    for step in steps:
        await ctx.apis[step.via].delete_collection(
            step.name, timeout_s=ctx.scenario.delete.timeout_s, worker=worker
        )


async def race(h: RunHandles, ctx: RaceContext, state: WatchState, result: RaceResult) -> None:
    """Lag, burst and hammer concurrently; stop once settled after the lag or at the limit."""
    s, plan, clock = h.scenario, h.plan, ctx.clock
    ctx.origin_ns = clock.now_ns()
    deadline = ctx.origin_ns + int(s.run.time_limit_s * NS_PER_S)
    settle_deadline = min(
        deadline, ctx.origin_ns + plan.lag_end_ns + int(s.run.settle_s * NS_PER_S)
    )
    gate = asyncio.Semaphore(s.burst.concurrency)
    async with asyncio.TaskGroup() as tg:
        hammers = [tg.create_task(hammer(ctx, w)) for w in range(s.hammer.workers)]
        scheduled = [
            tg.create_task(propose_slow_down(ctx, step, f"lag-{i}"))
            for i, step in enumerate(plan.slow_downs)
        ]
        scheduled += [
            tg.create_task(create_in_burst(ctx, step, gate, f"burst-{k}"))
            for k, step in enumerate(plan.creates)
        ]
        scheduled.append(tg.create_task(delete_in_race(ctx, plan.deletes, "delete-0")))
        for step in plan.creates:
            result.created.append(step.name)
        names = plan.settled_names
        bounds = SettleBounds(
            deadline_ns=deadline,
            settle_deadline_ns=settle_deadline,
            lag_over_ns=ctx.origin_ns + plan.lag_end_ns,
            hold_ns=int(s.run.settle_hold_s * NS_PER_S),
            quiet_ns=int(s.run.settle_quiet_s * NS_PER_S),
        )
        held_since: int | None = None  # converged continuously since then
        echoes = EchoWatch()
        while True:
            # Late echoes (re-notified Dead proposals with a backoff of up to 10 s, notes §4.6 C)
            # can still disturb a cluster that looked settled: it must stay converged for the
            # hold time, with the logs quiet (lagrace/settle.py).
            verdict: Convergence = state.convergence(names)
            echoes.update(h.recorder.events)
            ending, held_since = settle_step(
                clock.now_ns(),
                bounds,
                scheduled_done=all(t.done() for t in scheduled),
                converged=verdict.converged,
                why_not=verdict.why_not or "",
                held_since_ns=held_since,
                last_error_ns=echoes.last_ns,
            )
            if ending is not None:
                result.reason, result.detail = ending.reason.value, ending.detail
                if ending.reason is EndReason.CONVERGED:
                    result.converged = True
                    h.recorder.mark(
                        "converged",
                        {
                            "since_ns": ending.converged_since_ns,
                            "last_user_error_ns": echoes.last_ns,
                        },
                    )
                break
            _report_progress(h, ctx, deadline)
            await asyncio.sleep(SETTLE_CHECK_S)
        ctx.stop.set()
        await _drain(scheduled, STRAGGLER_GRACE_S)
        abandoned = await _drain(hammers, HAMMER_DRAIN_S)
        if abandoned:
            h.recorder.mark("writes_abandoned", {"workers": abandoned, "after_s": HAMMER_DRAIN_S})
        result.abandoned_writes = abandoned


async def _drain(tasks: list[asyncio.Task[None]], grace_s: float) -> int:
    """Give tasks ``grace_s`` to finish, then cancel what is left (their calls record info);
    returns how many had to be cancelled."""
    pending = [t for t in tasks if not t.done()]
    if not pending:
        return 0
    _, still = await asyncio.wait(pending, timeout=grace_s)
    for task in still:
        task.cancel()
    return len(still)


def _report_progress(h: RunHandles, ctx: RaceContext, deadline: int) -> None:
    if h.on_progress is None:
        return
    now = ctx.clock.now_ns()
    h.on_progress(
        Progress(
            phase=h.phase,
            elapsed_s=(now - ctx.origin_ns) / NS_PER_S,
            remaining_s=max(0.0, (deadline - now) / NS_PER_S),
            sent=ctx.stats.sent,
            ok=ctx.stats.ok,
            failed=ctx.stats.failed,
            detail=f"{len(h.recorder.events)} events",
        )
    )


async def wait_thawed(h: RunHandles, budget_s: float, poll_s: float | None = None) -> bool:
    """Whether every peer answers a call that needs its table of contents (``GET
    /collections/{existing}/cluster``) within ``budget_s``: a peer frozen by the lock pile-up
    does not, and a delete applied there now would queue behind the writes that froze it."""
    poll_s = THAW_POLL_S if poll_s is None else poll_s
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    while True:
        async with asyncio.TaskGroup() as tg:
            probes = [
                tg.create_task(api.collection_cluster(h.plan.existing, worker="cleanup"))
                for api in h.apis.values()
            ]
        if all(p.result().status == 200 for p in probes):
            return True
        if loop.time() + poll_s > deadline:
            return False
        await asyncio.sleep(poll_s)


async def cleanup(
    h: RunHandles,
    names: list[str],
    leader_node: int,
    budget_s: float,
    *,
    writes_abandoned: bool = False,
) -> list[str]:
    """Delete what this run created (never anything else), within ``budget_s``.

    When writes had to be abandoned (still in flight on the server), first wait up to
    :data:`THAW_WAIT_S` for every peer to answer again; if one stays frozen nothing is deleted
    (deleting then is what freezes or panics peers) and a ``cleanup_deferred`` mark names the
    collections left behind."""
    deleted: list[str] = []
    if h.scenario.run.keep:
        return deleted
    if writes_abandoned and not await wait_thawed(h, THAW_WAIT_S):
        h.recorder.mark("cleanup_deferred", {"left": names, "waited_s": THAW_WAIT_S})
        return deleted
    try:
        async with asyncio.timeout(budget_s):
            for name in names:
                reply = await h.apis[leader_node].delete_collection(
                    name, timeout_s=max(1, int(budget_s)), worker="cleanup"
                )
                if reply.ok:
                    deleted.append(name)
    except TimeoutError:
        h.recorder.mark("cleanup_incomplete", {"deleted": deleted, "wanted": names})
    return deleted


async def run_race(h: RunHandles, clock: Clock, leader_node: int) -> RaceResult:
    """The whole run against a prepared cluster: returns how it ended (interrupts included)."""
    result = RaceResult()
    state = WatchState(nodes=len(h.nodes))
    ctx = RaceContext(clock=clock, scenario=h.scenario, plan=h.plan, nodes=h.nodes, apis=h.apis)
    created_sent: set[str] = set()

    def watched() -> tuple[str, ...]:
        return (h.plan.existing, *sorted(created_sent))

    stop_watch = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as tg:
            flusher = tg.create_task(run_flusher(h.recorder))
            for node, tail in h.logs.items():
                tg.create_task(tail_log(tail, h.recorder, h.raw_log_path(node), stop_watch))
            for api in h.apis.values():
                tg.create_task(
                    watch_node(
                        api,
                        h.recorder,
                        state,
                        collections=watched,
                        interval_s=h.scenario.watch.interval_s,
                        stop=stop_watch,
                    )
                )
            try:
                await _phase(h, "setup")
                result.created.append(h.plan.existing)
                await setup_existing(h, state, leader_node)
                await _phase(h, "race")
                created_sent.update(step.name for step in h.plan.creates)
                await race(h, ctx, state, result)
                await _phase(h, "cleanup")
                result.deleted = await cleanup(
                    h,
                    result.created,
                    leader_node,
                    CLEANUP_TIMEOUT_S,
                    writes_abandoned=result.abandoned_writes > 0,
                )
                await _phase(h, "done")
            finally:
                stop_watch.set()
                ctx.stop.set()
                flusher.cancel()
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        result.reason, result.detail = "interrupted", "interrupted by a signal"
        h.recorder.mark("interrupted", {})
        with contextlib.suppress(TimeoutError):  # the bounded attempt is all we promise
            async with asyncio.timeout(INTERRUPT_CLEANUP_S):
                result.deleted = await cleanup(h, result.created, leader_node, INTERRUPT_CLEANUP_S)
    except BaseExceptionGroup as group:
        # A TaskGroup re-raises its body's exception inside a group: unwrap a ClusterError
        # (setup could not get the cluster ready); anything else is a bug and propagates.
        error = sole_error(group, ClusterError)
        if error is None:
            raise
        result.reason, result.detail = "error", str(error)
        result.deleted = await cleanup(h, result.created, leader_node, ERROR_CLEANUP_S)
    h.recorder.mark("run_end", {"reason": result.reason, "detail": result.detail})
    h.recorder.flush()
    return result


def run_config(
    *, scenario_json: dict[str, Any], nodes: tuple[NodeRef, ...], plan: Plan
) -> dict[str, Any]:
    """The ``run_start`` mark's data (also recorded in config.json)."""
    out: dict[str, Any] = {
        "run_id": plan.run_id,
        "scenario": scenario_json["run"]["name"],
        "target_node": plan.target.node,
        "target_peer": plan.target.peer_id,
        "existing_collection": plan.existing,
        "new_collections": [c.name for c in plan.creates],
        "slow_downs_planned": len(plan.slow_downs),
        "nodes": [{"node": n.node, "url": n.url, "peer_id": n.peer_id} for n in nodes],
    }
    if plan.deletes:  # only runs with a [delete] step say so (older marks stay as they were)
        out["deletes_planned"] = [d.name for d in plan.deletes]
    return out
