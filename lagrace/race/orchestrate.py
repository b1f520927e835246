"""One race, end to end: preflight, run directory, (simulated) cluster, runner, analysis, report.

This is the shell around :mod:`lagrace.race.runner`: it owns the resources of a run (HTTP clients,
the simulated cluster's child process, the history file) and turns the finished history into
findings, a summary and a report in the run directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import random
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lagrace import __version__
from lagrace.analysis.findings import Findings, findings_to_json
from lagrace.analysis.inputs import CustomSignature, analysis_input_from_history
from lagrace.analysis.verdict import analyse
from lagrace.api.client import HttpNodeClient
from lagrace.clock import Clock, SystemClock
from lagrace.errors import LagraceError
from lagrace.loop import uncancel_current
from lagrace.plan import collection_name, make_plan
from lagrace.race.context import ProgressSink, RunContext
from lagrace.race.preflight import Preflight, preflight
from lagrace.race.runner import RaceResult, run_config, run_race
from lagrace.race.settle import Ending, EndReason
from lagrace.race.simproc import SimProcess, simulated_cluster
from lagrace.race.tailer import LogTail, start_offset
from lagrace.recorder import JsonlSink, Recorder
from lagrace.render.markdown import format_summary_markdown
from lagrace.scenario import Scenario, scenario_to_json, validate, with_overrides
from lagrace.store import RunDir, check_writable, create_run_dir
from lagrace.timebase import format_rfc3339
from lagrace.versions import cluster_summary


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """A finished run: where it is, what it found, how the race ended."""

    run_dir: RunDir
    findings: Findings
    result: RaceResult
    report_error: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """The cluster to race: URLs, optional log files, and the sim process if we started it."""

    urls: tuple[str, ...]
    logs: tuple[Path | None, ...]
    sim: SimProcess | None


@contextlib.asynccontextmanager
async def _clients(
    urls: tuple[str, ...], recorder: Recorder, api_key: str | None
) -> AsyncIterator[list[HttpNodeClient]]:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(HttpNodeClient(i + 1, url, recorder, api_key=api_key))
            for i, url in enumerate(urls)
        ]
        yield clients


@dataclass(slots=True)
class _SoFar:
    """What a run has made so far, so an interruption at any point can still be wrapped up."""

    run_dir: RunDir | None = None
    out: tuple[RunDir, RaceResult, _Started] | None = None


@dataclass(frozen=True, slots=True)
class _Started:
    """What a started run knows, for config.json and the analysis."""

    scenario: Scenario
    run_id: str
    clock: Clock
    found: Preflight
    target: Target
    mark: dict[str, Any]  # the run_start mark's data


def config_json(
    scenario: Scenario,
    run_id: str,
    clock: Clock,
    *,
    status: str,
    started: _Started | None,
    end: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``config.json`` (docs/run-directory.md): what the run is; ``started`` is ``None`` for a
    run interrupted before preflight finished (what it would have found is then null)."""
    config: dict[str, Any] = {
        "run_id": run_id,
        "scenario": scenario.run.name,
        "seed": scenario.run.seed,
        "status": status,
        "anchor_unix_ns": clock.anchor.unix_ns,
        "anchor": clock.anchor.isoformat(),
        "started": format_rfc3339(clock.anchor.unix_ns),
        "updated": format_rfc3339(clock.wall_ns()),
        "versions": {"lagrace": __version__, "python": platform.python_version(), "qdrant": {}},
        "nodes": [],
        "target": None,
        "existing_collection": None,
        "new_collections": [],
        "sim": None,
        "config": scenario_to_json(scenario),
    }
    if started is not None:
        found, target, mark = started.found, started.target, started.mark
        config["versions"]["qdrant"] = {str(k): v for k, v in found.versions.items()}
        config |= {
            "qdrant_builds": {str(k): b.to_json() for k, b in found.builds.items()},
            "qdrant_summary": cluster_summary(found.builds) if found.builds else None,
            "nodes": [
                {
                    "node": n.node,
                    "url": n.url,
                    "peer_id": n.peer_id,
                    "log": None if log is None else str(log),
                }
                for n, log in zip(found.nodes, target.logs, strict=True)
            ],
            "target": {"node": mark["target_node"], "peer_id": mark["target_peer"]},
            "existing_collection": mark["existing_collection"],
            "new_collections": mark["new_collections"],
            "sim": None
            if target.sim is None
            else {"mode": target.sim.mode, "seed": target.sim.seed, "model": target.sim.model},
        }
    if end is not None:
        config["end"] = end
    return config


async def _race_target(
    scenario: Scenario,
    target: Target,
    *,
    run_id: str,
    clock: Clock,
    recorder: Recorder,
    api_key: str | None,
    runs_dir: Path,
    run_dir: RunDir | None,
    on_progress: ProgressSink | None,
    so_far: _SoFar,
) -> None:
    async with _clients(target.urls, recorder, api_key) as clients:
        found = await preflight(clients, clock, frozen_wait_s=scenario.run.frozen_wait_s)
        for client, ref in zip(clients, found.nodes, strict=True):
            client.set_peer_id(ref.peer_id)
        plan = make_plan(scenario, found.nodes, run_id, found.leader_peer)
        if run_dir is None:  # a real cluster: only now, after every check, make the directory
            run_dir = create_run_dir(runs_dir, scenario.run.name, run_id, clock.anchor.unix_ns)
            recorder.attach(JsonlSink(run_dir.history))
            so_far.run_dir = run_dir
        mark = run_config(scenario_json=scenario_to_json(scenario), nodes=found.nodes, plan=plan)
        mark["signatures"] = dict(scenario.signatures)
        mark["qdrant_builds"] = {str(k): b.to_json() for k, b in found.builds.items()}
        summary = cluster_summary(found.builds) if found.builds else None
        if target.sim is not None:
            summary = f"the simulated cluster, a model ({target.sim.mode} mode) of {summary}"
            mark["grpc_timeout_ms"] = scenario.cluster.sim_grpc_timeout_ms
        mark["qdrant_summary"] = summary
        if found.frozen_waited_s >= 1.0:
            mark["frozen_waited_s"] = round(found.frozen_waited_s, 1)
        for entry in mark["nodes"]:
            entry["p2p_uri"] = found.p2p_uris.get(entry["peer_id"])
        recorder.mark("run_start", mark)
        started = _Started(scenario, run_id, clock, found, target, mark)
        run_dir.write_json(
            run_dir.config,
            config_json(scenario, run_id, clock, status="running", started=started),
        )
        from_start = target.sim is not None
        tails = {
            ref.node: LogTail(
                path=log,
                node=ref.node,
                peer_id=ref.peer_id,
                offset=start_offset(log, from_beginning=from_start),
            )
            for ref, log in zip(found.nodes, target.logs, strict=True)
            if log is not None
        }
        ctx = RunContext(
            scenario=scenario,
            plan=plan,
            nodes=found.nodes,
            apis={c.node: c for c in clients},
            recorder=recorder,
            logs=tails,
            raw_log_path=run_dir.node_log,
            on_progress=on_progress,
        )
        result = await run_race(ctx, found.leader_node)
        # Kept at once: an interruption while the clients close (or the simulated cluster
        # stops) must not lose a finished race.
        so_far.out = (run_dir, result, started)


async def run_scenario(
    scenario: Scenario,
    *,
    api_key: str | None = None,
    on_progress: ProgressSink | None = None,
    report: bool | None = None,
) -> RunOutcome:
    """Run one race as the scenario says and write its run directory."""
    if scenario.run.seed is None:
        scenario = with_overrides(scenario, {"run.seed": random.SystemRandom().randrange(2**31)})
    scenario = validate(scenario)
    runs_dir = Path(scenario.run.runs_dir)
    check_writable(runs_dir)
    run_id = secrets.token_hex(3)
    clock = SystemClock()
    recorder = Recorder(clock)
    so_far = _SoFar()
    try:
        try:
            await _run_target(
                scenario,
                so_far,
                run_id=run_id,
                clock=clock,
                recorder=recorder,
                api_key=api_key,
                on_progress=on_progress,
            )
        except asyncio.CancelledError:
            # Interrupted outside the race (run_race wraps up its own interruptions): before
            # anything exists there is nothing to wrap up; otherwise finish what there is.
            if so_far.run_dir is None:
                raise
            uncancel_current()
            if so_far.out is None:
                recorder.mark("run_end", {"reason": "interrupted", "detail": _BEFORE_RACE})
                recorder.close()
                return _finish_early(scenario, so_far.run_dir, run_id, clock, recorder)
    finally:
        recorder.close()
    assert so_far.out is not None
    run_dir, result, started = so_far.out
    if result.reason is EndReason.INTERRUPTED:
        report = False  # an interrupted run ends now; `lagrace report RUN_DIR` renders later
    return _finish(
        started, run_dir, recorder, result, report=scenario.run.report if report is None else report
    )


_BEFORE_RACE: Final = "interrupted by a signal before the race began"
_STATUS: Final = {EndReason.INTERRUPTED: "interrupted", EndReason.ERROR: "error"}


def _end_json(ending: Ending, deleted: tuple[str, ...]) -> dict[str, Any]:
    """``config.json``'s ``end``: how the race ended and what cleanup deleted."""
    return {"reason": ending.reason.value, "detail": ending.detail, "deleted": list(deleted)}


async def _run_target(
    scenario: Scenario,
    so_far: _SoFar,
    *,
    run_id: str,
    clock: Clock,
    recorder: Recorder,
    api_key: str | None,
    on_progress: ProgressSink | None,
) -> None:
    """Start the simulated cluster if asked, then race; results land in ``so_far``."""
    runs_dir = Path(scenario.run.runs_dir)
    run_dir: RunDir | None = None  # a real cluster's directory comes only after preflight
    sim_cm: contextlib.AbstractAsyncContextManager[SimProcess | None] = contextlib.nullcontext()
    if scenario.uses_sim:
        run_dir = create_run_dir(runs_dir, scenario.run.name, run_id, clock.anchor.unix_ns)
        so_far.run_dir = run_dir
        recorder.attach(JsonlSink(run_dir.history))
        run_dir.sim.mkdir()
        assert scenario.run.seed is not None
        sim_cm = simulated_cluster(
            nodes=scenario.cluster.sim_nodes,
            mode=scenario.cluster.sim_mode,
            seed=scenario.run.seed,
            log_dir=run_dir.sim,
            grpc_timeout_ms=scenario.cluster.sim_grpc_timeout_ms,
        )
    async with sim_cm as sim:
        if sim is None:
            logs = tuple(Path(p) for p in scenario.cluster.logs) or (None,) * len(
                scenario.cluster.nodes
            )
            target = Target(urls=scenario.cluster.nodes, logs=logs, sim=None)
        else:
            target = Target(
                urls=tuple(n.url for n in sim.nodes), logs=tuple(n.log for n in sim.nodes), sim=sim
            )
        await _race_target(
            scenario,
            target,
            run_id=run_id,
            clock=clock,
            recorder=recorder,
            api_key=api_key,
            runs_dir=runs_dir,
            run_dir=run_dir,
            on_progress=on_progress,
            so_far=so_far,
        )


def _finish_early(
    scenario: Scenario, run_dir: RunDir, run_id: str, clock: Clock, recorder: Recorder
) -> RunOutcome:
    """Wrap up a run interrupted before its race began: what config.json can say, findings
    (inconclusive: the ``run_end`` mark says interrupted) and the summary."""
    history = recorder.history()
    existing = collection_name(scenario.existing.name, run_id)  # planned, never created
    inp = analysis_input_from_history(history, existing_collections=(existing,), new_collections=())
    findings = analyse(history, inp)
    run_dir.write_json(run_dir.findings, findings_to_json(findings))
    ending = Ending(EndReason.INTERRUPTED, _BEFORE_RACE)
    end = _end_json(ending, ())
    config = config_json(scenario, run_id, clock, status="interrupted", started=None, end=end)
    run_dir.write_json(run_dir.config, config)
    run_dir.write_text(run_dir.summary, format_summary_markdown(findings, config))
    return RunOutcome(run_dir, findings, RaceResult(ending))


def _finish(
    run: _Started, run_dir: RunDir, recorder: Recorder, result: RaceResult, *, report: bool
) -> RunOutcome:
    """Analyse the history and write findings, summary, config status and the report."""
    history = recorder.history()
    inp = analysis_input_from_history(
        history,
        custom_signatures=[CustomSignature.compile(n, p) for n, p in run.scenario.signatures],
    )
    findings = analyse(history, inp)
    run_dir.write_json(run_dir.findings, findings_to_json(findings))
    config = config_json(
        run.scenario,
        run.run_id,
        run.clock,
        status=_STATUS.get(result.reason, "complete"),
        started=run,
        end=_end_json(result.ending, result.deleted),
    )
    run_dir.write_json(run_dir.config, config)
    run_dir.write_text(run_dir.summary, format_summary_markdown(findings, config))
    report_error = None
    if report:
        from lagrace.report import render_report  # noqa: PLC0415  # matplotlib loads only when asked

        try:
            render_report(run_dir.path)
        except LagraceError as exc:
            report_error = str(exc)
    return RunOutcome(run_dir, findings, result, report_error)
