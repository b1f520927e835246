"""The suite's shell with a scripted run function: order, seeds, matrix files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from lagrace.clock import ManualClock
from lagrace.scenario import Scenario
from lagrace.suite.catalogue import CatalogueEntry, load_catalogue, select
from lagrace.suite.found import Cell
from lagrace.suite.matrix import RunRecord
from lagrace.suite.runner import RunResult, Suite, SuiteDir, run_seed, run_suite, suite_exit


async def test_every_scenario_repeat_times(tmp_path: Path) -> None:
    """Each scenario runs `repeat` times in order with derived seeds and the suite's
    overrides; matrix.json and matrix.md are written; something found exits 1."""
    (tmp_path / "runs").mkdir()
    seen: list[tuple[str, int, int | None, float]] = []

    async def run(entry: CatalogueEntry, scenario: Scenario, index: int) -> RunResult:
        seen.append((entry.name, index, scenario.run.seed, scenario.lag.duration_s))
        assert scenario.run.runs_dir == str(tmp_path / "runs")
        cell = Cell.FOUND if entry.name == "delete-under-writes" else Cell.NOT_FOUND
        return RunResult(RunRecord(entry.name, index, cell, "x", qdrant_version="1.18.3"))

    entries = select(load_catalogue(), ["delete-under-writes", "create-under-strong-writes"])
    suite = Suite(
        dir=SuiteDir(tmp_path),
        entries=entries,
        overrides={"lag.duration_s": "2"},
        repeat=2,
        run=run,
        seed=7,
        clock=ManualClock(),
    )
    matrix = await run_suite(suite)
    assert [(n, i) for n, i, _, _ in seen] == [
        ("delete-under-writes", 1),
        ("delete-under-writes", 2),
        ("create-under-strong-writes", 1),
        ("create-under-strong-writes", 2),
    ]
    assert seen[0][2] == run_seed(7, "delete-under-writes", 1)
    assert {d for _, _, _, d in seen} == {2.0}
    assert matrix.ended == "complete"
    stored = json.loads((tmp_path / "matrix.json").read_text())
    assert [r["result"] for r in stored["rows"]] == ["found 2/2", "not found 0/2"]
    assert (tmp_path / "matrix.md").read_text().startswith("# lagrace suite")
    assert suite_exit(matrix) == 1


async def test_an_interrupted_run_stops_the_suite(tmp_path: Path) -> None:
    """A run that was interrupted is recorded and no further run starts; exit 2."""
    (tmp_path / "runs").mkdir()
    calls = 0

    async def run(entry: CatalogueEntry, scenario: Scenario, index: int) -> RunResult:
        nonlocal calls
        calls += 1
        record = RunRecord(entry.name, index, Cell.INCONCLUSIVE, "inconclusive")
        return RunResult(record, interrupted=True)

    suite = Suite(dir=SuiteDir(tmp_path), entries=load_catalogue(), overrides={}, repeat=3, run=run)
    matrix = await run_suite(suite)
    assert calls == 1
    assert matrix.ended == "interrupted"
    assert suite_exit(matrix) == 2
