"""The race runner: setup, lag, burst, hammer, watch, settle, cleanup — on one loop, one clock.

``run_race`` interprets a :class:`~lagrace.plan.Plan` against a cluster reached through
:class:`~lagrace.api.protocol.NodeApi` clients, with every call, snapshot and log line recorded
in the run's history, and returns how the race ended (:class:`RaceResult`, with an
:class:`~lagrace.race.settle.Ending`). It never decides the verdict: that is
:mod:`lagrace.analysis`'s job on the finished history. Every wait is on the run's clock, so the
whole run can be driven in virtual time by a :class:`~lagrace.clock.ManualClock` in autojump
mode (tests/race/test_runner.py). It is the hub of the race and therefore a little longer than
most modules: each phase is a short coroutine below.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import structlog

from lagrace.analysis.convergence import Convergence
from lagrace.clock import sleep, timeout, wait_tasks
from lagrace.errors import ClusterError, sole_error
from lagrace.loop import uncancel_current
from lagrace.plan import DeleteStep, NodeRef, Plan, make_points
from lagrace.race.context import Progress, RunContext
from lagrace.race.settle import EchoWatch, Ending, EndReason, SettleBounds, settle_step
from lagrace.race.tailer import tail_log
from lagrace.race.watchers import WatchState, watch_node
from lagrace.race.workers import collection_body, create_in_burst, hammer, propose_slow_down
from lagrace.recorder import run_flusher
from lagrace.timebase import NS_PER_S

log = structlog.get_logger("lagrace.race.runner")

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


@dataclass(frozen=True, slots=True)
class RaceResult:
    """How the race phase ended (the verdict comes later, from the history)."""

    ending: Ending
    created: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    abandoned_writes: int = 0  # hammer workers whose writes were still in flight at the end

    @property
    def reason(self) -> EndReason:
        """Why the race ended."""
        return self.ending.reason

    @property
    def detail(self) -> str | None:
        """Why, in words."""
        return self.ending.detail

    @property
    def converged(self) -> bool:
        """Whether it ended because the cluster settled."""
        return self.ending.reason is EndReason.CONVERGED


@dataclass(frozen=True, slots=True)
class RaceEnd:
    """What :func:`race` returns: how it ended and how many hammer workers were abandoned."""

    ending: Ending
    abandoned_writes: int


async def _phase(ctx: RunContext, name: str) -> None:
    ctx.phase = name
    ctx.recorder.mark("phase", {"phase": name})
    log.info("phase", phase=name)


async def setup_existing(ctx: RunContext, state: WatchState, leader_node: int) -> None:
    """Create the existing collection, wait until every peer sees it all Active, preload it."""
    s, name = ctx.scenario, ctx.plan.existing
    body = collection_body(s.existing.shards, s.existing.replication_factor, s.existing.vector_size)
    reply = await ctx.apis[leader_node].create_collection(name, body, worker="setup")
    if not reply.ok:
        raise ClusterError(f"could not create {name}: {reply.error or reply.status}")

    def all_active() -> bool:
        return state.convergence((name,)).converged

    if not await state.wait_until(all_active, SETUP_TIMEOUT_S):
        why = state.convergence((name,)).why_not
        raise ClusterError(f"{name} did not become Active on every peer in time: {why}")
    await _phase(ctx, "preload")
    rng = random.Random(f"{s.run.seed}-preload")
    for start in range(0, s.existing.preload, PRELOAD_BATCH):
        count = min(PRELOAD_BATCH, s.existing.preload - start)
        node = ctx.nodes[(start // PRELOAD_BATCH) % len(ctx.nodes)].node
        points = make_points(rng, start, count, s.existing.vector_size)
        done = await ctx.apis[node].upsert_points(name, points, wait=True, worker="setup")
        if not done.ok:
            raise ClusterError(f"could not preload {name} through node {node}: {done.error}")


async def delete_in_race(ctx: RunContext, steps: tuple[DeleteStep, ...], worker: str) -> None:
    """The ``[delete]`` steps: from the first's planned time, one delete after another.

    (Beside the runner rather than in :mod:`lagrace.race.workers`: one short coroutine,
    scheduled with the others in :func:`race`.)
    """
    if not steps:
        return
    await ctx.clock.sleep_until(ctx.origin_ns + steps[0].at_ns)
    for step in steps:
        await ctx.apis[step.via].delete_collection(
            step.name, timeout_s=ctx.scenario.delete.timeout_s, worker=worker
        )


def settle_bounds(ctx: RunContext) -> SettleBounds:
    """The instants the settle decision uses, from the race's origin and the scenario."""
    s, plan = ctx.scenario, ctx.plan
    deadline = ctx.origin_ns + int(s.run.time_limit_s * NS_PER_S)
    return SettleBounds(
        deadline_ns=deadline,
        settle_deadline_ns=min(
            deadline, ctx.origin_ns + plan.lag_end_ns + int(s.run.settle_s * NS_PER_S)
        ),
        lag_over_ns=ctx.origin_ns + plan.lag_end_ns,
        hold_ns=int(s.run.settle_hold_s * NS_PER_S),
        quiet_ns=int(s.run.settle_quiet_s * NS_PER_S),
    )


async def race(ctx: RunContext, state: WatchState) -> RaceEnd:
    """Lag, burst and hammer concurrently; stop once settled after the lag or at the limit."""
    s, plan, clock = ctx.scenario, ctx.plan, ctx.clock
    ctx.origin_ns = clock.now_ns()
    bounds = settle_bounds(ctx)
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
        ending = await _settle(ctx, state, bounds, scheduled)
        ctx.stop.set()
        await _drain(ctx, scheduled, STRAGGLER_GRACE_S)
        abandoned = await _drain(ctx, hammers, HAMMER_DRAIN_S)
        if abandoned:
            ctx.recorder.mark("writes_abandoned", {"workers": abandoned, "after_s": HAMMER_DRAIN_S})
    return RaceEnd(ending, abandoned)


async def _settle(
    ctx: RunContext,
    state: WatchState,
    bounds: SettleBounds,
    scheduled: list[asyncio.Task[None]],
) -> Ending:
    """Check every :data:`SETTLE_CHECK_S` until :func:`settle_step` says the race is over."""
    names = ctx.plan.settled_names
    held_since: int | None = None  # converged continuously since then
    echoes = EchoWatch()
    while True:
        # Late echoes (re-notified Dead proposals with a backoff of up to 10 s, notes §4.6 C)
        # can still disturb a cluster that looked settled: it must stay converged for the hold
        # time, with the logs quiet (lagrace/race/settle.py).
        verdict: Convergence = state.convergence(names)
        echoes.update(ctx.recorder.events)
        ending, held_since = settle_step(
            ctx.clock.now_ns(),
            bounds,
            scheduled_done=all(t.done() for t in scheduled),
            converged=verdict.converged,
            why_not=verdict.why_not or "",
            held_since_ns=held_since,
            last_error_ns=echoes.last_ns,
        )
        if ending is not None:
            if ending.reason is EndReason.CONVERGED:
                ctx.recorder.mark(
                    "converged",
                    {"since_ns": ending.converged_since_ns, "last_user_error_ns": echoes.last_ns},
                )
            return ending
        _report_progress(ctx, bounds.deadline_ns)
        await sleep(ctx.clock, SETTLE_CHECK_S)


async def _drain(ctx: RunContext, tasks: list[asyncio.Task[None]], grace_s: float) -> int:
    """Give tasks ``grace_s`` of the run clock to finish, then cancel what is left (their calls
    record info); returns how many had to be cancelled."""
    still = await wait_tasks(ctx.clock, tasks, ctx.clock.now_ns() + int(grace_s * NS_PER_S))
    for task in still:
        task.cancel()
    return len(still)


def _report_progress(ctx: RunContext, deadline: int) -> None:
    if ctx.on_progress is None:
        return
    now = ctx.clock.now_ns()
    ctx.on_progress(
        Progress(
            phase=ctx.phase,
            elapsed_s=(now - ctx.origin_ns) / NS_PER_S,
            remaining_s=max(0.0, (deadline - now) / NS_PER_S),
            sent=ctx.stats.sent,
            ok=ctx.stats.ok,
            failed=ctx.stats.failed,
            detail=f"{len(ctx.recorder.events)} events",
        )
    )


async def wait_thawed(ctx: RunContext, budget_s: float, poll_s: float | None = None) -> bool:
    """Whether every peer answers a call that needs its table of contents (``GET
    /collections/{existing}/cluster``) within ``budget_s``: a peer frozen by the lock pile-up
    does not, and a delete applied there now would queue behind the writes that froze it."""
    poll_s = THAW_POLL_S if poll_s is None else poll_s
    clock = ctx.clock
    deadline = clock.now_ns() + int(budget_s * NS_PER_S)
    while True:
        async with asyncio.TaskGroup() as tg:
            probes = [
                tg.create_task(api.collection_cluster(ctx.plan.existing, worker="cleanup"))
                for api in ctx.apis.values()
            ]
        if all(p.result().status == 200 for p in probes):
            return True
        if clock.now_ns() + int(poll_s * NS_PER_S) > deadline:
            return False
        await sleep(clock, poll_s)


async def cleanup(
    ctx: RunContext,
    names: Sequence[str],
    leader_node: int,
    budget_s: float,
    *,
    writes_abandoned: bool = False,
) -> tuple[str, ...]:
    """Delete what this run created (never anything else), within ``budget_s``; what was
    deleted.

    When writes had to be abandoned (still in flight on the server), first wait up to
    :data:`THAW_WAIT_S` for every peer to answer again; if one stays frozen nothing is deleted
    (deleting then is what freezes or panics peers) and a ``cleanup_deferred`` mark names the
    collections left behind."""
    deleted: list[str] = []
    if ctx.scenario.run.keep:
        return ()
    if writes_abandoned and not await wait_thawed(ctx, THAW_WAIT_S):
        ctx.recorder.mark("cleanup_deferred", {"left": list(names), "waited_s": THAW_WAIT_S})
        return ()
    try:
        async with timeout(ctx.clock, budget_s):
            for name in names:
                reply = await ctx.apis[leader_node].delete_collection(
                    name, timeout_s=max(1, int(budget_s)), worker="cleanup"
                )
                if reply.ok:
                    deleted.append(name)
    except TimeoutError:
        ctx.recorder.mark("cleanup_incomplete", {"deleted": deleted, "wanted": list(names)})
    return tuple(deleted)


async def run_race(ctx: RunContext, leader_node: int) -> RaceResult:
    """The whole run against a prepared cluster: returns how it ended (interrupts included)."""
    state = WatchState(nodes=len(ctx.nodes), clock=ctx.clock)
    plan = ctx.plan
    created: list[str] = []  # what this run may have created: cleanup deletes exactly these
    watching = [plan.existing]  # the new collections too, once the race sends their creates
    ending = Ending(EndReason.TIME_LIMIT, "time limit reached")
    abandoned = 0
    deleted: tuple[str, ...] = ()
    stop_watch = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as tg:
            flusher = tg.create_task(run_flusher(ctx.recorder))
            for node, tail in ctx.logs.items():
                raw = ctx.raw_log_path(node)
                tg.create_task(tail_log(tail, ctx.recorder, raw, stop_watch))
            for api in ctx.apis.values():
                tg.create_task(
                    watch_node(
                        api,
                        ctx.recorder,
                        state,
                        collections=lambda: tuple(watching),
                        interval_s=ctx.scenario.watch.interval_s,
                        stop=stop_watch,
                    )
                )
            try:
                await _phase(ctx, "setup")
                created.append(plan.existing)
                await setup_existing(ctx, state, leader_node)
                await _phase(ctx, "race")
                created.extend(step.name for step in plan.creates)
                watching.extend(sorted(step.name for step in plan.creates))
                end = await race(ctx, state)
                ending, abandoned = end.ending, end.abandoned_writes
                await _phase(ctx, "cleanup")
                deleted = await cleanup(
                    ctx, created, leader_node, CLEANUP_TIMEOUT_S, writes_abandoned=abandoned > 0
                )
                await _phase(ctx, "done")
            finally:
                stop_watch.set()
                ctx.stop.set()
                flusher.cancel()
    except asyncio.CancelledError:
        uncancel_current()
        ending = Ending(EndReason.INTERRUPTED, "interrupted by a signal")
        ctx.recorder.mark("interrupted", {})
        with contextlib.suppress(TimeoutError):  # the bounded attempt is all we promise
            async with timeout(ctx.clock, INTERRUPT_CLEANUP_S):
                deleted = await cleanup(ctx, created, leader_node, INTERRUPT_CLEANUP_S)
    except BaseExceptionGroup as group:
        # A TaskGroup re-raises its body's exception inside a group: unwrap a ClusterError
        # (setup could not get the cluster ready); anything else is a bug and propagates.
        error = sole_error(group, ClusterError)
        if error is None:
            raise
        ending = Ending(EndReason.ERROR, str(error))
        deleted = await cleanup(ctx, created, leader_node, ERROR_CLEANUP_S)
    ctx.recorder.mark("run_end", {"reason": ending.reason.value, "detail": ending.detail})
    ctx.recorder.flush()
    return RaceResult(ending, tuple(created), deleted, abandoned)


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
