"""The runner in virtual time: whole races against FakeNodes on an autojumping ManualClock.

Every wait of the runner, its workers and its watchers is on the run clock, so a race of a
minute runs here in milliseconds, and deterministically: a call is sent exactly when the plan
says, and the race ends exactly when the settle rules say (lagrace/race/settle.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from lagrace.api.calls import Call
from lagrace.api.models import CollectionCluster, ReplicaView, UpdateResult
from lagrace.clock import ManualClock
from lagrace.events import Complete, Invoke, Mark
from lagrace.plan import NodeRef, Plan, make_plan
from lagrace.race import runner
from lagrace.race.context import Progress, RunContext
from lagrace.race.runner import RaceResult, cleanup, run_race, settle_bounds
from lagrace.race.settle import EndReason
from lagrace.recorder import Recorder
from lagrace.scenario import Scenario, with_overrides
from lagrace.testing import Answer, FakeNode, cluster_status, fail, ok, timed_out
from lagrace.timebase import NS_PER_MS, NS_PER_S

NODES = tuple(NodeRef(n, f"http://127.0.0.1:{n}", 100 + n) for n in (1, 2, 3))
LEADER_NODE = 1
ACTIVE = CollectionCluster(101, 3, tuple(ReplicaView(s, 101, "Active", True) for s in range(3)))
DEAD = CollectionCluster(
    101, 1, (ReplicaView(0, 101, "Active", True), ReplicaView(0, 102, "Dead", False))
)
QUICK = {
    "run.seed": 7,
    "run.settle_s": 20.0,
    "run.settle_hold_s": 1.0,
    "run.settle_quiet_s": 2.0,
    "run.time_limit_s": 60.0,
    "existing.preload": 128,
    "lag.duration_s": 5.0,
    "lag.offset_s": 1.0,
    "burst.offset_s": 2.0,
    "hammer.workers": 2,
    "hammer.rate": 10.0,
}


def scenario(**overrides: Any) -> Scenario:
    return with_overrides(
        Scenario(), {**QUICK, **{k.replace("__", "."): v for k, v in overrides.items()}}
    )


def cluster_of(node: FakeNode) -> Callable[[Call], Answer]:
    return lambda call: ok(cluster_status(node.peer_id or 0, leader=101, commit=10))


def fakes(recorder: Recorder, view: CollectionCluster = ACTIVE) -> dict[int, FakeNode]:
    """Three healthy nodes: everything answers at once, every view all Active."""
    out = {n.node: FakeNode(n.node, recorder, peer_id=n.peer_id) for n in NODES}
    for fake in out.values():
        fake.always("cluster", cluster_of(fake))
        fake.always("collection_cluster", ok(view))
        fake.always("create_collection", ok(True))
        fake.always("delete_collection", ok(True))
        fake.always("upsert", ok(UpdateResult(1, "completed")))
        fake.always("test_slow_down", ok(True))
    return out


def context(recorder: Recorder, apis: dict[int, FakeNode], s: Scenario) -> RunContext:
    plan = make_plan(s, NODES, "abc123", leader=101)
    return RunContext(scenario=s, plan=plan, nodes=NODES, apis=apis, recorder=recorder)


def marks(recorder: Recorder, name: str) -> list[Mark]:
    return [e for e in recorder.events if isinstance(e, Mark) and e.name == name]


async def race_in_virtual_time(
    ctx: RunContext, clock: ManualClock, *, interrupt_at_s: float | None = None
) -> RaceResult:
    async with clock.autojump():
        if interrupt_at_s is None:
            return await run_race(ctx, LEADER_NODE)
        task = asyncio.create_task(run_race(ctx, LEADER_NODE))
        await clock.sleep_until(int(interrupt_at_s * NS_PER_S))
        task.cancel()
        return await task


def invokes(recorder: Recorder, op: str) -> list[Invoke]:
    return [e for e in recorder.history().events if isinstance(e, Invoke) and e.op == op]


def plan_origin(recorder: Recorder) -> int:
    (race,) = [m for m in marks(recorder, "phase") if m.data["phase"] == "race"]
    return race.t_ns


async def test_a_healthy_race_settles_exactly_when_the_rules_say() -> None:
    clock = ManualClock()
    recorder = Recorder(clock)
    apis = fakes(recorder)
    s = scenario()
    ctx = context(recorder, apis, s)
    progress: list[Progress] = []
    ctx.on_progress = progress.append
    result = await race_in_virtual_time(ctx, clock)

    assert result.reason is EndReason.CONVERGED
    assert result.converged
    assert result.created == (ctx.plan.existing, *(c.name for c in ctx.plan.creates))
    assert result.deleted == result.created
    assert result.abandoned_writes == 0
    phases = [m.data["phase"] for m in marks(recorder, "phase")]
    assert phases == ["setup", "preload", "race", "cleanup", "done"]

    # The race starts the moment setup is done; the settle check runs every 0.25 s of the run
    # clock, so convergence is first seen at the first check at or after the lag's end (6 s),
    # and held for settle_hold_s (1 s): the race ends 7 s after its origin, to the nanosecond.
    origin = plan_origin(recorder)
    bounds = settle_bounds(ctx)
    assert bounds.lag_over_ns == origin + 6 * NS_PER_S
    (converged,) = marks(recorder, "converged")
    assert converged.data["since_ns"] == origin + 6 * NS_PER_S
    assert converged.t_ns == origin + 7 * NS_PER_S
    assert progress
    assert progress[-1].phase == "race"

    # Each call was sent exactly when the plan says: in virtual time, no lateness at all.
    (slow_down,) = invokes(recorder, "test_slow_down")
    assert slow_down.t_ns == origin + ctx.plan.slow_downs[0].at_ns == origin + NS_PER_S
    assert slow_down.args.target_peer == 102
    (create,) = invokes(recorder, "create_collection")[1:]  # the first is setup's
    assert create.t_ns == origin + ctx.plan.creates[0].at_ns == origin + 3 * NS_PER_S  # 1 s + 2 s
    assert create.args.collection == ctx.plan.creates[0].name
    # The open-loop hammer: 2 workers at 10/s in all, one upsert each every 0.2 s from the
    # origin until the race ends at 7 s (the upsert due then is not sent: the stop comes first);
    # the other upserts are setup's preload.
    upserts = [i for i in invokes(recorder, "upsert") if i.worker.startswith("hammer-")]
    for worker in ("hammer-0", "hammer-1"):
        sent = [i.t_ns - origin for i in upserts if i.worker == worker]
        assert sent == [k * 200 * NS_PER_MS for k in range(35)]
    assert ctx.stats.sent == ctx.stats.ok == 70
    deletes = invokes(recorder, "delete_collection")
    assert [d.args.collection for d in deletes] == list(result.created)
    (end,) = marks(recorder, "run_end")
    assert end.data == {"reason": "converged", "detail": None}


async def test_the_same_race_twice_records_the_same_history() -> None:
    """Virtual time makes a whole run deterministic: same ops, same times, same order."""

    async def once() -> list[tuple[str, int, str]]:
        clock = ManualClock()
        recorder = Recorder(clock)
        await race_in_virtual_time(context(recorder, fakes(recorder), scenario()), clock)
        return [
            (type(e).__name__, e.t_ns, getattr(e, "op", getattr(e, "name", "")))
            for e in recorder.history().events
        ]

    first, second = await once(), await once()
    assert first == second
    assert len(first) > 200


async def test_a_replica_that_stays_dead_ends_unsettled_at_the_settle_deadline() -> None:
    clock = ManualClock()
    recorder = Recorder(clock)
    apis = fakes(recorder)
    ctx = context(recorder, apis, scenario())
    async with clock.autojump():
        task = asyncio.create_task(run_race(ctx, LEADER_NODE))
        while ctx.phase != "race":  # setup saw all Active; then node 3 sees a Dead replica
            await clock.sleep_until(clock.now_ns() + 100 * NS_PER_MS)
        apis[3].always("collection_cluster", ok(DEAD))
        result = await task
    assert result.reason is EndReason.TIME_LIMIT
    assert result.detail == (
        f"not converged after the lag: node 3 last saw {ctx.plan.existing} shard 0 replica 102 Dead"
    )
    (end,) = marks(recorder, "run_end")
    bounds = settle_bounds(ctx)
    assert end.t_ns >= bounds.settle_deadline_ns
    assert bounds.settle_deadline_ns == plan_origin(recorder) + (6 + 20) * NS_PER_S
    assert not marks(recorder, "converged")
    assert result.deleted == result.created  # cleanup still ran


async def test_a_late_user_error_holds_the_race_open_until_the_logs_are_quiet() -> None:
    """A peer logs an apply-time user error (a late re-proposal) after convergence: the race
    ends only settle_quiet_s after it."""
    clock = ManualClock()
    recorder = Recorder(clock)
    ctx = context(recorder, fakes(recorder), scenario())
    async with clock.autojump():
        task = asyncio.create_task(run_race(ctx, LEADER_NODE))
        while ctx.phase != "race":
            await clock.sleep_until(clock.now_ns() + 100 * NS_PER_MS)
        origin = ctx.origin_ns
        await clock.sleep_until(origin + 6_500 * NS_PER_MS)
        recorder.observe(
            "log",
            node=2,
            peer_id=102,
            data={
                "at_ns": clock.now_ns(),
                "level": "WARN",
                "target": "storage::content_manager::consensus_manager",
                "message": "Failed to apply collection meta operation entry with user error: "
                "Bad request: Cannot deactivate the last active replica 101 of shard 0",
            },
        )
        result = await task
    assert result.reason is EndReason.CONVERGED
    (converged,) = marks(recorder, "converged")
    assert converged.t_ns == origin + 8_500 * NS_PER_MS  # 6.5 s + settle_quiet_s (2 s)
    assert converged.data["last_user_error_ns"] == origin + 6_500 * NS_PER_MS


async def test_setup_that_never_sees_all_active_is_an_error_after_the_setup_timeout() -> None:
    clock = ManualClock()
    recorder = Recorder(clock)
    ctx = context(recorder, fakes(recorder, view=DEAD), scenario())
    result = await race_in_virtual_time(ctx, clock)
    assert result.reason is EndReason.ERROR
    assert "did not become Active on every peer in time" in (result.detail or "")
    assert "replica 102 Dead" in (result.detail or "")
    (end,) = marks(recorder, "run_end")
    assert end.t_ns >= runner.SETUP_TIMEOUT_S * NS_PER_S
    assert end.t_ns < (runner.SETUP_TIMEOUT_S + 1) * NS_PER_S
    assert result.created == (ctx.plan.existing,)  # the race never began: nothing else to delete
    assert result.deleted == (ctx.plan.existing,)


async def test_a_refused_create_at_setup_is_an_error_and_nothing_is_raced() -> None:
    clock = ManualClock()
    recorder = Recorder(clock)
    apis = fakes(recorder)
    apis[LEADER_NODE].script("create_collection", fail("Bad request: no"))
    result = await race_in_virtual_time(context(recorder, apis, scenario()), clock)
    assert result.reason is EndReason.ERROR
    assert "could not create" in (result.detail or "")
    assert not invokes(recorder, "test_slow_down")


async def test_writes_that_never_answer_are_abandoned_after_the_drain() -> None:
    """Every hammer write hangs: the race still ends when the views settle; the writes get
    HAMMER_DRAIN_S of the run clock, are cancelled (info), and cleanup first checks that every
    peer answers."""
    clock = ManualClock()
    recorder = Recorder(clock)
    apis = fakes(recorder)
    ctx = context(recorder, apis, scenario())

    def hang_after_preload(call: Call) -> Answer:
        if ctx.phase == "preload":
            return ok(UpdateResult(1, "completed"))
        return ok(UpdateResult(1, "completed"), delay_s=3600)

    for fake in apis.values():
        fake.always("upsert", hang_after_preload)
    result = await race_in_virtual_time(ctx, clock)
    assert result.reason is EndReason.CONVERGED
    assert result.abandoned_writes == 2
    (abandoned,) = marks(recorder, "writes_abandoned")
    (converged,) = marks(recorder, "converged")
    assert abandoned.t_ns == converged.t_ns + int(runner.HAMMER_DRAIN_S * NS_PER_S)
    cancelled = [
        e
        for e in recorder.history().events
        if isinstance(e, Complete) and e.op == "upsert" and e.outcome.value == "info"
    ]
    assert len(cancelled) == len([i for i in invokes(recorder, "upsert") if i.worker != "setup"])
    assert all(f.calls_of("collection_cluster") for f in apis.values())
    assert result.deleted == result.created


async def test_an_interrupt_mid_race_ends_interrupted_and_still_cleans_up() -> None:
    clock = ManualClock()
    recorder = Recorder(clock)
    ctx = context(recorder, fakes(recorder), scenario())
    result = await race_in_virtual_time(ctx, clock, interrupt_at_s=3.0)
    assert result.reason is EndReason.INTERRUPTED
    assert result.detail == "interrupted by a signal"
    assert marks(recorder, "interrupted")
    assert result.deleted == result.created
    (end,) = marks(recorder, "run_end")
    assert end.data["reason"] == "interrupted"


async def test_the_time_limit_ends_a_race_that_never_settles() -> None:
    """A create still in flight at the time limit: the race ends at the limit exactly."""
    clock = ManualClock()
    recorder = Recorder(clock)
    apis = fakes(recorder)
    apis[LEADER_NODE].script("create_collection", ok(True))  # setup's; the burst's hangs
    apis[LEADER_NODE].always("create_collection", ok(True, delay_s=600))
    s = scenario(run__time_limit_s=15.0)
    ctx = context(recorder, apis, s)
    result = await race_in_virtual_time(ctx, clock)
    assert result.reason is EndReason.TIME_LIMIT
    assert result.detail == "time limit reached"
    (end,) = marks(recorder, "run_end")
    origin = plan_origin(recorder)
    ended = next(m for m in marks(recorder, "phase") if m.data["phase"] == "cleanup")
    # the time limit, then the straggling create's grace, then cleanup
    assert ended.t_ns == origin + 15 * NS_PER_S + int(runner.STRAGGLER_GRACE_S * NS_PER_S)
    assert end.t_ns >= ended.t_ns


# --- cleanup on its own ---------------------------------------------------------------------

NAMES = ("existing_collection_abc123", "new_collection_abc123")


def _cleanup_ctx(recorder: Recorder) -> tuple[RunContext, dict[int, FakeNode]]:
    apis = fakes(recorder)
    return context(recorder, apis, Scenario()), apis


async def test_without_abandoned_writes_it_deletes_at_once() -> None:
    """Writes drained: no probing, both collections deleted through the leader's node."""
    recorder = Recorder(ManualClock())
    ctx, apis = _cleanup_ctx(recorder)
    assert await cleanup(ctx, NAMES, 1, 10.0) == NAMES
    assert len(apis[1].calls_of("delete_collection")) == 2
    assert all(not f.calls_of("collection_cluster") for f in apis.values())


async def test_abandoned_writes_wait_for_a_frozen_peer_to_answer() -> None:
    """Node 2 does not answer twice, then does: deletes go out after it answers, one poll
    interval of the run clock apart."""
    clock = ManualClock()
    recorder = Recorder(clock)
    ctx, apis = _cleanup_ctx(recorder)
    apis[2].script("collection_cluster", timed_out(), timed_out())
    async with clock.autojump():
        assert await cleanup(ctx, NAMES, 1, 10.0, writes_abandoned=True) == NAMES
    assert len(apis[2].calls_of("collection_cluster")) == 3
    assert clock.now_ns() == 2 * int(runner.THAW_POLL_S * NS_PER_S)
    assert not marks(recorder, "cleanup_deferred")


async def test_a_peer_still_frozen_defers_the_cleanup() -> None:
    """Node 2 never answers within THAW_WAIT_S: nothing is deleted; the mark names what is left."""
    clock = ManualClock()
    recorder = Recorder(clock)
    ctx, apis = _cleanup_ctx(recorder)
    apis[2].always("collection_cluster", timed_out())
    async with clock.autojump():
        assert await cleanup(ctx, NAMES, 1, 10.0, writes_abandoned=True) == ()
    assert all(not f.calls_of("delete_collection") for f in apis.values())
    (mark,) = marks(recorder, "cleanup_deferred")
    assert mark.data["left"] == list(NAMES)
    assert clock.now_ns() <= runner.THAW_WAIT_S * NS_PER_S
    polls = len(apis[2].calls_of("collection_cluster"))
    assert polls == int(runner.THAW_WAIT_S / runner.THAW_POLL_S) + 1  # at 0 s and every second


async def test_a_slow_delete_is_cut_at_the_cleanup_budget() -> None:
    clock = ManualClock()
    recorder = Recorder(clock)
    ctx, apis = _cleanup_ctx(recorder)
    apis[1].script("delete_collection", ok(True), ok(True, delay_s=60))
    async with clock.autojump():
        assert await cleanup(ctx, NAMES, 1, 10.0) == NAMES[:1]
    assert clock.now_ns() == 10 * NS_PER_S
    (mark,) = marks(recorder, "cleanup_incomplete")
    assert mark.data == {"deleted": list(NAMES[:1]), "wanted": list(NAMES)}


async def test_keep_deletes_nothing() -> None:
    recorder = Recorder(ManualClock())
    apis = fakes(recorder)
    ctx = context(recorder, apis, with_overrides(Scenario(), {"run.keep": True}))
    assert await cleanup(ctx, NAMES, 1, 10.0) == ()
    assert not apis[1].calls_of("delete_collection")


@pytest.mark.parametrize("plan_field", ["slow_downs", "creates"])
def test_plans_used_here_have_steps(plan_field: str) -> None:
    plan: Plan = make_plan(scenario(), NODES, "abc123", leader=101)
    assert getattr(plan, plan_field)
