"""A short bench against a real Qdrant cluster (``qdrant`` tier: ``LAGRACE_QDRANT_BIN``).

Starts ``scripts/run_cluster.sh 3`` from the staging build, runs ``lagrace bench run`` for a
few seconds of no-ops and checks that every peer's apply progress was measured. The numbers
themselves are for docs/bench.md, not for assertions.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.scripts.conftest import REPO, RUN_CLUSTER, free_base_port, run_script, script_env

pytestmark = pytest.mark.qdrant


def test_short_noop_bench_on_a_real_cluster(tmp_path: Path) -> None:
    """Three seconds of idle no-ops: exit 0/1/2 (not 3), every peer's applied time measured."""
    env = script_env({"QDRANT_BIN": os.environ["LAGRACE_QDRANT_BIN"]})
    cluster, base = tmp_path / "cluster", free_base_port(9)
    started = run_script(
        [str(RUN_CLUSTER), "3", "--dir", str(cluster), "--base-port", str(base)],
        env,
        cwd=tmp_path,
        timeout=180,
    )
    assert started.returncode == 0, started.stderr
    try:
        nodes = ",".join(f"http://127.0.0.1:{base + 3 * i + 2}" for i in range(3))
        logs = ",".join(str(cluster / f"peer-{k}.log") for k in (1, 2, 3))
        runs = tmp_path / "runs"
        cmd = [sys.executable, "-m", "lagrace", "bench", "run", "--nodes", nodes, "--logs", logs]
        cmd += ["--duration", "3", "--warmup", "1", "--runs-dir", str(runs)]
        done = run_script(cmd, env, cwd=REPO, timeout=180)
        assert done.returncode in (0, 1, 2), done.stdout + done.stderr
        (result_file,) = runs.glob("bench/*/bench.json")
        result = json.loads(result_file.read_text())
        applied = result["results"]["noop"]["applied_poll"]
        assert set(applied["peers"]) == {"1", "2", "3"}
        assert result["entries"]["measured"] > 0
    finally:
        run_script([str(RUN_CLUSTER), "stop", "--dir", str(cluster)], env, cwd=tmp_path)
