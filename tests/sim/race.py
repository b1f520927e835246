"""The race scenario against the simulated cluster, driven with a plain aiohttp client.

Used by the end-to-end tests: an existing 3-shard, replication-factor-3 collection under
upsert load from a few workers sending to every peer round-robin (``wait`` true and false),
an optional ``test_slow_down`` of one follower, and a new collection created through a
non-lagging peer during the lag. Everything it observes comes from the REST API and the log
files, as a driver would see it.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from lagrace.sim import SimCluster

EXISTING = "existing"
NEW = "created_during_lag"
VECTOR = {"size": 4, "distance": "Cosine"}
DEAD_ECHO = "has state Some(Dead), but expected Some(Active)"
LAST_ACTIVE = "Cannot deactivate the last active replica"


@dataclass
class RaceObservation:
    """What the driver saw."""

    non_active: set[tuple[int, int, int, str]] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    create_status: int | None = None
    log_text: str = ""

    def log_has(self, needle: str) -> bool:
        """Does any peer's log contain ``needle`` in a WARN line?"""
        return any(" WARN " in line and needle in line for line in self.log_text.splitlines())


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def _worker(
    session: aiohttp.ClientSession,
    urls: list[str],
    index: int,
    stop: asyncio.Event,
    seen: RaceObservation,
) -> None:
    ids = itertools.count(index * 1_000_000)
    for turn in itertools.count(index):
        if stop.is_set():
            return
        url = urls[turn % len(urls)]
        points = [{"id": next(ids), "vector": [0.1, 0.2, 0.3, 0.4]} for _ in range(6)]
        wait = "true" if turn % 2 else "false"
        try:
            status, _ = await _call(
                session,
                "PUT",
                f"{url}/collections/{EXISTING}/points?wait={wait}",
                {"points": points},
            )
        except TimeoutError:
            status = -1
        seen.statuses[status] = seen.statuses.get(status, 0) + 1


async def _watch(
    session: aiohttp.ClientSession, cluster: SimCluster, stop: asyncio.Event, seen: RaceObservation
) -> None:
    while not stop.is_set():
        for node in cluster.nodes:
            status, body = await _call(session, "GET", f"{node.url}/collections/{EXISTING}/cluster")
            if status != 200:
                continue
            result = body["result"]
            for shard in result["local_shards"]:
                if shard["state"] != "Active":
                    seen.non_active.add(
                        (node.node, shard["shard_id"], node.peer_id, shard["state"])
                    )
            for shard in result["remote_shards"]:
                if shard["state"] != "Active":
                    seen.non_active.add(
                        (node.node, shard["shard_id"], shard["peer_id"], shard["state"])
                    )
        await asyncio.sleep(0.1)


async def run_race(
    cluster: SimCluster, *, slow_down_s: float | None, workers: int = 4, settle_s: float = 2.0
) -> RaceObservation:
    """Run the scenario; ``slow_down_s=None`` skips the slow-down (the control run)."""
    urls = [node.url for node in cluster.nodes]
    lagging = cluster.nodes[2]
    seen = RaceObservation()
    timeout = aiohttp.ClientTimeout(total=40)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        status, body = await _call(
            session,
            "PUT",
            f"{urls[0]}/collections/{EXISTING}",
            {"vectors": VECTOR, "shard_number": 3, "replication_factor": 3},
        )
        assert status == 200, body
        stop_load = asyncio.Event()
        stop_watch = asyncio.Event()
        worker_timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=worker_timeout) as load_session,
            asyncio.TaskGroup() as group,
        ):
            for index in range(workers):
                group.create_task(_worker(load_session, urls, index, stop_load, seen))
            group.create_task(_watch(session, cluster, stop_watch, seen))
            await asyncio.sleep(1.0)
            if slow_down_s is not None:
                status, body = await _call(
                    session,
                    "POST",
                    f"{urls[0]}/collections/{EXISTING}/cluster",
                    {"test_slow_down": {"peer_id": lagging.peer_id, "duration": slow_down_s}},
                )
                assert status == 200, body
                await asyncio.sleep(1.0)
            status, body = await _call(
                session,
                "PUT",
                f"{urls[0]}/collections/{NEW}",
                {"vectors": VECTOR, "shard_number": 3, "replication_factor": 3},
            )
            seen.create_status = status
            await asyncio.sleep(settle_s)
            stop_load.set()
            await asyncio.sleep(0.5)
            stop_watch.set()
    seen.log_text = "\n".join(node.log_path.read_text() for node in cluster.nodes)
    return seen
