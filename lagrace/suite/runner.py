"""The suite's shell: every selected catalogue scenario ``repeat`` times, one ``lagrace run``
each (:func:`lagrace.race.orchestrate.run_scenario`), the matrix rewritten after every run.

On a real cluster the cluster must be clean before the first run and come back clean after
each (:mod:`lagrace.hunt.clean`, the hunt's check: every peer answers, same commit, nothing
pending, no stalled consensus thread, every replica Active, no collection a run of this suite
created); the suite deletes what a run left of its own collections (never any other) and waits
up to ``recover_s``. If the cluster does not come back, the suite stops
(:class:`SuiteStopped`, naming the run's directory) with the matrix so far written. On the
simulated cluster every run starts a fresh model.

Suite directory (``suites/<name>/<UTC time>-<suite id>/``): ``matrix.json``, ``matrix.md``,
``checks.jsonl`` (the cleanliness probes' history, real cluster only), ``runs/<scenario>/...``
(each run's directory).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lagrace.api.client import HttpNodeClient
from lagrace.clock import Clock, SystemClock
from lagrace.errors import LagraceError
from lagrace.hunt.clean import CleanApi, Cleanliness, delete_leftovers, wait_clean
from lagrace.race.context import ProgressSink
from lagrace.race.orchestrate import run_scenario
from lagrace.race.settle import EndReason
from lagrace.recorder import JsonlSink, Recorder
from lagrace.scenario import Scenario, validate, with_overrides
from lagrace.store import create_stamped_dir, write_text_atomic
from lagrace.suite.catalogue import CatalogueEntry
from lagrace.suite.found import Cell, classify, kinds_of
from lagrace.suite.matrix import (
    Matrix,
    RunRecord,
    build_matrix,
    format_matrix_markdown,
    matrix_to_json,
    version_of_config,
)
from lagrace.timebase import format_rfc3339

PRE_CLEAN_S: Final = 60.0  # the cluster must be clean this soon before the first run
RECOVER_S: Final = 180.0  # and come back clean this soon after each run


class SuiteStopped(LagraceError):
    """A real cluster was not clean before the suite or did not come back clean after a run."""


@dataclass(frozen=True, slots=True)
class SuiteDir:
    """The paths of one suite directory."""

    path: Path

    @property
    def runs(self) -> Path:
        """``runs/`` (each scenario's run directories)."""
        return self.path / "runs"

    def write_text(self, name: str, text: str) -> Path:
        """Write a file of the suite atomically."""
        return write_text_atomic(self.path / name, text)


def create_suite_dir(suites_dir: Path, name: str, unix_ns: int) -> SuiteDir:
    """Make ``suites_dir/<name>/<stamp>-<suite id>/runs/``."""
    return SuiteDir(create_stamped_dir(suites_dir, name, unix_ns, what="suite", subdirs=("runs",)))


def run_seed(seed: int, scenario: str, index: int) -> int:
    """The seed of one run, derived from the suite's (SHA-256, as the hunt's trials)."""
    digest = hashlib.sha256(f"{seed}:{scenario}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def scenario_for(
    entry: CatalogueEntry,
    overrides: Mapping[str, Any],
    *,
    runs_dir: Path,
    seed: int | None,
) -> Scenario:
    """The catalogue scenario with the suite's overrides (cluster, ``--set``), its seed and its
    run directory under ``runs/``."""
    return validate(
        with_overrides(
            entry.scenario,
            {**overrides, "run.runs_dir": str(runs_dir), "run.name": entry.name, "run.seed": seed},
        )
    )


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run said: its record and the collections it was to create."""

    record: RunRecord
    created: tuple[str, ...] = ()
    interrupted: bool = False


RunFn = Callable[[CatalogueEntry, Scenario, int], Awaitable[RunResult]]


def _read_config(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        obj = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(obj, dict):
            return obj
    return {}


def run_with(*, api_key: str | None, on_progress: ProgressSink | None, report: bool) -> RunFn:
    """The run function that calls ``run_scenario`` (what ``lagrace run`` does)."""

    async def run(entry: CatalogueEntry, scenario: Scenario, index: int) -> RunResult:
        outcome = await run_scenario(
            scenario, api_key=api_key, on_progress=on_progress, report=report
        )
        config = _read_config(outcome.run_dir.config)
        created = tuple(
            n
            for n in [config.get("existing_collection"), *config.get("new_collections", [])]
            if isinstance(n, str)
        )
        findings = outcome.findings
        kinds = kinds_of(findings)
        interrupted = outcome.result.reason is EndReason.INTERRUPTED
        cell = classify(
            entry.found,
            kinds,
            findings.verdict,
            sim=scenario.uses_sim,
            sim_modelled=entry.sim_modelled,
            interrupted=interrupted,
        )
        summary = config.get("qdrant_summary")
        if isinstance(summary, str) and scenario.uses_sim:
            summary = f"the simulated cluster, a model of {summary}"
        record = RunRecord(
            scenario=entry.name,
            index=index,
            cell=cell,
            verdict=findings.verdict.value,
            kinds=kinds,
            run_dir=str(outcome.run_dir.path),
            qdrant_version=version_of_config(config),
            qdrant_summary=summary if isinstance(summary, str) else None,
            detail=findings.reasons[0] if findings.reasons else None,
        )
        return RunResult(record, created, interrupted)

    return run


@dataclass(slots=True)
class Suite:
    """A suite being run."""

    dir: SuiteDir
    entries: tuple[CatalogueEntry, ...]
    overrides: dict[str, Any]  # applied to every scenario: cluster, --set
    repeat: int
    run: RunFn
    seed: int | None = None
    api_key: str | None = None
    pre_clean_s: float = PRE_CLEAN_S
    recover_s: float = RECOVER_S
    on_line: Callable[[str], None] = lambda _line: None
    clock: Clock = field(default_factory=SystemClock)
    records: list[RunRecord] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    ended: str = "running"
    interrupted: bool = False

    @property
    def uses_sim(self) -> bool:
        """No nodes given: every run races the embedded simulated cluster."""
        return not self.overrides.get("cluster.nodes")


def matrix_of(suite: Suite) -> Matrix:
    """The matrix of the runs so far."""
    return build_matrix(
        suite.entries,
        suite.records,
        suite_id=suite.dir.path.name,
        started=format_rfc3339(suite.clock.anchor.unix_ns),
        sim=suite.uses_sim,
        repeat=suite.repeat,
        ended=suite.ended,
    )


def write_matrix(suite: Suite) -> Matrix:
    """``matrix.json`` and ``matrix.md`` (after every run)."""
    matrix = matrix_of(suite)
    suite.dir.write_text("matrix.json", json.dumps(matrix_to_json(matrix), indent=2) + "\n")
    suite.dir.write_text("matrix.md", format_matrix_markdown(matrix))
    return matrix


@contextlib.asynccontextmanager
async def _cluster_apis(suite: Suite) -> AsyncIterator[tuple[list[CleanApi], Recorder | None]]:
    """Clients of the real cluster for the cleanliness checks (none on the simulated one)."""
    if suite.uses_sim:
        yield [], None
        return
    urls = suite.overrides["cluster.nodes"]
    if isinstance(urls, str):
        urls = [u.strip() for u in urls.split(",") if u.strip()]
    recorder = Recorder(suite.clock, JsonlSink(suite.dir.path / "checks.jsonl"))
    try:
        async with contextlib.AsyncExitStack() as stack:
            apis: list[CleanApi] = [
                await stack.enter_async_context(
                    HttpNodeClient(i + 1, url, recorder, api_key=suite.api_key)
                )
                for i, url in enumerate(urls)
            ]
            yield apis, recorder
    finally:
        recorder.close()


def _format_end(record: RunRecord) -> str:
    where = f" ({record.run_dir})" if record.run_dir else ""
    return f"suite: {record.scenario} run {record.index}: {record.cell.label}{where}"


async def run_suite(suite: Suite) -> Matrix:
    """Every scenario ``repeat`` times; the matrix (``ended`` says how the suite ended)."""
    async with _cluster_apis(suite) as (apis, recorder):
        if recorder is not None:
            pre = await wait_clean(apis, recorder, suite.created.__contains__, suite.pre_clean_s)
            if not pre.clean:
                _stop(suite, pre, "before the first run", None, suite.pre_clean_s)
        for entry in suite.entries:
            for index in range(1, suite.repeat + 1):
                if suite.interrupted:
                    break
                seed = None if suite.seed is None else run_seed(suite.seed, entry.name, index)
                scenario = scenario_for(entry, suite.overrides, runs_dir=suite.dir.runs, seed=seed)
                suite.on_line(f"suite: {entry.name} run {index} of {suite.repeat}")
                result = await suite.run(entry, scenario, index)
                suite.created.update(result.created)
                if result.interrupted:
                    suite.interrupted = True
                suite.records.append(result.record)
                write_matrix(suite)
                suite.on_line(_format_end(result.record))
                if recorder is not None:
                    await delete_leftovers(apis, sorted(result.created), suite.created.__contains__)
                    post = await wait_clean(
                        apis, recorder, suite.created.__contains__, suite.recover_s
                    )
                    if not post.clean:
                        where = f"after {entry.name} run {index}"
                        _stop(suite, post, where, result.record.run_dir, suite.recover_s)
    suite.ended = "interrupted" if suite.interrupted else "complete"
    return write_matrix(suite)


def _stop(suite: Suite, why: Cleanliness, where: str, run_dir: str | None, bound: float) -> None:
    """Write the matrix so far with how it ended, and raise :class:`SuiteStopped`."""
    message = f"the cluster was not clean {where} within {bound:g} s ({why.why}); suite stopped"
    if run_dir:
        message += f": {run_dir}"
    suite.ended = f"stopped: {message}"
    write_matrix(suite)
    raise SuiteStopped(message)


def suite_exit(matrix: Matrix) -> int:
    """0 nothing found, 1 something found, 2 nothing found and some run inconclusive or the
    suite interrupted (the codes of ``lagrace run``; 3 and 4 come from errors)."""
    if any(r.count(Cell.FOUND) for r in matrix.rows):
        return 1
    if matrix.ended != "complete" or any(r.count(Cell.INCONCLUSIVE) for r in matrix.rows):
        return 2
    return 0
