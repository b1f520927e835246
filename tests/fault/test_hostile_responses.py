"""Broken or hostile responses never crash the driver (hypothesis, bounded examples).

A misbehaving fake Qdrant (:mod:`tests.fault.hostile_server`) answers one route with garbage:
non-JSON, wrong shapes, truncated or huge bodies, lying lengths, wrong content types, trickled
bytes. Preflight may refuse the cluster (a :class:`~lagrace.errors.ClusterError`, exit 3) but
must raise nothing else; the watchers and the workers must never raise, every call they make
must be completed in the history, and a watcher's unusable answer must show as a probe error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings

from lagrace.api.client import HttpNodeClient, Timeouts
from lagrace.clock import SystemClock
from lagrace.errors import ClusterError
from lagrace.events import Complete, Invoke, Outcome
from lagrace.plan import NodeRef, make_plan
from lagrace.race.context import RunContext
from lagrace.race.preflight import preflight
from lagrace.race.watchers import WatchState, poll_cluster_once, poll_collection_once
from lagrace.race.workers import create_in_burst, hammer, propose_slow_down
from lagrace.recorder import Recorder
from lagrace.scenario import Scenario, with_overrides
from tests.fault.conftest import Figures
from tests.fault.hostile_server import CAP_BYTES, Hostile, hostile_answers, hostile_cluster

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]

FAST = Timeouts(default_s=0.3, meta_s=0.3, connect_s=0.3, margin_s=0.0)
SETTINGS = settings(
    max_examples=40,
    deadline=2000,  # ms; the clients give up after 0.3 s, so an example is well below this
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,
)


@contextlib.asynccontextmanager
async def _clients(urls: list[str], recorder: Recorder) -> AsyncIterator[list[HttpNodeClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                HttpNodeClient(i + 1, u, recorder, timeouts=FAST, max_body_bytes=CAP_BYTES)
            )
            for i, u in enumerate(urls)
        ]


def _all_completed(recorder: Recorder) -> None:
    invoked = {e.op_id for e in recorder.events if isinstance(e, Invoke)}
    completed = {e.op_id for e in recorder.events if isinstance(e, Complete)}
    assert invoked == completed


@SETTINGS
@given(bad=hostile_answers)
def test_preflight_refuses_or_accepts_but_never_crashes(bad: Hostile, figures: Figures) -> None:
    """Preflight against a node answering garbage: a ClusterError or a Preflight, nothing else."""

    async def example() -> int:
        recorder = Recorder(SystemClock())
        async with hostile_cluster() as (nodes, urls), _clients(urls, recorder) as clients:
            nodes[1].hostile = bad
            async with asyncio.timeout(5):
                try:
                    found = await preflight(clients, recorder.clock)
                except* ClusterError:
                    pass
                else:
                    assert len(found.nodes) == 3
            _all_completed(recorder)
            return nodes[1].served

    figures.hostile_responses += asyncio.run(example())


@SETTINGS
@given(bad=hostile_answers)
def test_watchers_record_probe_errors_and_never_raise(bad: Hostile, figures: Figures) -> None:
    """Watcher polls against garbage: no exception; an unusable answer is a probe error."""

    async def example() -> int:
        recorder = Recorder(SystemClock())
        async with hostile_cluster() as (nodes, urls), _clients(urls[:1], recorder) as clients:
            nodes[0].hostile = bad
            state = WatchState(nodes=1, clock=recorder.clock)
            async with asyncio.timeout(5):
                await poll_cluster_once(clients[0], recorder, state)
                await poll_collection_once(clients[0], recorder, state, "c")
            _all_completed(recorder)
            for event in recorder.events:
                if isinstance(event, Complete) and event.outcome is not Outcome.OK:
                    unusable_404 = event.op == "collection_cluster" and event.status == 404
                    if not unusable_404:
                        probe = "cluster" if event.op == "cluster" else "collection_cluster"
                        key = (1, probe + ("c" if probe == "collection_cluster" else ""))
                        assert key in state.probe_errors, (event, state.probe_errors)
            return nodes[0].served

    figures.hostile_responses += asyncio.run(example())


@SETTINGS
@given(bad=hostile_answers)
def test_workers_keep_going_on_garbage(bad: Hostile, figures: Figures) -> None:
    """Slow-down, create and hammer against garbage: each call is made and completed, and the
    hammer's live counts are the history's."""

    async def example() -> int:
        recorder = Recorder(SystemClock())
        async with hostile_cluster() as (nodes, urls), _clients(urls, recorder) as clients:
            for node in nodes:
                node.hostile = bad
            scenario = with_overrides(
                Scenario(),
                {"run.seed": 1, "hammer.workers": 1, "hammer.mode": "closed", "hammer.wait": "true",
                 "lag.offset_s": 0, "burst.offset_s": 0},
            )  # fmt: skip
            refs = tuple(NodeRef(n + 1, u, 100 + n) for n, u in enumerate(urls))
            plan = make_plan(scenario, refs, "abc123", None)
            ctx = RunContext(
                scenario=scenario,
                plan=plan,
                nodes=refs,
                apis={c.node: c for c in clients},
                recorder=recorder,
            )
            ctx.origin_ns = recorder.clock.now_ns()
            async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
                once = [
                    tg.create_task(propose_slow_down(ctx, plan.slow_downs[0], "lag-0")),
                    tg.create_task(
                        create_in_burst(ctx, plan.creates[0], asyncio.Semaphore(1), "b-0")
                    ),
                ]
                tg.create_task(hammer(ctx, 0))
                await asyncio.wait(once)
                while ctx.stats.ok + ctx.stats.failed < 2:  # noqa: ASYNC110  # no event to await
                    await asyncio.sleep(0.005)
                ctx.stop.set()
            _all_completed(recorder)
            upserts = [e for e in recorder.events if isinstance(e, Complete) and e.op == "upsert"]
            assert sorted({e.op for e in recorder.events if isinstance(e, Invoke)}) == [
                "create_collection",
                "test_slow_down",
                "upsert",
            ]
            assert ctx.stats.sent == ctx.stats.ok + ctx.stats.failed == len(upserts) >= 2
            assert ctx.stats.ok == sum(e.outcome is Outcome.OK for e in upserts)
            return sum(n.served for n in nodes)

    figures.hostile_responses += asyncio.run(example())
