"""The race scenario against the simulated cluster, driven with a plain aiohttp client.

Like lagrace's default scenario (notes §4.8): an existing 3-shard, replication-factor-3
collection; an open-loop hammer of ``wait=true`` upserts of 10 points at a fixed total rate,
through the lagging peer (node 2) or round-robin through every peer, with a chosen ``ordering``;
a ``test_slow_down`` of node 2 proposed via node 1; a new collection created via node 3 a few
seconds later. Everything it observes comes from the REST API and the log files, as a driver
would see it.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from lagrace.sim.cluster import SimCluster

EXISTING = "existing"
NEW = "created_during_lag"
VECTOR = {"size": 4, "distance": "Cosine"}
DEAD_ECHO = "has state Some(Dead), but expected Some(Active)"
LAST_ACTIVE = "Cannot deactivate the last active replica"
LAGGING = 2  # node 2: never the ordering leader (node 3 has the highest peer id)


@dataclass(frozen=True, slots=True)
class RaceSpec:
    """The knobs of one race."""

    ordering: str = "strong"
    through: str = "lagging"  # "lagging" (node 2) or "all" (round-robin)
    rate: float = 25.0
    workers: int = 8
    batch: int = 10
    slow_down_s: float | None = 4.0
    create_after_s: float = 1.0
    creates: int = 1
    settle_s: float = 2.0


@dataclass
class RaceObservation:
    """What the driver saw."""

    non_active: set[tuple[int, int, int, str]] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    create_status: list[int] = field(default_factory=list)
    log_texts: dict[int, str] = field(default_factory=dict)
    cluster_views: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    @property
    def log_text(self) -> str:
        """Every peer's log, concatenated."""
        return "\n".join(self.log_texts.values())

    @property
    def disrupted(self) -> bool:
        """Did some peer's view show a replica of the existing collection leave Active?"""
        return bool(self.non_active)

    def log_has(self, needle: str, node: int | None = None) -> bool:
        """Does a WARN line (of ``node``'s log, or any) contain ``needle``?"""
        text = self.log_text if node is None else self.log_texts[node]
        return any(" WARN " in line and needle in line for line in text.splitlines())


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def _hammer(
    session: aiohttp.ClientSession,
    urls: list[str],
    spec: RaceSpec,
    stop: asyncio.Event,
    seen: RaceObservation,
) -> None:
    """lagrace's open-loop hammer: ``workers`` workers started together, each sending every
    ``workers / rate`` seconds whether or not earlier writes answered."""
    ids = itertools.count()
    period = spec.workers / spec.rate
    turns = itertools.count()

    async def one(url: str, points: list[dict[str, Any]]) -> None:
        try:
            status, _ = await _call(
                session,
                "PUT",
                f"{url}/collections/{EXISTING}/points?wait=true&ordering={spec.ordering}",
                {"points": points},
            )
        except (TimeoutError, aiohttp.ClientError):
            status = -1
        seen.statuses[status] = seen.statuses.get(status, 0) + 1

    async def worker(group: asyncio.TaskGroup) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for seq in itertools.count(1):
            if stop.is_set():
                return
            url = urls[next(turns) % len(urls)]
            points = [{"id": next(ids), "vector": [0.1, 0.2, 0.3, 0.4]} for _ in range(spec.batch)]
            group.create_task(one(url, points))
            await asyncio.sleep(max(0.0, start + seq * period - loop.time()))

    async with asyncio.TaskGroup() as group:
        for _ in range(spec.workers):
            group.create_task(worker(group))


async def _watch(
    session: aiohttp.ClientSession, cluster: SimCluster, stop: asyncio.Event, seen: RaceObservation
) -> None:
    while not stop.is_set():
        for node in cluster.nodes:
            peer = cluster.peer(node.node)
            coll = peer.view.collections.get(EXISTING)  # the peer's view, as its REST API has it
            if coll is None:
                continue
            for shard, states in coll.shards.items():
                for peer_id, state in states.items():
                    if state.value != "Active":
                        seen.non_active.add((node.node, shard, peer_id, state.value))
        await asyncio.sleep(0.1)


async def run_race(cluster: SimCluster, spec: RaceSpec) -> RaceObservation:
    """Run one race and return what was observed."""
    nodes = cluster.nodes
    urls = [node.url for node in nodes]
    lagging = nodes[LAGGING - 1]
    through = [lagging.url] if spec.through == "lagging" else urls
    seen = RaceObservation()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        status, body = await _call(
            session,
            "PUT",
            f"{urls[0]}/collections/{EXISTING}",
            {"vectors": VECTOR, "shard_number": 3, "replication_factor": 3},
        )
        assert status == 200, body
        stop_load = asyncio.Event()
        stop_watch = asyncio.Event()
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as load_session,
            asyncio.TaskGroup() as group,
        ):
            group.create_task(_hammer(load_session, through, spec, stop_load, seen))
            group.create_task(_watch(session, cluster, stop_watch, seen))
            await asyncio.sleep(1.0)
            if spec.slow_down_s is not None:
                status, body = await _call(
                    session,
                    "POST",
                    f"{urls[0]}/collections/{EXISTING}/cluster",
                    {"test_slow_down": {"peer_id": lagging.peer_id, "duration": spec.slow_down_s}},
                )
                assert status == 200, body
            await asyncio.sleep(spec.create_after_s)
            for index in range(spec.creates):
                status, body = await _call(
                    session,
                    "PUT",
                    f"{urls[-1]}/collections/{NEW}_{index}?timeout=2",
                    {"vectors": VECTOR, "shard_number": 3, "replication_factor": 3},
                )
                seen.create_status.append(status)
            await asyncio.sleep(spec.settle_s)
            stop_load.set()
            await asyncio.sleep(0.5)
            stop_watch.set()
    seen.log_texts = {node.node: node.log_path.read_text() for node in nodes}
    return seen
