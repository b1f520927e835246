"""The workers: the hammer's pre-serialised upsert bodies, and every worker in virtual time."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from lagrace.api.models import UpdateResult
from lagrace.clock import ManualClock
from lagrace.events import Invoke
from lagrace.plan import NodeRef, make_plan, make_points
from lagrace.race import workers
from lagrace.race.context import RunContext
from lagrace.race.workers import VECTOR_POOL, Batches, hammer, propose_slow_down
from lagrace.recorder import Recorder
from lagrace.scenario import Scenario, with_overrides
from lagrace.testing import Answer, FakeNode, fail, ok
from lagrace.timebase import NS_PER_MS, NS_PER_S


@pytest.mark.parametrize(("batch", "size"), [(10, 8), (1, 3), (64, 4), (100, 2)])
def test_batches_are_the_seeded_points_with_consecutive_ids(batch: int, size: int) -> None:
    """Bodies parse to the points make_points gives (ids consecutive, vectors cycling)."""
    vectors = [p["vector"] for p in make_points(random.Random(7), 0, VECTOR_POOL, size)]
    batches = Batches(random.Random(7), 1_000, batch, size)
    for k in range(2 * VECTOR_POOL // batch + 3):
        got = batches.next()
        assert len(got) == got.count == batch
        points = json.loads(got.data)["points"]
        assert [p["id"] for p in points] == list(range(1_000 + k * batch, 1_000 + (k + 1) * batch))
        assert [p["vector"] for p in points] == [
            vectors[(k * batch + i) % VECTOR_POOL] for i in range(batch)
        ]
        assert all(p["payload"] == {"lagrace": True} for p in points)


def test_first_batches_equal_make_points() -> None:
    """While the pool lasts, a batch is byte for byte what make_points and json would send."""
    rng = random.Random("3-0")
    batches = Batches(random.Random("3-0"), 50, 8, 8)
    for k in range(VECTOR_POOL // 8):
        expected = {"points": make_points(rng, 50 + 8 * k, 8, 8)}
        assert batches.next().data == json.dumps(expected, separators=(",", ":")).encode()


# --- the workers in virtual time ------------------------------------------------------------

NODES = tuple(NodeRef(n, f"http://127.0.0.1:{n}", 100 + n) for n in (1, 2, 3))


def _ctx(overrides: dict[str, object], answer: Answer) -> tuple[RunContext, ManualClock]:
    clock = ManualClock()
    recorder = Recorder(clock)
    apis = {n.node: FakeNode(n.node, recorder, peer_id=n.peer_id) for n in NODES}
    for fake in apis.values():
        fake.always("upsert", answer)
        fake.always("test_slow_down", ok(True))
    s = with_overrides(Scenario(), {"run.seed": 3, "hammer.workers": 1, **overrides})
    plan = make_plan(s, NODES, "abc123", leader=101)
    return RunContext(scenario=s, plan=plan, nodes=NODES, apis=apis, recorder=recorder), clock


def _upserts(ctx: RunContext) -> list[Invoke]:
    return [e for e in ctx.recorder.events if isinstance(e, Invoke) and e.op == "upsert"]


async def _hammer_for(ctx: RunContext, clock: ManualClock, seconds: float) -> None:
    async with clock.autojump(), asyncio.TaskGroup() as tg:
        tg.create_task(hammer(ctx, 0))
        await clock.sleep_until(int(seconds * NS_PER_S))
        ctx.stop.set()


async def test_the_closed_loop_sends_when_the_previous_answer_came() -> None:
    """Each answer takes 0.3 s: one upsert every 0.3 s, whatever the rate says."""
    ctx, clock = _ctx({"hammer.mode": "closed"}, ok(UpdateResult(1, "completed"), delay_s=0.3))
    await _hammer_for(ctx, clock, 3.0)
    sent = [u.t_ns for u in _upserts(ctx)]
    assert sent == [k * 300 * NS_PER_MS for k in range(10)]  # the one due at 3 s meets the stop
    assert all(u.intended_ns is None for u in _upserts(ctx))


async def test_the_closed_loop_backs_off_10_ms_on_a_refusing_node() -> None:
    ctx, clock = _ctx({"hammer.mode": "closed"}, fail("Bad request: no", status=400))
    await _hammer_for(ctx, clock, 0.1)
    assert [u.t_ns for u in _upserts(ctx)] == [k * 10 * NS_PER_MS for k in range(10)]
    assert ctx.stats.failed == 10


async def test_the_open_loop_keeps_its_schedule_while_answers_are_slow() -> None:
    """Answers take 2 s; at 5/s the sends still go every 0.2 s, each at its intended time."""
    ctx, clock = _ctx({"hammer.rate": 5.0}, ok(UpdateResult(1, "completed"), delay_s=2.0))
    await _hammer_for(ctx, clock, 1.9)
    upserts = _upserts(ctx)
    assert [u.t_ns for u in upserts] == [k * 200 * NS_PER_MS for k in range(10)]
    assert all(u.intended_ns == u.t_ns for u in upserts)


async def test_the_open_loop_waits_at_the_in_flight_cap_and_records_the_delay() -> None:
    """Answers never come in time: after MAX_IN_FLIGHT_PER_WORKER sends the next waits, and when
    it goes its intended time says how late it is."""
    cap = workers.MAX_IN_FLIGHT_PER_WORKER
    ctx, clock = _ctx({"hammer.rate": 100.0}, ok(UpdateResult(1, "completed"), delay_s=1.0))
    await _hammer_for(ctx, clock, 1.05)
    upserts = _upserts(ctx)
    assert [u.t_ns for u in upserts[:cap]] == [k * 10 * NS_PER_MS for k in range(cap)]
    late = upserts[cap]  # due at 0.64 s; goes when the first answer frees a slot at 1.0 s
    assert late.intended_ns == cap * 10 * NS_PER_MS
    assert late.t_ns == NS_PER_S


async def test_a_slow_down_is_sent_at_its_planned_time() -> None:
    ctx, clock = _ctx({"lag.offset_s": 2.5}, ok(True))
    ctx.origin_ns = 1 * NS_PER_S
    step = ctx.plan.slow_downs[0]
    async with clock.autojump():
        await propose_slow_down(ctx, step, "lag-0")
    (invoke,) = [e for e in ctx.recorder.events if isinstance(e, Invoke)]
    assert invoke.t_ns == invoke.intended_ns == ctx.origin_ns + step.at_ns == 3_500 * NS_PER_MS
    assert invoke.args.target_peer == step.target_peer
