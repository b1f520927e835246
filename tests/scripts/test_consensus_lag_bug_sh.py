"""scripts/test_consensus_lag_bug.sh: usage errors, and the reproduction against the sim."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import SCRIPTS, SimCluster, run_script, script_env

SCRIPT = SCRIPTS / "test_consensus_lag_bug.sh"
WARN_LINE = re.compile(
    r"^  node \d: \S+Z\s+WARN .*(has state Some\(Dead\), but expected Some\(Active\)"
    r"|Cannot deactivate the last active replica)",
    re.MULTILINE,
)


def _collections(url: str) -> set[str]:
    with urllib.request.urlopen(url + "/collections", timeout=5) as resp:
        body: Any = json.loads(resp.read())
    return {c["name"] for c in body["result"]["collections"]}


def _run(args: list[str], cwd: Path, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
    return run_script([str(SCRIPT), *args], script_env(), cwd=cwd, timeout=timeout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no nodes given"),
        (["http://127.0.0.1:9"], "need at least 2 nodes"),
        (["--nodes", "a,b"], "not a node URL: a"),
        (["--nodes", "http://127.0.0.1:9,http://127.0.0.1:9", "x"], "either as arguments"),
        (["--nodes", "http://h:1,http://h:2", "--logs", "/nonexistent"], "--logs has 1 files"),
        (["--nodes", "http://h:1,http://h:2", "--duration", "301"], "--duration must be in"),
        (["--nodes", "http://h:1,http://h:2", "--duration", "x"], "must be a number"),
        (["--nodes", "http://h:1,http://h:2", "--workers", "99"], "--workers must be"),
        (["--frobnicate"], "unknown option"),
        (["--nodes", "http://127.0.0.1:9,http://127.0.0.1:9"], "does not answer GET /cluster"),
    ],
)
def test_usage_and_environment_errors_exit_3(tmp_path: Path, args: list[str], message: str) -> None:
    """Bad options, missing nodes or unreachable nodes: exit 3 with the reason."""
    result = _run(args, tmp_path, timeout=30)
    assert result.returncode == 3
    assert message in result.stderr


def test_help_exits_0(tmp_path: Path) -> None:
    """--help prints the usage and exits 0."""
    result = _run(["--help"], tmp_path, timeout=10)
    assert result.returncode == 0
    assert "--duration S" in result.stdout


@pytest.fixture
def no_staging_sim(tmp_path: Path) -> Iterator[list[str]]:
    """``lagrace sim --no-staging`` (a build without test_slow_down); its node URLs."""
    with subprocess.Popen(
        [sys.executable, "-m", "lagrace", "sim", "--nodes", "3", "--json", "--no-staging"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    ) as proc:
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            yield [n["url"] for n in ready["nodes"]]
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.sim
def test_refuses_a_cluster_without_staging(tmp_path: Path, no_staging_sim: list[str]) -> None:
    """A cluster without the staging feature: exit 3 before anything is created."""
    result = _run(["--nodes", ",".join(no_staging_sim)], tmp_path, timeout=30)
    assert result.returncode == 3
    assert "without the staging feature" in result.stderr
    assert _collections(no_staging_sim[0]) == set()


# How many times the buggy race may be run before it must have reproduced: the model, like
# v1.16.2, reproduces in most runs, not all (docs/simulated-cluster.md). Every attempt that
# reproduces is checked in full; the WARN lines, when there are any, must be verbatim log lines.
ATTEMPTS = 3
PRINTED_WARN = re.compile(r"^  node (\d): (\S+Z\s+WARN .*)$", re.MULTILINE)


def _log_lines(paths: list[str]) -> list[set[str]]:
    return [set(Path(p).read_text(errors="replace").splitlines()) for p in paths]


@pytest.mark.sim
@pytest.mark.parametrize("sim_cluster", ["buggy"], indirect=True)
def test_buggy_sim_reproduces_and_prints_what_it_saw(
    tmp_path: Path, sim_cluster: SimCluster
) -> None:
    """Buggy sim, --nodes/--logs, the default recipe: exit 1 within ATTEMPTS runs, the timeline
    printed, every printed WARN a line of its node's log, collections gone after each run."""
    args = [
        "--nodes",
        ",".join(sim_cluster.nodes),
        "--logs",
        ",".join(sim_cluster.logs),
        "--duration",
        "4",
        "--settle",
        "30",
    ]
    outputs: list[str] = []
    for _ in range(ATTEMPTS):
        result = _run(args, tmp_path)
        outputs.append(result.stdout)
        assert result.returncode in (0, 1), result.stdout + result.stderr
        assert "test_slow_down sent through node 1" in result.stdout
        assert "wait=true, ordering=strong, through node 2" in result.stdout
        assert "create of new_collection returned HTTP" in result.stdout, result.stdout
        assert _collections(sim_cluster.nodes[0]) == set()
        logs = _log_lines(sim_cluster.logs)
        printed = PRINTED_WARN.findall(result.stdout)
        for node, line in printed:
            assert line in logs[int(node) - 1], (node, line)
        if result.returncode == 1:
            assert "verdict: REPRODUCED" in result.stdout
            assert re.search(
                r"sees the replica on peer \d+ of shard\(s\) [\d,]+: Active -> ", result.stdout
            ), result.stdout
            return
    pytest.fail(f"not reproduced in {ATTEMPTS} runs:\n" + "\n---\n".join(outputs))


@pytest.mark.sim
@pytest.mark.parametrize("sim_cluster", ["fixed"], indirect=True)
def test_fixed_sim_does_not_reproduce(tmp_path: Path, sim_cluster: SimCluster) -> None:
    """Fixed sim via --cluster-dir: exit 0, no WARN; an old existing_collection needs --recreate."""
    url = sim_cluster.nodes[0]
    body = json.dumps({"vectors": {"size": 4, "distance": "Cosine"}}).encode()
    req = urllib.request.Request(
        url + "/collections/existing_collection",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=30).close()
    refused = _run(["--cluster-dir", str(sim_cluster.dir), "--duration", "4"], tmp_path)
    assert refused.returncode == 3
    assert "already exists" in refused.stderr
    assert "--recreate" in refused.stderr

    result = _run(
        ["--cluster-dir", str(sim_cluster.dir), "--duration", "4", "--recreate", "--quiet"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: NOT REPRODUCED" in result.stdout
    assert "WARN lines" not in result.stdout
    assert not WARN_LINE.search(result.stdout)
    assert "settled:" in result.stdout
    assert _collections(url) == set()


@pytest.mark.sim
@pytest.mark.parametrize("sim_cluster", ["fixed"], indirect=True)
def test_keep_leaves_the_collections(tmp_path: Path, sim_cluster: SimCluster) -> None:
    """--keep: both collections stay, and the script says the next run needs --recreate."""
    result = _run(
        ["--cluster-dir", str(sim_cluster.dir), "--duration", "2", "--keep", "--quiet"], tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "needs --recreate" in result.stderr
    assert _collections(sim_cluster.nodes[0]) == {"existing_collection", "new_collection"}
