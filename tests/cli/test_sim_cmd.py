"""``lagrace sim``: the JSON ready line, SIGTERM exit, option errors."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from lagrace.cli import main
from lagrace.cli.sim_cmd import format_ready_json, format_ready_table
from lagrace.sim.cluster import ServedPeer
from lagrace.sim.config import SimConfig
from lagrace.sim.mode import Mode

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.sim
@pytest.mark.timeout(30)
def test_json_line_then_sigterm_exits_zero(tmp_path: Path) -> None:
    """The child prints one JSON line, answers ``GET /`` and exits 0 on SIGTERM."""
    command = [sys.executable, "-m", "lagrace", "sim", "--nodes", "3", "--json"]
    command += ["--log-dir", str(tmp_path), "--grpc-timeout-ms", "5000"]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            assert ready["model"] == "lagrace simulated Qdrant cluster (a model, not Qdrant)"
            assert ready["mode"] == "buggy"
            assert ready["staging"] is True
            assert ready["version"] == "1.16.2"
            assert ready["grpc_timeout_ms"] == 5000
            assert [n["node"] for n in ready["nodes"]] == [1, 2, 3]
            assert [n["peer_id"] for n in ready["nodes"]] == [101, 102, 103]
            assert all(Path(n["log"]).is_file() for n in ready["nodes"])
            with urllib.request.urlopen(ready["nodes"][0]["url"] + "/", timeout=5) as response:
                root = json.loads(response.read())
            assert root["version"] == "1.16.2"
            assert "lagrace simulated model" in root["title"]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_bad_options_are_one_line_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """``--nodes 0`` and a bad ``--peer-ids`` exit 3 with one line on stderr."""
    assert main(["sim", "--nodes", "0"]) == 3
    assert main(["sim", "--nodes", "2", "--peer-ids", "1,x"]) == 3
    assert main(["sim", "--nodes", "2", "--peer-ids", "1,2,3"]) == 3
    assert main(["sim", "--nodes", "2", "--grpc-timeout-ms", "0"]) == 3
    assert main(["sim", "--nodes", "2", "--peer-ids", "1,2", "--random-peer-ids"]) == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5
    assert all(line.startswith("lagrace: error: ") for line in lines)


def test_ready_formats_list_every_node() -> None:
    """The JSON line and the table carry url, peer id and log of every node."""
    config = SimConfig(seed=9)
    nodes = [ServedPeer(1, "http://127.0.0.1:6333", 77, Path("/tmp/peer-1.log"))]
    assert json.loads(format_ready_json(config, nodes)) == {
        "model": "lagrace simulated Qdrant cluster (a model, not Qdrant)",
        "mode": "buggy",
        "version": "1.16.2",
        "grpc_timeout_ms": 60000,
        "seed": 9,
        "staging": True,
        "nodes": [
            {"node": 1, "url": "http://127.0.0.1:6333", "peer_id": 77, "log": "/tmp/peer-1.log"}
        ],
    }
    table = format_ready_table(config, nodes)
    assert "a model, not Qdrant" in table
    assert "http://127.0.0.1:6333" in table
    assert "/tmp/peer-1.log" in table


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (101, 102, 103)),
        (["--peer-ids", "7,8,9"], (7, 8, 9)),
        (["--random-peer-ids", "--seed", "5"], None),
    ],
)
def test_peer_ids_default_to_101_up(argv: list[str], expected: tuple[int, ...] | None) -> None:
    """Default ids 101.. (node 3 the ordering leader); explicit ids; seeded random ids."""
    from lagrace.cli import sim_cmd

    parser = argparse.ArgumentParser()
    sim_cmd.register(parser.add_subparsers())
    config = sim_cmd.config_from_args(parser.parse_args(["sim", *argv]))
    assert config.resolved_peer_ids() == expected
    assert config.grpc_timeout_ms == 60_000


def test_mode_reports_its_modelled_version() -> None:
    """``GET /`` reports 1.16.2 for buggy mode and 1.17.0 for fixed mode."""
    assert Mode.BUGGY.version == "1.16.2"
    assert Mode.FIXED.version == "1.17.0"
