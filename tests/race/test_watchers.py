"""Tests of the watchers against scripted fake nodes: changes recorded, probe errors once."""

from __future__ import annotations

import asyncio

from lagrace.api.models import CollectionCluster, ReplicaView
from lagrace.clock import ManualClock
from lagrace.events import OBS_CLUSTER, OBS_COLLECTION_CLUSTER, OBS_PROBE_ERROR
from lagrace.race.watchers import WatchState, poll_cluster_once, poll_collection_once, watch_node
from lagrace.recorder import Recorder
from lagrace.testing import FakeNode, cluster_status, fail, ok, refused
from lagrace.timebase import NS_PER_S


def _view(state: str) -> CollectionCluster:
    return CollectionCluster(
        11, 1, (ReplicaView(0, 11, "Active", True), ReplicaView(0, 22, state, False))
    )


async def test_cluster_snapshots_recorded_only_on_change() -> None:
    """Same answer twice: one observation; a new commit: another; the state keeps the latest."""
    clock = ManualClock(anchor_unix_ns=100 * NS_PER_S)
    recorder = Recorder(clock)
    node = FakeNode(1, recorder, peer_id=11)
    status = cluster_status(11, leader=11, last_update_unix_ns=100 * NS_PER_S)
    node.script("cluster", ok(status), ok(status), ok(cluster_status(11, leader=11, commit=11)))
    state = WatchState(nodes=1, clock=recorder.clock)
    for _ in range(3):
        await poll_cluster_once(node, recorder, state)
    seen = recorder.history().observations(OBS_CLUSTER)
    assert [o.data["commit"] for o in seen] == [10, 11]
    assert state.clusters[1]["commit"] == 11


async def test_collection_visibility_and_state_changes() -> None:
    """404 is 'not visible'; a replica going Dead is a new observation."""
    recorder = Recorder(ManualClock())
    node = FakeNode(2, recorder, peer_id=22)
    node.script(
        "collection_cluster",
        fail("Not found: Collection `c` doesn't exist!", status=404),
        ok(_view("Active")),
        ok(_view("Active")),
        ok(_view("Dead")),
    )
    state = WatchState(nodes=1, clock=recorder.clock)
    for _ in range(4):
        await poll_collection_once(node, recorder, state, "c")
    seen = [o.data for o in recorder.history().observations(OBS_COLLECTION_CLUSTER)]
    assert [d["visible"] for d in seen] == [False, True, True]
    assert seen[-1]["replicas"] == [[0, 11, "Active"], [0, 22, "Dead"]]


async def test_probe_errors_are_recorded_once_and_recovery_too() -> None:
    """A node that stops answering is one probe_error event, and one when it is back."""
    recorder = Recorder(ManualClock())
    node = FakeNode(3, recorder, peer_id=33)
    node.script("cluster", refused(), refused(), ok(cluster_status(33, leader=11)))
    state = WatchState(nodes=1, clock=recorder.clock)
    for _ in range(3):
        await poll_cluster_once(node, recorder, state)
    errors = [o.data for o in recorder.history().observations(OBS_PROBE_ERROR)]
    assert len(errors) == 2
    assert "refused" in errors[0]["error"]
    assert errors[1]["recovered"] is True


async def test_watch_node_stops_when_told() -> None:
    """The watcher loop polls every interval of the run clock until its stop event, then
    returns (bounded by the event); in virtual time, three rounds take exactly two intervals."""
    clock = ManualClock()
    recorder = Recorder(clock)
    node = FakeNode(1, recorder, peer_id=11)
    node.always("cluster", ok(cluster_status(11, leader=11)))
    node.always("collection_cluster", ok(_view("Active")))
    state, stop = WatchState(nodes=1, clock=recorder.clock), asyncio.Event()
    async with clock.autojump(), asyncio.TaskGroup() as tg:
        tg.create_task(
            watch_node(node, recorder, state, collections=lambda: ("c",), interval_s=0.5, stop=stop)
        )
        assert await state.wait_until(lambda: state.polls >= 3, timeout_s=5)
        assert clock.now_ns() == NS_PER_S  # polls at 0, 0.5 and 1.0 s
        stop.set()
    assert state.convergence(("c",)).converged
    assert len(node.calls_of("cluster")) == 3


async def test_wait_until_times_out_on_the_run_clock() -> None:
    """Nothing polls: the wait gives up after its timeout of the run clock, not before."""
    clock = ManualClock()
    state = WatchState(nodes=1, clock=clock)
    async with clock.autojump():
        assert not await state.wait_until(lambda: False, timeout_s=60)
    assert clock.now_ns() == 60 * NS_PER_S
