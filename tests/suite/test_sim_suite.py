"""`lagrace suite` end to end on the embedded simulated cluster (a model), and the real-cluster
acceptance (qdrant tier): delete-under-writes finds the panic on v1.18.3 in >= 4 of 5 runs, the
report's race is found on v1.16.x."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lagrace.cli import main
from lagrace.suite.catalogue import load_catalogue
from tests.scripts.test_real_race import TIMEOUT, Cluster, _version

SHORT = [
    "--set", "run.time_limit_s=30", "--set", "run.settle_s=15", "--set", "run.settle_hold_s=1",
    "--set", "run.settle_quiet_s=1", "--set", "existing.preload=16",
    "--set", "lag.duration_s=2", "--set", "lag.offset_s=0.5", "--set", "burst.offset_s=1",
    "--set", "delete.offset_s=3", "--set", "cluster.sim_grpc_timeout_ms=1000",
]  # fmt: skip


def _matrix(root: Path) -> dict[str, Any]:
    (suite_dir,) = (root / "suite").iterdir()
    assert (suite_dir / "matrix.md").is_file()
    matrix = json.loads((suite_dir / "matrix.json").read_text())
    assert isinstance(matrix, dict)
    return matrix


@pytest.mark.sim
@pytest.mark.timeout(240)
def test_every_scenario_on_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every catalogue scenario runs on the model (no writers: quick) and gets its row; a
    scenario the model does not have is 'not modelled', never 'not found'."""
    argv = ["suite", "--quiet", "--suites-dir", str(tmp_path), "--seed", "3", *SHORT]
    code = main([*argv, "--set", "hammer.workers=0"])
    out = capsys.readouterr().out
    assert code in (0, 2), out
    matrix = _matrix(tmp_path)
    rows = {r["scenario"]: r for r in matrix["rows"]}
    assert set(rows) == {e.name for e in load_catalogue()}
    for entry in load_catalogue():
        (run,) = rows[entry.name]["runs"]
        assert run["qdrant_summary"].startswith("the simulated cluster")
        if not entry.sim_modelled:
            assert run["cell"] in ("not_modelled", "found", "inconclusive"), run
    assert matrix["sim"] is True


@pytest.mark.sim
@pytest.mark.timeout(240)
def test_the_reports_race_is_found_on_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """create-under-strong-writes at 200 strong writes/s through the lagging peer is found on
    the model (buggy mode); the suite exits 1."""
    argv = [
        "suite", "--quiet", "--suites-dir", str(tmp_path), "--seed", "5",
        "--scenario", "create-under-strong-writes", *SHORT, "--set", "hammer.rate=200",
    ]  # fmt: skip
    assert main(argv) == 1, capsys.readouterr().out
    (row,) = _matrix(tmp_path)["rows"]
    assert row["result"] == "found 1/1"


def _suite_on(cluster: Cluster, tmp: Path, *options: str) -> dict[str, Any]:
    argv = ["suite", "--quiet", "--suites-dir", str(tmp), "--nodes", cluster.nodes]
    code = main([*argv, "--logs", cluster.logs, *options])
    assert code in (0, 1, 2), f"suite exit {code}"
    return _matrix(tmp)


@pytest.mark.qdrant
@pytest.mark.timeout(5 * 420 + 600)
def test_delete_under_writes_panics_v1_18_3(tmp_path: Path) -> None:
    """On a v1.18.3 staging build delete-under-writes finds the panic in >= 4 of 5 runs."""
    binary = os.environ["LAGRACE_QDRANT_BIN"]
    if _version(binary)[:2] != (1, 18):
        pytest.skip(f"{binary} is not v1.18.x: the recorded panic is of v1.18.3")
    cluster = Cluster(tmp_path, binary)
    try:
        matrix = _suite_on(cluster, tmp_path, "--scenario", "delete-under-writes", "--repeat", "5")
    finally:
        cluster.stop()
    (row,) = matrix["rows"]
    assert row["counts"]["found"] >= 4, row
    assert matrix["qdrant_version"] == "1.18.3"


@pytest.mark.qdrant
@pytest.mark.timeout(3 * 420 + 600)
def test_reports_race_found_on_v1_16(tmp_path: Path) -> None:
    """On a v1.16.x staging build (gRPC timeout 5000 ms) create-under-strong-writes is found
    within 3 runs, as in the real-race issue."""
    binary = os.environ["LAGRACE_QDRANT_BIN"]
    if _version(binary) >= (1, 17, 0):
        pytest.skip(f"{binary} is v1.17.0+: the lock pile-up needs a v1.16.x build")
    assert TIMEOUT == ("--grpc-timeout-ms", "5000")
    cluster = Cluster(tmp_path, binary)
    try:
        options = ["--scenario", "create-under-strong-writes", "--repeat", "3"]
        matrix = _suite_on(cluster, tmp_path, *options)
    finally:
        cluster.stop()
    (row,) = matrix["rows"]
    assert row["counts"]["found"] >= 1, row
