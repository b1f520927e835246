"""scripts/run_cluster.sh: argument and environment errors, and a fake-qdrant cluster's life."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.scripts.conftest import (
    RUN_CLUSTER,
    SCRIPTS,
    FakeCluster,
    alive,
    run_script,
    script_env,
)

SHELL_SCRIPTS = ("run_cluster.sh", "test_consensus_lag_bug.sh")


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())["result"]


def _line(stdout: str, prefix: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(prefix))


def _start(
    cluster: FakeCluster, *args: str, n: int = 3, **env: str
) -> subprocess.CompletedProcess[str]:
    return cluster.run(str(n), "--base-port", str(cluster.base_port), *args, env=cluster.env(**env))


@pytest.mark.parametrize("name", SHELL_SCRIPTS)
def test_shell_scripts_parse(name: str) -> None:
    """bash -n accepts each shell script."""
    subprocess.run(["bash", "-n", str(SCRIPTS / name)], check=True, timeout=10)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("name", SHELL_SCRIPTS)
def test_shell_scripts_pass_shellcheck(name: str) -> None:
    """shellcheck finds nothing in each shell script."""
    result = subprocess.run(
        ["shellcheck", str(SCRIPTS / name)], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_without_qdrant_bin_says_so_in_one_line(tmp_path: Path) -> None:
    """No $QDRANT_BIN: one line naming it, exit 3, no directory created."""
    result = run_script([str(RUN_CLUSTER), "3", "--dir", "c"], script_env(), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "QDRANT_BIN is not set" in result.stderr
    assert not (tmp_path / "c").exists()


def test_qdrant_bin_not_executable(tmp_path: Path) -> None:
    """A $QDRANT_BIN that is not an executable file is refused with exit 3."""
    plain = tmp_path / "qdrant"
    plain.write_text("not a program")
    result = run_script(
        [str(RUN_CLUSTER), "3", "--dir", "c"], script_env({"QDRANT_BIN": str(plain)}), cwd=tmp_path
    )
    assert result.returncode == 3
    assert "not an executable file" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "run_cluster.sh N"),
        (["three"], "unknown command or node count"),
        (["0"], "N must be 1.."),
        (["3", "--base-port", "x"], "--base-port must be a number"),
        (["3", "--base-port", "65530"], "out of range"),
        (["3", "--mode", "buggy"], "--mode/--seed need --sim"),
        (["3", "--sim", "--mode", "odd"], "--mode must be buggy or fixed"),
        (["3", "--timeout", "0"], "--timeout must be a positive"),
        (["3", "--dir"], "--dir needs a value"),
        (["3", "--frobnicate"], "unknown argument"),
        (["kill"], "kill needs a peer number"),
        (["status", "--sim"], "only go with starting"),
        (["status"], "no cluster in"),
        (["stop"], "no cluster in"),
        (["restart", "1"], "no cluster in"),
    ],
)
def test_argument_errors_exit_3(tmp_path: Path, args: list[str], message: str) -> None:
    """Bad arguments (or no cluster to act on) give exit 3 and say what is wrong."""
    fake = tmp_path / "qdrant"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    result = run_script(
        [str(RUN_CLUSTER), *args],
        script_env({"QDRANT_BIN": str(fake), "LAGRACE_CLUSTER_DIR": str(tmp_path / "c")}),
        cwd=tmp_path,
    )
    assert result.returncode == 3
    assert message in result.stderr


def test_help_exits_0(tmp_path: Path) -> None:
    """--help prints the usage on stdout and exits 0."""
    result = run_script([str(RUN_CLUSTER), "--help"], script_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert "run_cluster.sh status" in result.stdout


def test_start_uses_port_scheme_env_and_bootstrap(fake_cluster: FakeCluster) -> None:
    """Peers get p2p/gRPC/HTTP = P+3(K-1)+0/1/2, cluster env, --uri and --bootstrap, own cwd."""
    result = _start(fake_cluster)
    assert result.returncode == 0, result.stderr
    base = fake_cluster.base_port
    nodes = [f"http://127.0.0.1:{base + 3 * i + 2}" for i in range(3)]
    logs = [str(fake_cluster.dir / f"peer-{k}.log") for k in (1, 2, 3)]
    assert _line(result.stdout, "NODES=") == "NODES=" + ",".join(nodes)
    assert _line(result.stdout, "LOGS=") == "LOGS=" + ",".join(logs)
    assert _line(result.stdout, "lagrace run") == (
        f"lagrace run --nodes {','.join(nodes)} --logs {','.join(logs)}"
    )
    for k in (1, 2, 3):
        (start,) = fake_cluster.starts(k)
        p2p = base + 3 * (k - 1)
        expected_argv = ["--uri", f"http://127.0.0.1:{p2p}"]
        if k > 1:
            expected_argv += ["--bootstrap", f"http://127.0.0.1:{base}"]
        assert start["argv"] == expected_argv
        peer_dir = fake_cluster.dir / f"peer-{k}"
        assert start["cwd"] == str(peer_dir)
        assert not (peer_dir / "config").exists()
        env = start["env"]
        assert env["QDRANT__CLUSTER__ENABLED"] == "true"
        assert env["QDRANT__SERVICE__HOST"] == "127.0.0.1"
        assert env["QDRANT__CLUSTER__P2P__PORT"] == str(p2p)
        assert env["QDRANT__SERVICE__GRPC_PORT"] == str(p2p + 1)
        assert env["QDRANT__SERVICE__HTTP_PORT"] == str(p2p + 2)
        assert env["QDRANT__STORAGE__STORAGE_PATH"] == str(peer_dir / "storage")
        assert env["QDRANT__STORAGE__SNAPSHOTS_PATH"] == str(peer_dir / "snapshots")
        assert "QDRANT__LOGGER__COLOR" not in env  # Qdrant 1.18 rejects it from the environment
        assert env["QDRANT__TELEMETRY_DISABLED"] == "true"
        assert env["QDRANT__CLUSTER__PEER_ID"] == str(100 + k)  # as in the original report
        assert "QDRANT__CLUSTER__GRPC_TIMEOUT_MS" not in env  # Qdrant's default unless asked
        assert env["RUN_MODE"] == "production"
        for target in ("consensus_manager=debug", "staging=debug", "toc=debug"):
            assert target in env["QDRANT__LOG_LEVEL"]
        pid = int((fake_cluster.dir / f"peer-{k}.pid").read_text())
        assert pid == start["pid"]
        assert alive(pid)
        assert "fake peer" in Path(logs[k - 1]).read_text()
    leaders = {_get(url + "/cluster")["raft_info"]["leader"] for url in nodes}
    assert len(leaders) == 1


def test_status_kill_restart_stop(fake_cluster: FakeCluster) -> None:
    """status reports every peer; kill -9 one, status notices; restart it; stop ends them all."""
    assert _start(fake_cluster).returncode == 0
    status = fake_cluster.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count("running, peer_id") == 3
    assert "lagrace run --nodes" in status.stdout
    first_pid = fake_cluster.starts(2)[0]["pid"]
    peer_id = _get(f"http://127.0.0.1:{fake_cluster.base_port + 5}/cluster")["peer_id"]

    killed = fake_cluster.run("kill", "2")
    assert killed.returncode == 0, killed.stderr
    assert not alive(first_pid)
    status = fake_cluster.run("status")
    assert status.returncode == 1
    assert "peer 2: " in status.stdout
    assert "not running, GET /cluster: down" in status.stdout
    assert fake_cluster.run("kill", "2").returncode == 1  # nothing left to kill

    restarted = fake_cluster.run("restart", "2")
    assert restarted.returncode == 0, restarted.stderr
    second = fake_cluster.starts(2)[1]
    assert alive(second["pid"])
    assert second["pid"] != first_pid
    assert _get(f"http://127.0.0.1:{fake_cluster.base_port + 5}/cluster")["peer_id"] == peer_id
    assert fake_cluster.run("restart", "2").returncode == 3  # already running
    assert fake_cluster.run("kill", "4").returncode == 3  # no such peer
    assert fake_cluster.run("status").returncode == 0

    pids = [s["pid"] for k in (1, 2, 3) for s in fake_cluster.starts(k)[-1:]]
    stopped = fake_cluster.run("stop")
    assert stopped.returncode == 0
    assert "stopped 3 process(es)" in stopped.stdout
    assert not any(alive(pid) for pid in pids)
    assert not list(fake_cluster.dir.glob("*.pid"))
    assert (fake_cluster.dir / "peer-1.log").exists()  # logs and data are kept
    assert fake_cluster.run("status").returncode == 1


def test_refuses_to_start_twice_and_restarts_fresh_after_stop(fake_cluster: FakeCluster) -> None:
    """A second start while running is refused (3); after stop, a start begins afresh."""
    assert _start(fake_cluster).returncode == 0
    again = _start(fake_cluster)
    assert again.returncode == 3
    assert "already running" in again.stderr
    assert fake_cluster.run("stop").returncode == 0
    shutil.rmtree(fake_cluster.registry)
    assert _start(fake_cluster).returncode == 0
    assert len(fake_cluster.starts(1)) == 1  # a fresh storage directory


def test_refuses_a_foreign_non_empty_directory(fake_cluster: FakeCluster) -> None:
    """A non-empty directory without cluster.env is not used (and not wiped)."""
    fake_cluster.dir.mkdir()
    (fake_cluster.dir / "precious.txt").write_text("keep me")
    result = _start(fake_cluster)
    assert result.returncode == 3
    assert "refusing" in result.stderr
    assert (fake_cluster.dir / "precious.txt").read_text() == "keep me"


def test_busy_port_is_refused(fake_cluster: FakeCluster) -> None:
    """A port of the scheme already bound: exit 3 naming it, nothing started."""
    busy = fake_cluster.base_port + 4
    with socket.socket() as s:
        s.bind(("127.0.0.1", busy))
        s.listen()
        result = _start(fake_cluster)
    assert result.returncode == 3
    assert f"port(s) in use: {busy}" in result.stderr
    assert fake_cluster.all_pids() == []


def test_grpc_timeout_and_random_peer_ids_reach_the_peers_and_status(
    fake_cluster: FakeCluster,
) -> None:
    """--grpc-timeout-ms sets QDRANT__CLUSTER__GRPC_TIMEOUT_MS; status shows it and the ids."""
    result = _start(fake_cluster, "--grpc-timeout-ms", "5000", "--random-peer-ids")
    assert result.returncode == 0, result.stderr
    assert "grpc_timeout_ms 5000" in result.stdout
    for k in (1, 2, 3):
        (start,) = fake_cluster.starts(k)
        assert start["env"]["QDRANT__CLUSTER__GRPC_TIMEOUT_MS"] == "5000"
        assert "QDRANT__CLUSTER__PEER_ID" not in start["env"]
    status = fake_cluster.run("status")
    assert "grpc_timeout_ms 5000" in status.stdout
    assert "peer ids chosen by Qdrant" in status.stdout


def test_a_v1_16_build_with_staging_is_found_by_the_probe(fake_cluster: FakeCluster) -> None:
    """v1.16.x telemetry has no staging key: the test_slow_down probe's 404 says staging."""
    result = _start(fake_cluster, FAKE_QDRANT_VERSION="1.16.2")
    assert result.returncode == 0, result.stderr
    assert "Qdrant 1.16.2 peers" in result.stdout
    assert "peer ids 101..103" in fake_cluster.run("status").stdout


def test_a_v1_16_build_without_staging_is_refused(fake_cluster: FakeCluster) -> None:
    """The probe's 400 "did not match any variant" means no staging: exit 3, one line."""
    result = _start(fake_cluster, FAKE_QDRANT_VERSION="1.16.2", FAKE_QDRANT_STAGING="false")
    assert result.returncode == 3
    assert "lacks the staging feature" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_binary_without_staging_is_refused_and_stopped(fake_cluster: FakeCluster) -> None:
    """telemetry without app.features.staging: one line, the started peers are stopped, exit 3."""
    result = _start(fake_cluster, FAKE_QDRANT_STAGING="false")
    assert result.returncode == 3
    assert "lacks the staging feature" in result.stderr
    assert "--features staging" in result.stderr
    pids = fake_cluster.all_pids()
    assert len(pids) == 3
    assert not any(alive(pid) for pid in pids)


def test_timeout_when_no_leader_stops_the_peers(fake_cluster: FakeCluster) -> None:
    """Peers that never agree on a leader: bounded wait, exit 1, peers stopped."""
    began = time.monotonic()
    result = fake_cluster.run(
        "3",
        "--base-port",
        str(fake_cluster.base_port),
        "--timeout",
        "2",
        env=fake_cluster.env(FAKE_QDRANT_NO_LEADER="1"),
    )
    assert result.returncode == 1
    assert time.monotonic() - began < 20
    assert "did not come up" in result.stderr
    assert fake_cluster.all_pids()
    assert not any(alive(pid) for pid in fake_cluster.all_pids())


def test_peer_that_exits_at_start_is_reported(fake_cluster: FakeCluster) -> None:
    """A peer dying during start-up: exit 1 with the tail of its log."""
    result = _start(fake_cluster, FAKE_QDRANT_EXIT="1")
    assert result.returncode == 1
    assert "peer 1 exited" in result.stderr
    assert "fake start-up failure" in result.stderr


def test_stop_escalates_to_sigkill(fake_cluster: FakeCluster) -> None:
    """Peers ignoring SIGTERM are SIGKILLed after the grace period."""
    assert _start(fake_cluster, FAKE_QDRANT_IGNORE_TERM="1").returncode == 0
    pids = fake_cluster.all_pids()
    time.sleep(0.3)  # let the fakes install their SIGTERM handler
    result = fake_cluster.run("stop", "--grace", "1")
    assert result.returncode == 0
    assert "SIGKILL" in result.stderr
    assert not any(alive(pid) for pid in pids)


def test_stop_never_signals_a_process_that_is_not_ours(fake_cluster: FakeCluster) -> None:
    """A pid file naming some other process (pid reuse): stop leaves that process alone."""
    assert _start(fake_cluster, n=1).returncode == 0
    (peer,) = fake_cluster.starts(1)
    with subprocess.Popen(["sleep", "30"]) as stranger:
        try:
            (fake_cluster.dir / "peer-1.pid").write_text(f"{stranger.pid}\n")
            result = fake_cluster.run("stop", "--grace", "1")
            assert result.returncode == 0
            assert "not signalled" in result.stderr
            assert stranger.poll() is None
        finally:
            stranger.kill()
    assert alive(peer["pid"])  # its pid file lied; the fixture cleans it up


def test_kill_and_restart_refuse_the_simulated_cluster(tmp_path: Path) -> None:
    """kill/restart act on real peers only."""
    cluster_dir = tmp_path / "c"
    cluster_dir.mkdir()
    (cluster_dir / "cluster.env").write_text(
        "KIND=sim\nNODES_COUNT=3\nBASE_PORT=0\nQDRANT_BIN=''\nNODES=a,b,c\nLOGS=x,y,z\n"
    )
    for cmd in ("kill", "restart"):
        result = run_script(
            [str(RUN_CLUSTER), cmd, "2", "--dir", str(cluster_dir)], script_env(), cwd=tmp_path
        )
        assert result.returncode == 3
        assert "real peers only" in result.stderr


@pytest.mark.sim
def test_sim_cluster_start_status_stop(tmp_path: Path) -> None:
    """--sim starts `lagrace sim`, prints its URLs and logs, status sees it, stop ends it."""
    cluster_dir = tmp_path / "sim"
    env = script_env()
    started = run_script(
        [
            str(RUN_CLUSTER),
            "3",
            "--sim",
            "--mode",
            "fixed",
            "--seed",
            "7",
            "--dir",
            str(cluster_dir),
        ],
        env,
        cwd=tmp_path,
    )
    try:
        assert started.returncode == 0, started.stderr
        nodes = _line(started.stdout, "NODES=").removeprefix("NODES=").split(",")
        logs = _line(started.stdout, "LOGS=").removeprefix("LOGS=").split(",")
        assert len(nodes) == 3
        assert len(logs) == 3
        assert _line(started.stdout, "lagrace run").startswith("lagrace run --nodes ")
        ready = json.loads((cluster_dir / "sim.json").read_text().splitlines()[0])
        assert ready["mode"] == "fixed"
        assert ready["seed"] == 7
        peer_ids = {_get(url + "/cluster")["peer_id"] for url in nodes}
        assert peer_ids == {n["peer_id"] for n in ready["nodes"]}
        status = run_script(
            [str(RUN_CLUSTER), "status", "--dir", str(cluster_dir)], env, cwd=tmp_path
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert "simulated cluster: pid" in status.stdout
    finally:
        pid_file = cluster_dir / "sim.pid"
        pid = int(pid_file.read_text()) if pid_file.exists() else None
        stopped = run_script(
            [str(RUN_CLUSTER), "stop", "--dir", str(cluster_dir)], env, cwd=tmp_path
        )
    assert stopped.returncode == 0
    assert pid is not None
    assert not alive(pid)
