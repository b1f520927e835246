"""Pollers of every peer: ``/cluster`` and ``/collections/{c}/cluster``, changes recorded.

:class:`WatchState` holds the latest snapshot per node (and per collection) so the runner can
judge convergence live; the history gets an ``observe`` event only when a snapshot changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lagrace.analysis.convergence import Convergence, judge_convergence
from lagrace.api.protocol import NodeApi
from lagrace.clock import Clock, wait_event
from lagrace.events import OBS_CLUSTER, OBS_COLLECTION_CLUSTER, OBS_PROBE_ERROR
from lagrace.race.snapshots import cluster_changed, cluster_data, collection_data
from lagrace.recorder import Recorder
from lagrace.timebase import NS_PER_S


@dataclass(slots=True)
class WatchState:
    """Latest snapshots, by node and by (node, collection); waits run on ``clock``."""

    nodes: int
    clock: Clock
    clusters: dict[int, dict[str, Any]] = field(default_factory=dict)
    collections: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    probe_errors: dict[tuple[int, str], str] = field(default_factory=dict)
    polls: int = 0
    updated: asyncio.Event = field(default_factory=asyncio.Event)

    def convergence(self, names: tuple[str, ...]) -> Convergence:
        """Judge the latest snapshots."""
        return judge_convergence(self.clusters, self.collections, range(1, self.nodes + 1), names)

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait (re-checking after every poll round) until ``predicate`` holds, or ``timeout_s``
        of the clock passed; whether it holds."""
        deadline_ns = self.clock.now_ns() + int(timeout_s * NS_PER_S)
        while not predicate():
            left_s = (deadline_ns - self.clock.now_ns()) / NS_PER_S
            if left_s <= 0:
                return False
            self.updated.clear()
            await wait_event(self.clock, self.updated, left_s)
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
    """Poll one node every ``interval_s`` of the run clock until ``stop``: its cluster and every
    collection."""
    while not stop.is_set():
        async with asyncio.TaskGroup() as tg:
            tg.create_task(poll_cluster_once(api, recorder, state))
            for name in collections():
                tg.create_task(poll_collection_once(api, recorder, state, name))
        state.polls += 1
        state.updated.set()
        await wait_event(state.clock, stop, interval_s)
