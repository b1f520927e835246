"""Fixtures for the scripts/ tests: run a script bounded, a fake ``qdrant``, free port ranges."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
RUN_CLUSTER = SCRIPTS / "run_cluster.sh"
FAKE_QDRANT = Path(__file__).resolve().parent / "fake_qdrant.py"

# Variables of the caller's environment that would change what the scripts do.
_SCRUBBED = ("QDRANT_BIN", "LAGRACE_CLUSTER_DIR", "LAGRACE_QDRANT_LOG_LEVEL", "LAGRACE_PYTHON")


def script_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without lagrace's knobs, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(extra or {})
    return env


def run_script(
    args: list[str], env: Mapping[str, str], *, cwd: Path, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run a script with a hard timeout; stdout and stderr captured as text."""
    return subprocess.run(
        args,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


# Below Linux's ephemeral range (32768-60999 by default): a port picked inside it can be taken by
# any outgoing connection between the check and the start (seen once in CI).
_LOW, _HIGH = 10000, 32700


def free_base_port(count: int) -> int:
    """A base port P such that P .. P+count-1 can all be bound on 127.0.0.1 right now."""
    first = _LOW + (os.getpid() * 97) % (_HIGH - _LOW - count)
    candidates: list[int] = [*range(first, _HIGH - count, 97), *range(_LOW, first, 97)]
    for base in candidates:
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base
    raise RuntimeError("no free port range")


@dataclass
class FakeCluster:
    """Where a fake-qdrant cluster of one test lives and how to drive run_cluster.sh on it."""

    tmp: Path
    dir: Path
    bin: Path
    registry: Path
    base_port: int

    def env(self, **extra: str) -> dict[str, str]:
        """The environment run_cluster.sh gets: the fake binary and its registry."""
        return script_env(
            {"QDRANT_BIN": str(self.bin), "FAKE_QDRANT_REGISTRY": str(self.registry), **extra}
        )

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """``run_cluster.sh ARGS --dir DIR``."""
        return run_script(
            [str(RUN_CLUSTER), *args, "--dir", str(self.dir)],
            self.env() if env is None else env,
            cwd=self.tmp,
            timeout=timeout,
        )

    def starts(self, k: int) -> list[dict[str, Any]]:
        """Every start of peer ``k`` as the fake recorded it (argv, cwd, env, pid)."""
        path = self.dir / f"peer-{k}" / "storage" / "starts.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def all_pids(self) -> list[int]:
        """The pid of every fake process ever started in this cluster directory."""
        return [s["pid"] for k in range(1, 10) for s in self.starts(k)]


@pytest.fixture
def fake_cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    """A fake ``qdrant`` executable and a cluster directory; everything stopped afterwards."""
    binary = tmp_path / "bin" / "qdrant"
    binary.parent.mkdir()
    binary.write_text(
        f"#!{sys.executable}\nimport runpy\n"
        f"runpy.run_path({str(FAKE_QDRANT)!r}, run_name='__main__')\n"
    )
    binary.chmod(0o755)
    cluster = FakeCluster(
        tmp=tmp_path,
        dir=tmp_path / "cluster",
        bin=binary,
        registry=tmp_path / "registry",
        base_port=free_base_port(9),
    )
    yield cluster
    if (cluster.dir / "cluster.env").exists():
        cluster.run("stop", "--grace", "2")
    for pid in cluster.all_pids():  # a failed test must not leave fakes behind
        if alive(pid):
            os.kill(pid, 9)


@dataclass
class SimCluster:
    """A simulated cluster started with ``run_cluster.sh --sim``."""

    dir: Path
    nodes: list[str]
    logs: list[str]


SIM_TIMEOUT = ("--grpc-timeout-ms", "1000")  # a pile-up freeze lasts 3 x 3 s, not ~3 min


@pytest.fixture
def sim_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SimCluster]:
    """``run_cluster.sh 3 --sim --mode <param>`` in a temporary directory; stopped afterwards."""
    mode = getattr(request, "param", "buggy")
    cluster_dir = tmp_path / "sim-cluster"
    started = run_script(
        [
            str(RUN_CLUSTER),
            "3",
            "--sim",
            "--mode",
            mode,
            "--seed",
            "11",
            "--dir",
            str(cluster_dir),
            *SIM_TIMEOUT,
        ],
        script_env(),
        cwd=tmp_path,
    )
    try:
        assert started.returncode == 0, started.stderr
        values = dict(
            line.split("=", 1)
            for line in started.stdout.splitlines()
            if line.startswith(("NODES=", "LOGS="))
        )
        yield SimCluster(cluster_dir, values["NODES"].split(","), values["LOGS"].split(","))
    finally:
        run_script(
            [str(RUN_CLUSTER), "stop", "--dir", str(cluster_dir)], script_env(), cwd=tmp_path
        )
