"""Racing the in-process simulated cluster with faults injected at known times.

:func:`race_sim` starts a :class:`~lagrace.sim.cluster.SimCluster`, runs
:func:`lagrace.race.orchestrate.run_scenario` against it (optionally through per-node URLs that the
test substitutes, e.g. a proxy) and runs an injector coroutine concurrently: the injector gets
the cluster and the run's live :class:`~lagrace.recorder.Recorder`, so it can wait for a phase
and then kill, restart, slow down or cut a peer. :func:`check_run` asserts what every faulted
run must still deliver and counts the events on disk against those recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lagrace.clock import Clock
from lagrace.events import Complete, Invoke, Mark, Outcome
from lagrace.history import History, read_history
from lagrace.race import orchestrate
from lagrace.race.orchestrate import RunOutcome, run_scenario
from lagrace.recorder import JsonlSink, Recorder
from lagrace.scenario import Scenario, with_overrides
from lagrace.sim.cluster import SimCluster
from lagrace.sim.config import SimConfig
from lagrace.sim.mode import Mode
from tests.fault.conftest import Figures

Injector = Callable[[SimCluster, Recorder], Coroutine[Any, Any, None]]

SHORT: dict[str, Any] = {
    "lag.duration_s": 2,
    "lag.offset_s": 0.3,
    "burst.offset_s": 0.8,
    "run.time_limit_s": 20,
    "run.settle_s": 8,
    "run.report": False,
    "run.seed": 5,
    "hammer.workers": 3,
    "existing.preload": 64,
}


@dataclass(frozen=True, slots=True)
class Raced:
    """A finished in-process race: its outcome, the live recorder and the history on disk."""

    outcome: RunOutcome
    recorder: Recorder
    history: History
    nodes: list[str]


async def wait_for_mark(
    recorder: Recorder, name: str, phase: str | None = None, timeout_s: float = 30.0
) -> Mark:
    """Wait until ``recorder`` holds a mark ``name`` (with ``data.phase == phase`` if given)."""
    async with asyncio.timeout(timeout_s):
        while True:
            for event in recorder.events:
                if (
                    isinstance(event, Mark)
                    and event.name == name
                    and (phase is None or event.data.get("phase") == phase)
                ):
                    return event
            await asyncio.sleep(0.02)


async def race_sim(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    inject: Injector | None = None,
    mode: Mode = Mode.BUGGY,
    overrides: dict[str, Any] | None = None,
    front: Callable[[SimCluster], Awaitable[list[str]]] | None = None,
    api_key: str | None = None,
    seed: int = 1,
) -> Raced:
    """Race an in-process simulated cluster while ``inject`` does its damage."""
    captured: list[Recorder] = []
    made = asyncio.Event()

    def capture(clock: Clock, sink: JsonlSink | None = None) -> Recorder:
        recorder = Recorder(clock, sink)
        captured.append(recorder)
        made.set()
        return recorder

    monkeypatch.setattr(orchestrate, "Recorder", capture)
    # a short internal gRPC timeout: a freeze of the lock pile-up lasts 3 x (1 s + 2 s), not the
    # ~3 min of Qdrant's default 60 s
    config = SimConfig(seed=seed, mode=mode, log_dir=tmp_path / "sim", grpc_timeout_ms=1000)
    async with SimCluster.start(config) as cluster:
        urls = await front(cluster) if front is not None else [n.url for n in cluster.nodes]
        scenario = with_overrides(
            Scenario(),
            {
                **SHORT,
                "cluster.nodes": ",".join(urls),
                "cluster.logs": ",".join(str(n.log_path) for n in cluster.nodes),
                "run.runs_dir": str(tmp_path / "runs"),
                **(overrides or {}),
            },
        )
        async with asyncio.TaskGroup() as tg:
            run = tg.create_task(run_scenario(scenario, api_key=api_key))
            if inject is not None:
                await made.wait()
                tg.create_task(inject(cluster, captured[0]))
        outcome = run.result()
    loaded = read_history(outcome.run_dir.history)
    return Raced(outcome, captured[0], loaded.history, urls)


def check_run(raced: Raced, figures: Figures) -> dict[str, Any]:
    """What every faulted run must still give: a whole run directory, a verdict, no lost event.

    Returns ``findings.json``.
    """
    run_dir = raced.outcome.run_dir
    recorded = len(raced.recorder.events)
    on_disk = len(raced.history)
    figures.events(recorded, on_disk)
    assert on_disk == recorded, f"{recorded - on_disk} events recorded but not on disk"
    assert [e.index for e in raced.history] == list(range(on_disk))
    config = json.loads(run_dir.config.read_text())
    findings: dict[str, Any] = json.loads(run_dir.findings.read_text())
    assert config["status"] in ("complete", "interrupted")
    assert findings["verdict"] in ("reproduced", "not_reproduced", "inconclusive")
    assert run_dir.summary.read_text().strip()
    end = raced.history.first_mark("run_end")
    assert end is not None
    assert end.data["reason"] in ("converged", "time_limit", "interrupted")
    invoked = {e.op_id for e in raced.history if isinstance(e, Invoke)}
    completed = {e.op_id for e in raced.history if isinstance(e, Complete)}
    assert invoked == completed, f"operations without a completion: {sorted(invoked - completed)}"
    return findings


def ops_of(history: History, node: int, start_ns: int, end_ns: int) -> list[tuple[str, Outcome]]:
    """(op, outcome) of the calls to ``node`` invoked within [start_ns, end_ns)."""
    return [
        (op.invoke.op, op.outcome)
        for op in history.operations()
        if op.invoke.node == node and start_ns <= op.invoke.t_ns < end_ns
    ]
