"""Safety: lagrace touches only the collections it created, and never leaks the API key.

The cluster is reached through recording proxies (:mod:`tests.fault.guard_proxy`), so what
reached the cluster is known independently of the driver's own history.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from lagrace.api.client import HttpNodeClient
from lagrace.cli import main
from lagrace.clock import SystemClock
from lagrace.plan import make_points
from lagrace.recorder import Recorder
from lagrace.sim.cluster import SimCluster
from lagrace.sim.config import SimConfig
from lagrace.sim.mode import Mode
from tests.fault.conftest import Figures
from tests.fault.guard_proxy import GuardProxy, guard_proxies
from tests.fault.simrace import check_run, race_sim, wait_for_mark

pytestmark = [
    pytest.mark.fault,
    pytest.mark.sim,
    pytest.mark.timeout(90),
]

# names a careless driver could mistake for its own: a bare base name, another run's name
OTHERS = ("precious", "existing_collection", "new_collection_ffffff")
POINTS = 10
BODY = {"vectors": {"size": 8, "distance": "Cosine"}, "shard_number": 1, "replication_factor": 3}


def _touching(proxies: list[GuardProxy], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Requests whose path names one of ``names`` (as the collection segment)."""
    return [
        (method, path)
        for proxy in proxies
        for method, path in proxy.requests
        if len(parts := path.split("/")) > 2 and parts[1] == "collections" and parts[2] in names
    ]


async def test_preexisting_collections_survive_a_run_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """Collections there before the run: no request names them; listed, points intact after."""
    side = Recorder(SystemClock())
    stack = contextlib.AsyncExitStack()
    proxies: list[GuardProxy] = []
    seen: dict[str, int] = {}

    async def front(cluster: SimCluster) -> list[str]:
        urls = [n.url for n in cluster.nodes]
        async with HttpNodeClient(1, urls[0], side) as client:
            for name in OTHERS:
                assert (await client.create_collection(name, BODY, timeout_s=10)).ok
            points = make_points(random.Random(1), 0, POINTS, 8)
            assert (await client.upsert_points("precious", points, wait=True)).ok
        proxies.extend(await stack.enter_async_context(guard_proxies(urls)))
        return [p.url for p in proxies]

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        # once the run has ended (cleanup done), look at the cluster before it is stopped
        await wait_for_mark(recorder, "run_end", timeout_s=60)
        for node in cluster.nodes:
            async with HttpNodeClient(node.node, node.url, side) as client:
                listed = await client.list_collections()
                assert listed.value is not None
                for name in OTHERS:
                    seen[f"{node.node}:{name}"] = int(name in listed.value)
                got = await client.count_points("precious")
                seen[f"{node.node}:points"] = got.value if got.value is not None else -1

    async with stack:
        raced = await race_sim(tmp_path, monkeypatch, front=front, inject=inject)
    check_run(raced, figures)
    touched = _touching(proxies, OTHERS)
    expected = {f"{n}:{o}": 1 for n in (1, 2, 3) for o in OTHERS}
    expected.update({f"{n}:points": POINTS for n in (1, 2, 3)})
    figures.safe("pre-existing collections untouched", held=not touched and seen == expected)
    assert not touched, touched
    assert seen == expected
    assert sum(len(p.requests) for p in proxies) > 100  # the proxies did see the run
    # the run deleted what it created, and only that
    run_id = raced.outcome.run_dir.path.name.rsplit("-", 1)[1]
    deleted = [path for p in proxies for m, path in p.requests if m == "DELETE"]
    assert deleted
    assert all(path.endswith(f"_{run_id}") for path in deleted), deleted


@contextlib.contextmanager
def _sim_behind_keyed_proxies(
    tmp: Path, key: str
) -> Iterator[tuple[list[str], list[str], list[GuardProxy]]]:
    """A sim cluster and key-checking proxies on a loop in a background thread."""
    loop = asyncio.new_event_loop()
    ready: Future[tuple[list[str], list[str], list[GuardProxy]]] = Future()
    stop = asyncio.Event()

    async def serve() -> None:
        config = SimConfig(seed=2, mode=Mode.FIXED, log_dir=tmp / "sim")
        async with (
            SimCluster.start(config) as cluster,
            guard_proxies([n.url for n in cluster.nodes], api_key=key) as proxies,
        ):
            ready.set_result(
                ([p.url for p in proxies], [str(n.log_path) for n in cluster.nodes], proxies)
            )
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=30)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        loop.close()


def test_api_key_never_leaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    """`lagrace --api-key K run` against a cluster that demands K: K is nowhere in the output."""
    key = "sk-lagrace-7f3a9c1e5b"  # a made-up key for this test
    runs = tmp_path / "runs"
    with _sim_behind_keyed_proxies(tmp_path, key) as (urls, logs, proxies):
        code = main([
            "--api-key", key, "--log-level", "debug", "--log-format", "json", "run",
            "--nodes", ",".join(urls), "--logs", ",".join(logs), "--runs-dir", str(runs),
            "--slow-down", "2", "--lag-offset", "0.3", "--create-offset", "0.8",
            "--time-limit", "20", "--settle", "8", "--workers", "2", "--preload", "32",
            "--seed", "4", "--quiet",
        ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err
    assert all(p.keys_seen == {key} for p in proxies), [p.keys_seen for p in proxies]
    files = [p for p in runs.rglob("*") if p.is_file()]
    leaks = [p for p in files if key.encode() in p.read_bytes()]
    leaked_output = key in out or key in err
    figures.safe("API key secrecy", held=not leaks and not leaked_output)
    assert len(files) > 5
    assert (runs / "latest" / "report" / "index.html").exists()  # the report was checked too
    assert not leaks, leaks
    assert key not in out
    assert key not in err
