"""scripts/test_consensus_lag_bug.py: its scenario, option errors, and races against the sim."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from lagrace.errors import UsageError
from tests.scripts.conftest import SCRIPTS, SimCluster, run_script, script_env

SCRIPT = SCRIPTS / "test_consensus_lag_bug.py"
SIGNATURE_WARN = ("has state Some(Dead), but expected Some(Active)", "Cannot deactivate the last")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("test_consensus_lag_bug_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load()


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_script([sys.executable, str(SCRIPT), *args], script_env(), cwd=cwd, timeout=90)


def test_scenario_has_the_reports_parameters() -> None:
    """Target node 2 via node 1, 3x3 collections with the report's names, one create."""
    args = script.build_parser().parse_args(
        ["--nodes", "http://a:1,http://b:2,http://c:3", "--duration", "7", "--settle", "9"]
    )
    s = script.scenario_for(args)
    assert s.cluster.nodes == ("http://a:1", "http://b:2", "http://c:3")
    assert (s.existing.name, s.existing.shards, s.existing.replication_factor) == (
        "existing_collection",
        3,
        3,
    )
    assert (s.burst.prefix, s.burst.count, s.burst.via) == ("new_collection", 1, "1")
    assert (s.burst.shards, s.burst.replication_factor) == (3, 3)
    assert (s.lag.target, s.lag.via, s.lag.duration_s, s.lag.repeat) == ("2", "1", 7.0, 1)
    assert s.run.settle_s == 9.0
    assert s.run.time_limit_s >= s.lag.offset_s + 7.0 + 9.0
    assert s.run.report is False


def test_positional_urls_and_cluster_dir(tmp_path: Path) -> None:
    """URLs as arguments work; --cluster-dir reads run_cluster.sh's shell-quoted cluster.env."""
    parser = script.build_parser()
    s = script.scenario_for(parser.parse_args(["http://a:1", "http://b:2"]))
    assert s.cluster.nodes == ("http://a:1", "http://b:2")
    (tmp_path / "cluster.env").write_text(
        "KIND=qdrant\nNODES=http://a:1\\,http://b:2\nLOGS='/x y/peer-1.log,/x y/peer-2.log'\n"
    )
    s = script.scenario_for(parser.parse_args(["--cluster-dir", str(tmp_path)]))
    assert s.cluster.nodes == ("http://a:1", "http://b:2")
    assert s.cluster.logs == ("/x y/peer-1.log", "/x y/peer-2.log")


def test_writes_are_the_recipe_that_reproduced_on_v1_16_2() -> None:
    """Strong, wait=true, through the lagging node 2, 8 workers; --ordering weak is the control."""
    parser = script.build_parser()
    h = script.scenario_for(
        parser.parse_args(["--nodes", "http://a:1,http://b:2,http://c:3"])
    ).hammer
    assert (h.ordering, h.wait, h.peers, h.workers, h.rate, h.batch) == (
        "strong",
        "true",
        "lagging",
        8,
        25.0,
        10,
    )
    weak = script.scenario_for(
        parser.parse_args(["http://a:1", "http://b:2", "--ordering", "weak"])
    )
    assert weak.hammer.ordering == "weak"


def test_without_nodes_it_uses_the_cluster_run_cluster_sh_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./cluster/cluster.env (or $LAGRACE_CLUSTER_DIR) is used; --sim races the model instead."""
    (tmp_path / "cluster").mkdir()
    (tmp_path / "cluster" / "cluster.env").write_text("NODES=http://a:1\\,http://b:2\nLOGS=\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAGRACE_CLUSTER_DIR", raising=False)
    parser = script.build_parser()
    assert script.scenario_for(parser.parse_args([])).cluster.nodes == ("http://a:1", "http://b:2")
    assert script.scenario_for(parser.parse_args(["--sim"])).cluster.nodes == ()
    monkeypatch.setenv("LAGRACE_CLUSTER_DIR", str(tmp_path / "elsewhere"))
    assert script.scenario_for(parser.parse_args([])).cluster.nodes == ()


def test_the_systems_python3_runs_it(tmp_path: Path) -> None:
    """Run with an interpreter that cannot import lagrace, it re-runs itself with .venv's."""
    base = Path(sys.base_prefix) / "bin" / "python3"
    if not base.exists():
        pytest.skip(f"no base interpreter at {base}")
    env = script_env()
    env.pop("PYTHONPATH", None)
    env.pop("LAGRACE_SCRIPT_REEXEC", None)
    check = subprocess.run(
        [str(base), "-c", "import importlib.util as u; print(u.find_spec('lagrace') is None)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    if check.stdout.strip() != "True":
        pytest.skip(f"{base} imports lagrace itself; nothing to re-run")
    result = run_script([str(base), str(SCRIPT), "--help"], env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: test_consensus_lag_bug.py" in result.stdout
    assert "No module named" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nodes", "http://a:1,http://b:2", "--mode", "buggy"], "simulated cluster only"),
        (["--logs", "/a.log"], "--logs needs --nodes"),
        (["http://a:1", "--nodes", "http://b:2"], "either as arguments"),
        (["--cluster-dir", "/nonexistent-dir"], "no run_cluster.sh cluster"),
    ],
)
def test_option_errors(argv: list[str], message: str) -> None:
    """Contradictory options raise a UsageError naming the problem."""
    with pytest.raises(UsageError, match=message):
        script.scenario_for(script.build_parser().parse_args(argv))


def test_main_turns_errors_into_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    """main() prints one error line and returns 3 for usage errors, argparse's included."""
    assert script.main(["--logs", "/a.log"]) == 3
    assert "--logs needs --nodes" in capsys.readouterr().err
    assert script.main(["--duration", "soon"]) == 3


ATTEMPTS = 3  # the model, like v1.16.2, reproduces in most runs (docs/simulated-cluster.md)
FAST_SIM = ["--duration", "4", "--sim-grpc-timeout-ms", "1000"]


def _reproduce(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the script up to ATTEMPTS times until it reproduces; every run must reach a verdict."""
    outputs = []
    for _ in range(ATTEMPTS):
        result = _run(args, cwd)
        assert result.returncode in (0, 1), result.stdout + result.stderr
        assert "slow-down proposed" in result.stdout
        outputs.append(result.stdout)
        if result.returncode == 1:
            assert "verdict: reproduced (exit 1)" in result.stdout
            return result
    pytest.fail(f"not reproduced in {ATTEMPTS} runs:\n" + "\n---\n".join(outputs))


@pytest.mark.sim
def test_embedded_buggy_sim_reproduces(tmp_path: Path) -> None:
    """No --nodes, buggy mode: exit 1 within ATTEMPTS runs; findings.json agrees."""
    _reproduce(["--mode", "buggy", *FAST_SIM, "--runs-dir", str(tmp_path)], tmp_path)
    found = [json.loads(p.read_text()) for p in tmp_path.glob("consensus-lag-bug/*/findings.json")]
    assert any(d["verdict"] == "reproduced" and d["exit_code"] == 1 for d in found)


@pytest.mark.sim
def test_embedded_fixed_sim_does_not_reproduce(tmp_path: Path) -> None:
    """No --nodes, fixed mode: exit 0 and a not-reproduced verdict."""
    result = _run(
        ["--mode", "fixed", *FAST_SIM, "--seed", "5", "--runs-dir", str(tmp_path)], tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: not reproduced (exit 0)" in result.stdout
    assert not any(text in result.stdout for text in SIGNATURE_WARN)


@pytest.mark.sim
@pytest.mark.parametrize("sim_cluster", ["buggy"], indirect=True)
def test_run_cluster_sim_via_cluster_dir_reproduces(
    tmp_path: Path, sim_cluster: SimCluster
) -> None:
    """Against a run_cluster.sh --sim cluster (nodes and logs from --cluster-dir): exit 1."""
    _reproduce(
        ["--cluster-dir", str(sim_cluster.dir), "--duration", "4", "--runs-dir", str(tmp_path)],
        tmp_path,
    )
