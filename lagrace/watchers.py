"""Pollers of every peer: ``/cluster`` and ``/collections/{c}/cluster``, changes recorded.

:class:`WatchState` holds the latest snapshot per node (and per collection) so the runner can
judge convergence live; the history gets an ``observe`` event only when a snapshot changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lagrace.api.protocol import NodeApi
from lagrace.events import OBS_CLUSTER, OBS_COLLECTION_CLUSTER, OBS_PROBE_ERROR
from lagrace.history import Recorder
from lagrace.snapshots import (
    Convergence,
    cluster_changed,
    cluster_data,
    collection_data,
    judge_convergence,
)


@dataclass(slots=True)
class WatchState:
    """Latest snapshots, by node and by (node, collection)."""

    nodes: int
    clusters: dict[int, dict[str, Any]] = field(default_factory=dict)
    collections: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    probe_errors: dict[tuple[int, str], str] = field(default_factory=dict)
    polls: int = 0
    updated: asyncio.Event = field(default_factory=asyncio.Event)

    def convergence(self, names: tuple[str, ...]) -> Convergence:
        """Judge the latest snapshots."""
        return judge_convergence(self.clusters, self.collections, self.nodes, names)

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait (re-checking after every poll round) until ``predicate`` holds, or time out."""
        try:
            async with asyncio.timeout(timeout_s):
                while not predicate():
                    self.updated.clear()
                    await self.updated.wait()
        except TimeoutError:
            return False
        return True


def _probe_failed(
    state: WatchState, recorder: Recorder, api: NodeApi, probe: str, error: str, **extra: Any
) -> None:
    key = (api.node, probe + str(extra.get("collection", "")))
    if state.probe_errors.get(key) != error:
        state.probe_errors[key] = error
        recorder.observe(
            OBS_PROBE_ERROR,
            node=api.node,
            peer_id=api.peer_id,
            data={"probe": probe, "error": error, **extra},
        )


def _probe_ok(
    state: WatchState, recorder: Recorder, api: NodeApi, probe: str, **extra: Any
) -> None:
    key = (api.node, probe + str(extra.get("collection", "")))
    if state.probe_errors.pop(key, None) is not None:
        recorder.observe(
            OBS_PROBE_ERROR,
            node=api.node,
            peer_id=api.peer_id,
            data={"probe": probe, "recovered": True, **extra},
        )


async def poll_cluster_once(api: NodeApi, recorder: Recorder, state: WatchState) -> None:
    """One ``GET /cluster`` of one node; record it if it changed."""
    reply = await api.cluster(worker=f"watch-cluster-{api.node}")
    if not reply.ok or reply.value is None:
        _probe_failed(state, recorder, api, "cluster", reply.error or f"HTTP {reply.status}")
        return
    _probe_ok(state, recorder, api, "cluster")
    clock = recorder.clock
    data = cluster_data(reply.value, clock.anchor, clock.wall_ns())
    if cluster_changed(state.clusters.get(api.node), data):
        recorder.observe(OBS_CLUSTER, node=api.node, peer_id=api.peer_id, data=data)
    state.clusters[api.node] = data


async def poll_collection_once(
    api: NodeApi, recorder: Recorder, state: WatchState, name: str
) -> None:
    """One ``GET /collections/{name}/cluster`` of one node; record it if it changed."""
    reply = await api.collection_cluster(name, worker=f"watch-coll-{api.node}")
    if reply.ok and reply.value is not None:
        data = collection_data(name, reply.value, reply.status)
    elif reply.status == 404:
        data = collection_data(name, None, 404)
    else:
        _probe_failed(
            state,
            recorder,
            api,
            "collection_cluster",
            reply.error or f"HTTP {reply.status}",
            collection=name,
        )
        return
    _probe_ok(state, recorder, api, "collection_cluster", collection=name)
    key = (api.node, name)
    if state.collections.get(key) != data:
        recorder.observe(OBS_COLLECTION_CLUSTER, node=api.node, peer_id=api.peer_id, data=data)
    state.collections[key] = data


async def watch_node(
    api: NodeApi,
    recorder: Recorder,
    state: WatchState,
    *,
    collections: Callable[[], tuple[str, ...]],
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Poll one node every ``interval_s`` until ``stop``: its cluster and every collection."""
    while not stop.is_set():
        async with asyncio.TaskGroup() as tg:
            tg.create_task(poll_cluster_once(api, recorder, state))
            for name in collections():
                tg.create_task(poll_collection_once(api, recorder, state, name))
        state.polls += 1
        state.updated.set()
        try:
            async with asyncio.timeout(interval_s):
                await stop.wait()
        except TimeoutError:
            continue
