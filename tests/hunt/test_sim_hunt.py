"""`lagrace hunt` end to end on the embedded simulated cluster (a model), and on a real one.

The simulated cluster's window moves whenever the model changes (issue 10 rewrote it around the
table-of-contents lock pile-up), so these tests check what a hunt must do, not where the window
is: the sweep finds a reproducing and a never-reproducing rate, the bracket lies between them,
the outputs are written, and the minimal scenario replays with ``lagrace run --scenario``.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest

from lagrace.cli import main
from lagrace.scenario import scenario_from_file
from tests.scripts.conftest import RUN_CLUSTER, free_base_port, run_script, script_env

# a short race: 2 s slow-down, a 500 ms internal gRPC timeout (three attempts of 2.5 s), a
# short settle; 8 strong-ordering writers through the lagging peer (the defaults)
FAST = [
    "--set", "run.time_limit_s=30", "--set", "run.settle_s=12", "--set", "run.settle_hold_s=1",
    "--set", "run.settle_quiet_s=2", "--set", "existing.preload=32",
    "--set", "lag.duration_s=2", "--set", "lag.offset_s=0.5", "--set", "burst.offset_s=1",
]  # fmt: skip
SIM = ["--set", "cluster.sim_grpc_timeout_ms=500"]


@pytest.mark.sim
@pytest.mark.timeout(400)
def test_sim_hunt_over_the_write_rate_and_its_minimal_scenario_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A short seeded hunt over hammer.rate brackets the boundary, writes every output, and
    its minimal.toml replays with `lagrace run --scenario` (one hunt serves both checks)."""
    argv = [
        "hunt", "--quiet", "--hunts-dir", str(tmp_path), "--name", "rate", "--seed", "11",
        "--param", "hammer.rate=1:200:log", "--trials", "1", "--boundary-trials", "1",
        "--coarse-points", "3", "--resolution", "100", "--budget-trials", "4", "--no-shrink",
        *FAST, *SIM,
    ]  # fmt: skip
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    (hunt_dir,) = (tmp_path / "rate").iterdir()
    state = json.loads((hunt_dir / "hunt.json").read_text())
    assert len(state["trials"]) <= 4
    outcomes = {t["config"]["hammer.rate"]: t["outcome"] for t in state["trials"]}
    assert outcomes[200.0] == "reproduced"
    assert outcomes[1.0] == "not_reproduced"
    assert state["window"][0].startswith("hammer.rate >= ")
    for t in state["trials"]:
        config = json.loads((hunt_dir / t["run_dir"] / "config.json").read_text())
        assert config["sim"] is not None  # every trial raced its own, fresh model
        assert config["seed"] == t["seed"]
    for name in ("table.md", "plots/hammer.rate.png", "minimal.toml", "index.html"):
        assert (hunt_dir / name).is_file(), name
    minimal = hunt_dir / "minimal.toml"
    assert scenario_from_file(minimal).hammer.rate == 200.0
    runs = str(tmp_path / "r")
    for seed in ("5", "6"):  # the model reproduces in most runs, not all
        code = main(
            ["run", "--scenario", str(minimal), "--quiet", "--runs-dir", runs, "--seed", seed]
        )
        if code == 1:
            break
    assert code == 1, capsys.readouterr().out


def _value(output: str, key: str) -> str:
    line = next(x for x in output.splitlines() if x.startswith(f"{key}="))
    return shlex.split(line.partition("=")[2])[0]


@pytest.mark.qdrant
@pytest.mark.timeout(1800)
def test_real_cluster_short_hunt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On a real staging cluster (scripts/run_cluster.sh 3 from LAGRACE_QDRANT_BIN, gRPC timeout
    5000 ms), a three-trial hunt over hammer.rate completes, clean between trials, and writes
    its table."""
    env = script_env({"QDRANT_BIN": os.environ["LAGRACE_QDRANT_BIN"]})
    cluster_dir = tmp_path / "cluster"
    args = [str(RUN_CLUSTER), "3", "--dir", str(cluster_dir), "--grpc-timeout-ms", "5000"]
    started = run_script(
        [*args, "--base-port", str(free_base_port(9))], env, cwd=tmp_path, timeout=180
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        nodes, logs = _value(started.stdout, "NODES"), _value(started.stdout, "LOGS")
        argv = [
            "hunt", "--quiet", "--hunts-dir", str(tmp_path), "--name", "real", "--seed", "1",
            "--param", "hammer.rate=5:40", "--trials", "1", "--coarse-points", "3",
            "--budget-trials", "3", "--no-shrink", "--nodes", nodes, "--logs", logs,
        ]  # fmt: skip
        code = main(argv)
        out = capsys.readouterr().out
        assert code in (0, 2), out
        (hunt_dir,) = (tmp_path / "real").iterdir()
        state = json.loads((hunt_dir / "hunt.json").read_text())
        assert len(state["trials"]) == 3
        assert all(t["outcome"] != "discarded" for t in state["trials"])
        assert (hunt_dir / "table.md").is_file()
    finally:
        stop = [str(RUN_CLUSTER), "stop", "--dir", str(cluster_dir)]
        run_script(stop, env, cwd=tmp_path, timeout=60)
