"""One conformance suite, run against the simulated cluster and against a real Qdrant.

Every test here checks something lagrace relies on — a JSON shape, a status code, a log line,
an apply semantic — through lagrace's own client. The `sim` cluster is the model
(`scripts/run_cluster.sh 3 --sim`); the `qdrant` cluster is a real staging build started by
`scripts/run_cluster.sh 3` from `$LAGRACE_QDRANT_BIN` (skipped with that reason when unset).
Where the two differ, the model is wrong.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lagrace.api.client import HttpNodeClient
from lagrace.clock import SystemClock
from lagrace.events import Outcome
from lagrace.logline import parse_log_line
from lagrace.race.discovery import detect_builds, discover
from lagrace.recorder import Recorder
from tests.scripts.conftest import RUN_CLUSTER, free_base_port, run_script, script_env

pytestmark = [pytest.mark.sim, pytest.mark.timeout(240)]

BODY = {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 3, "replication_factor": 3}


@dataclass(frozen=True)
class Cluster:
    """A running 3-node cluster: its kind, node URLs and log files."""

    kind: str
    urls: tuple[str, ...]
    logs: tuple[Path, ...]


def _value(output: str, key: str) -> str:
    line = next(x for x in output.splitlines() if x.startswith(f"{key}="))
    return shlex.split(line.partition("=")[2])[0]


@pytest.fixture(
    scope="module",
    params=["sim", pytest.param("qdrant", marks=pytest.mark.qdrant)],
)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Three peers started by run_cluster.sh, the model or a real staging build."""
    kind: str = request.param
    tmp = tmp_path_factory.mktemp(f"conformance-{kind}")
    extra = {} if kind == "sim" else {"QDRANT_BIN": os.environ["LAGRACE_QDRANT_BIN"]}
    env = script_env(extra)
    args = [str(RUN_CLUSTER), "3", "--dir", str(tmp / "cluster")]
    args += ["--sim", "--seed", "5"] if kind == "sim" else ["--base-port", str(free_base_port(9))]
    started = run_script(args, env, cwd=tmp, timeout=180)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        urls = tuple(_value(started.stdout, "NODES").split(","))
        logs = tuple(Path(p) for p in _value(started.stdout, "LOGS").split(","))
        yield Cluster(kind, urls, logs)
    finally:
        run_script(
            [str(RUN_CLUSTER), "stop", "--dir", str(tmp / "cluster")], env, cwd=tmp, timeout=60
        )


@asynccontextmanager
async def _clients(cluster: Cluster) -> AsyncIterator[list[HttpNodeClient]]:
    recorder = Recorder(SystemClock())
    clients = [HttpNodeClient(i + 1, u, recorder) for i, u in enumerate(cluster.urls)]
    for c in clients:
        await c.__aenter__()
    try:
        yield clients
    finally:
        for c in clients:
            await c.close()


def _run(cluster: Cluster, body: Callable[[list[HttpNodeClient]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with _clients(cluster) as clients:
            await body(clients)

    asyncio.run(main())


async def _eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 60.0) -> None:
    """Poll ``check`` (a remote condition: there is no event to wait on) until it holds."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110  # polling a remote cluster, no local event
            await asyncio.sleep(0.2)


def test_root_telemetry_and_cluster_shapes(cluster: Cluster) -> None:
    """GET / has a version, the build has staging, /cluster has one leader and 3 voters."""

    async def body(clients: list[HttpNodeClient]) -> None:
        leaders = set()
        view = await discover(clients, SystemClock())
        builds = await detect_builds(clients, view)  # telemetry, or the probe on v1.16.x
        assert all(b.staging for b in builds.values())
        for c in clients:
            root = await c.root()
            assert root.ok
            assert root.value is not None
            assert "qdrant" in str(root.value["title"]).lower()
            status = (await c.cluster()).value
            assert status is not None
            assert len(status.peers) == 3
            assert status.is_voter
            assert status.thread_status == "working"
            assert status.last_update_unix_ns is not None
            leaders.add(status.leader)
        assert len(leaders) == 1

    _run(cluster, body)


def test_create_replicas_duplicate_upsert_count_delete(cluster: Cluster) -> None:
    """3x3 create answers true; every peer shows 3 local + 6 remote Active replicas; a
    duplicate is 409; upsert wait=true completes; count is exact; delete answers true."""

    async def body(clients: list[HttpNodeClient]) -> None:
        first = clients[0]
        created = await first.create_collection("conf_basic", BODY, timeout_s=30)
        assert created.ok, created
        assert created.value is True
        try:

            async def all_active() -> bool:
                for c in clients:
                    info = (await c.collection_cluster("conf_basic")).value
                    if info is None or len(info.replicas) != 9:
                        return False
                    if any(r.state != "Active" for r in info.replicas):
                        return False
                    if sum(r.local for r in info.replicas) != 3:
                        return False
                return True

            await _eventually(all_active)
            dup = await first.create_collection("conf_basic", BODY, timeout_s=30)
            assert dup.status == 409, dup
            assert dup.error is not None
            assert "already exists" in dup.error
            pts = [{"id": i, "vector": [0.1, 0.2, 0.3, float(i)]} for i in range(1, 4)]
            up = await clients[1].upsert_points("conf_basic", pts, wait=True)
            assert up.ok, up
            assert up.value is not None
            assert up.value.status == "completed"
            assert (await clients[2].count_points("conf_basic")).value == 3
            assert (await clients[1].collection_exists("conf_basic")).value is True
        finally:
            gone = await first.delete_collection("conf_basic", timeout_s=30)
            assert gone.ok, gone
            assert gone.value is True
        missing = await first.collection_cluster("conf_basic")
        assert missing.status == 404

    _run(cluster, body)


def test_slow_down_validation(cluster: Cluster) -> None:
    """Out-of-range durations are 422, unknown peers 400, a missing collection 404."""

    async def body(clients: list[HttpNodeClient]) -> None:
        first = clients[0]
        assert (await first.create_collection("conf_validation", BODY, timeout_s=30)).ok
        try:
            too_long = await first.test_slow_down("conf_validation", peer_id=None, duration_s=301)
            assert too_long.status == 422, too_long
            assert too_long.outcome is Outcome.FAIL
            stranger = await first.test_slow_down("conf_validation", peer_id=1, duration_s=1)
            assert stranger.status == 400, stranger
            assert stranger.error is not None
            assert "does not exist" in stranger.error
            nowhere = await first.test_slow_down("conf_nowhere", peer_id=None, duration_s=1)
            assert nowhere.status == 404, nowhere
        finally:
            await first.delete_collection("conf_validation", timeout_s=30)

    _run(cluster, body)


def test_slow_down_freezes_the_target_and_logs_it(cluster: Cluster) -> None:
    """During test_slow_down node 2's commit and last_update freeze while the others commit,
    and node 2 logs the TestSlowDown lines in Qdrant's format; afterwards it catches up."""

    async def body(clients: list[HttpNodeClient]) -> None:
        first, target = clients[0], clients[1]
        assert (await first.create_collection("conf_lag", BODY, timeout_s=30)).ok
        try:
            target_status = (await target.cluster()).value
            assert target_status is not None
            slow = await first.test_slow_down(
                "conf_lag", peer_id=target_status.peer_id, duration_s=4
            )
            assert slow.ok, slow
            assert slow.value is True
            await asyncio.sleep(0.5)
            frozen = (await target.cluster()).value
            # the healthy majority commits meanwhile
            await first.create_collection("conf_lag_2", BODY, timeout_s=1)
            await asyncio.sleep(1.5)
            later = (await target.cluster()).value
            lead = (await first.cluster()).value
            assert frozen is not None
            assert later is not None
            assert lead is not None
            assert later.commit == frozen.commit
            assert later.last_update_unix_ns == frozen.last_update_unix_ns
            assert lead.commit > later.commit

            async def same_commit() -> bool:
                commits = {(await c.cluster()).value.commit for c in clients}  # type: ignore[union-attr]  # answered above
                return len(commits) == 1

            await _eventually(same_commit)
        finally:
            await first.delete_collection("conf_lag_2", timeout_s=30)
            await first.delete_collection("conf_lag", timeout_s=30)
        log = cluster.logs[1].read_text(errors="replace").splitlines()
        parsed = [p for p in map(parse_log_line, log) if p is not None]
        sleeping = [p for p in parsed if "TestSlowDown: sleeping for 4000ms on peer" in p.message]
        assert sleeping, "node 2 did not log the TestSlowDown line"
        assert sleeping[-1].target == "storage::content_manager::staging"
        assert sleeping[-1].level == "DEBUG"
        assert any("TestSlowDown: finished sleeping on peer" in p.message for p in parsed)
        assert any("Applying committed entry with index" in p.message for p in parsed)

    started = time.monotonic()
    _run(cluster, body)
    assert time.monotonic() - started < 120
