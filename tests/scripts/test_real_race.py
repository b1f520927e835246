"""`lagrace run` with default options against real Qdrant: the race on v1.16.x, none on v1.17.0+.

``qdrant`` tier (``LAGRACE_QDRANT_BIN``, a v1.16.x staging build): the default race reproduces
within :data:`ATTEMPTS` runs (the test prints how many it took) and shows the chain; the
``--ordering weak`` control does not reproduce. ``qdrant_fixed`` tier
(``LAGRACE_QDRANT_BIN_FIXED``, a v1.17.0+ staging build): the default race does not reproduce.
Both start ``scripts/run_cluster.sh 3 --grpc-timeout-ms 5000`` (peer ids 101..103), so a freeze
lasts ~21 s, not ~3 min. Measured rates are in docs/real-cluster.md §5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import REPO, RUN_CLUSTER, free_base_port, run_script, script_env

ATTEMPTS = 3  # measured 5 of 5 on a v1.16.2 debug build (docs/real-cluster.md §5)
RUN_TIMEOUT_S = 420.0
TIMEOUT = ("--grpc-timeout-ms", "5000")


def _version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    words = (out.stdout or out.stderr).split()
    text = words[-1] if words else "0.0.0"
    return tuple(int(p) for p in text.lstrip("v").split(".")[:3] if p.isdigit())


class Cluster:
    """A run_cluster.sh cluster of one test."""

    def __init__(self, tmp: Path, binary: str) -> None:
        self.tmp, self.dir = tmp, tmp / "cluster"
        self.env = script_env({"QDRANT_BIN": binary})
        base = free_base_port(9)
        started = run_script(
            [str(RUN_CLUSTER), "3", "--dir", str(self.dir), "--base-port", str(base), *TIMEOUT],
            self.env,
            cwd=tmp,
            timeout=180,
        )
        assert started.returncode == 0, started.stderr
        self.nodes = ",".join(f"http://127.0.0.1:{base + 3 * i + 2}" for i in range(3))
        self.logs = ",".join(str(self.dir / f"peer-{k}.log") for k in (1, 2, 3))

    def race(self, *options: str) -> tuple[int, dict[str, Any], str]:
        """One ``lagrace run`` with these options: exit code, findings.json, output."""
        runs = self.tmp / "runs"
        cmd = [sys.executable, "-m", "lagrace", "run", "--nodes", self.nodes, "--logs", self.logs]
        cmd += ["--runs-dir", str(runs), "--quiet", "--no-report", *options]
        result = run_script(cmd, self.env, cwd=REPO, timeout=RUN_TIMEOUT_S)
        latest = max(runs.glob("*/*/findings.json"), key=lambda p: p.stat().st_mtime)
        return result.returncode, json.loads(latest.read_text()), result.stdout + result.stderr

    def stop(self) -> None:
        """Stop the peers."""
        run_script([str(RUN_CLUSTER), "stop", "--dir", str(self.dir)], self.env, cwd=self.tmp)


@pytest.fixture
def buggy(tmp_path: Path) -> Iterator[Cluster]:
    """A 3-peer cluster of $LAGRACE_QDRANT_BIN (must be v1.16.x)."""
    binary = os.environ["LAGRACE_QDRANT_BIN"]
    if _version(binary) >= (1, 17, 0):
        pytest.skip(f"{binary} is v1.17.0+: the lock pile-up needs a v1.16.x build")
    cluster = Cluster(tmp_path, binary)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def fixed(tmp_path: Path) -> Iterator[Cluster]:
    """A 3-peer cluster of $LAGRACE_QDRANT_BIN_FIXED (must be v1.17.0+)."""
    binary = os.environ["LAGRACE_QDRANT_BIN_FIXED"]
    assert _version(binary) >= (1, 17, 0), f"{binary} is not v1.17.0+"
    cluster = Cluster(tmp_path, binary)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.qdrant
@pytest.mark.timeout(ATTEMPTS * RUN_TIMEOUT_S + RUN_TIMEOUT_S + 240)
def test_default_race_reproduces_on_v1_16_and_weak_ordering_does_not(
    buggy: Cluster, record_property: Callable[[str, object], None]
) -> None:
    """Default options: reproduced (exit 1) within ATTEMPTS runs, with the chain and the
    mechanism named; --ordering weak: not reproduced (exit 0)."""
    outcomes = []
    for attempt in range(1, ATTEMPTS + 1):
        code, findings, output = buggy.race()
        outcomes.append(code)
        if code == 1:
            record_property("attempts", f"reproduced on attempt {attempt} of {ATTEMPTS}")
            assert findings["mechanism"], output
            assert any(s["entry"] is not None for s in findings["stalls"]), findings["stalls"]
            assert any("consensus apply stalled" in step for step in findings["chain"])
            assert "mechanism: table-of-contents lock pile-up" in output
            assert "1.16" in str(findings["cluster"])
            break
    else:
        pytest.fail(f"not reproduced in {ATTEMPTS} runs (exit codes {outcomes})")
    code, findings, output = buggy.race("--ordering", "weak")
    assert code == 0, output
    assert findings["mechanism"] is None


@pytest.mark.qdrant_fixed
@pytest.mark.timeout(RUN_TIMEOUT_S + 240)
def test_default_race_does_not_reproduce_on_v1_17_or_later(fixed: Cluster) -> None:
    """The same default race on a v1.17.0+ build: not reproduced, no stall, no mechanism."""
    code, findings, output = fixed.race()
    assert code == 0, output
    assert findings["mechanism"] is None
    assert findings["stalls"] == []
