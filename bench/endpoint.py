"""What every benchmark here shares: a canned endpoint on one core, the generator on the other.

The endpoint is Debian's nginx, one process pinned to core 0 (``taskset``), listening on
127.0.0.1 only, answering every request with a canned Qdrant upsert answer (and the watchers'
``/cluster`` polls with canned cluster views), so the server costs almost nothing and the
generator (pinned to core 1) is what is measured. :func:`ensure_tools` installs what the
benchmarks compare against when it is missing:

* ``nginx`` and ``wrk`` with ``apt-get install -y nginx wrk`` (as root; run ``apt-get update``
  first on a fresh machine);
* Locust into its own venv, ``bench/.venv-locust`` (``python3 -m venv bench/.venv-locust &&
  bench/.venv-locust/bin/pip install locust``): never one of lagrace's dependencies.

Nothing here is part of the test suite; every load targets 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

BENCH: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH.parent
LOCUST_VENV: Final = BENCH / ".venv-locust"
SERVER_CORE: Final = 0
GENERATOR_CORE: Final = 1
CANNED: Final = '{"result":{"operation_id":1,"status":"completed"},"status":"ok","time":0.0001}'
# What the watchers poll (GET /cluster, GET /collections/{c}/cluster): one peer's canned views.
CANNED_CLUSTER: Final = (
    '{"result":{"status":"enabled","peer_id":1,"peers":{"1":{"uri":"http://127.0.0.1:1/"}},'
    '"raft_info":{"term":2,"commit":40,"pending_operations":0,"leader":1,"role":"Leader",'
    '"is_voter":true},"consensus_thread_status":{"consensus_thread_status":"working",'
    '"last_update":"2026-01-01T00:00:00.500000000Z"},"message_send_failures":{}},'
    '"status":"ok","time":0.0001}'
)
CANNED_COLLECTION_CLUSTER: Final = (
    '{"result":{"peer_id":1,"shard_count":1,"local_shards":[{"shard_id":0,"points_count":0,'
    '"state":"Active"}],"remote_shards":[],"shard_transfers":[]},"status":"ok","time":0.0001}'
)

_NGINX_CONF: Final = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log crit;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_max_body_size 8m;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        default_type application/json;
        location / {{
            return 200 '{canned}';
        }}
        location = /cluster {{
            return 200 '{cluster}';
        }}
        location ~ ^/collections/[^/]+/cluster$ {{
            return 200 '{collection_cluster}';
        }}
    }}
}}
"""


def _run_quiet(argv: Sequence[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)  # noqa: S603  # fixed commands


def ensure_tools(*, locust: bool = False) -> None:
    """Install nginx and wrk (apt-get, as root) and Locust (its own venv) when missing."""
    if shutil.which("nginx", path="/usr/sbin:/usr/bin") is None or shutil.which("wrk") is None:
        if os.geteuid() != 0:
            sys.exit("nginx and wrk are missing: run `sudo apt-get install -y nginx wrk`")
        _run_quiet(["apt-get", "update", "-qq"])
        _run_quiet(["apt-get", "install", "-y", "-qq", "nginx", "wrk"])
    if locust and not (LOCUST_VENV / "bin" / "locust").exists():
        _run_quiet(["python3", "-m", "venv", str(LOCUST_VENV)])
        _run_quiet([str(LOCUST_VENV / "bin" / "pip"), "install", "-q", "locust"])


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pinned(core: int, argv: Sequence[str], *, realtime: bool = False) -> list[str]:
    """``argv`` run on one core only; ``realtime``: under ``SCHED_RR`` priority 1 (``chrt``,
    as root), so that other work on a shared machine does not preempt it."""
    rt = ["chrt", "-r", "1"] if realtime else []
    return [*rt, "taskset", "-c", str(core), *argv]


@contextlib.contextmanager
def canned_endpoint() -> Iterator[str]:
    """nginx on core 0 answering with :data:`CANNED` (the views the watchers poll with
    :data:`CANNED_CLUSTER` and :data:`CANNED_COLLECTION_CLUSTER`); yields its base URL."""
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin")
    if nginx is None:
        sys.exit("nginx is missing: run `apt-get install -y nginx wrk` (or ensure_tools())")
    with tempfile.TemporaryDirectory(prefix="lagrace-bench-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        text = _NGINX_CONF.format(
            dir=tmp,
            port=port,
            canned=CANNED,
            cluster=CANNED_CLUSTER,
            collection_cluster=CANNED_COLLECTION_CLUSTER,
        )
        conf.write_text(text, encoding="utf-8")
        proc = subprocess.Popen(  # noqa: S603  # nginx with our own config file
            pinned(SERVER_CORE, [nginx, "-c", str(conf), "-p", tmp, "-e", f"{tmp}/error.log"]),
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"nginx did not start (exit {proc.returncode})")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run_load(argv: Sequence[str], timeout_s: float, *, realtime: bool = False) -> dict[str, Any]:
    """Run one load generator (a ``python -m bench.loads`` child) on the generator core; its
    last stdout line is a JSON object of results."""
    done = subprocess.run(  # noqa: S603  # our own interpreter and module, fixed arguments
        pinned(GENERATOR_CORE, argv, realtime=realtime),
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def py_load(*args: str) -> list[str]:
    """The command line of ``bench/loads.py`` with ``args`` under this interpreter."""
    return [sys.executable, "-m", "bench.loads", *args]


@dataclass(frozen=True, slots=True)
class Machine:
    """Where the figures came from."""

    cpu: str
    cores: int
    python: str
    kernel: str

    def line(self) -> str:
        """One line for a benchmark's header."""
        return f"{self.cpu}, {self.cores} cores, Python {self.python}, Linux {self.kernel}"


def machine() -> Machine:
    """The CPU model, core count, Python and kernel versions of this machine."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return Machine(cpu, os.cpu_count() or 0, sys.version.split()[0], os.uname().release)


def median(values: Sequence[float]) -> float:
    """The median (0 for none)."""
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0..100) of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q / 100 * len(ordered) + 0.5) - 1))]


def alternating(names: Sequence[str], rounds: int) -> Iterator[tuple[int, str]]:
    """(round, name) with the order rotated each round, so drift hits every contender alike."""
    for r in range(rounds):
        shift = r % len(names)
        for name in [*names[shift:], *names[:shift]]:
            yield r, name
