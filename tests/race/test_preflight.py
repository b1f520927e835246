"""Tests of preflight against scripted fake nodes: what it refuses, and what it finds."""

from __future__ import annotations

import pytest

from lagrace.clock import ManualClock
from lagrace.errors import (
    ClusterError,
    ClusterModeError,
    FrozenPeerError,
    StagingFeatureError,
    UnreachableError,
    sole_error,
)
from lagrace.exitcodes import ExitCode
from lagrace.race.preflight import Preflight, preflight
from lagrace.recorder import Recorder
from lagrace.testing import (
    FakeNode,
    cluster_disabled,
    cluster_status,
    fail,
    ok,
    refused,
    staging_telemetry,
    timed_out,
)
from lagrace.timebase import NS_PER_S

PEERS = {11: "http://127.0.0.1:1/", 22: "http://127.0.0.1:2/", 33: "http://127.0.0.1:3/"}
ROOT = {"title": "qdrant - vector search engine", "version": "1.18.3"}


def _nodes(
    recorder: Recorder, *, peers: dict[int, str] = PEERS, staging: bool = True, count: int = 3
) -> list[FakeNode]:
    nodes = []
    for i, peer in enumerate(list(peers)[:count]):
        node = FakeNode(i + 1, recorder)
        node.always("root", ok(ROOT))
        node.always("cluster", ok(cluster_status(peer, peers=peers, leader=11)))
        node.always("telemetry", ok(staging_telemetry(staging)))
        nodes.append(node)
    return nodes


async def _run(nodes: list[FakeNode]) -> Preflight:
    try:
        return await preflight(nodes, ManualClock())
    except BaseExceptionGroup as group:
        error = sole_error(group, ClusterError)
        assert error is not None
        raise error from None


async def test_finds_nodes_leader_versions_and_p2p_uris() -> None:
    """A healthy staging cluster: peer ids by node, the leader's node, versions, p2p URIs."""
    recorder = Recorder(ManualClock())
    found = await _run(_nodes(recorder))
    assert [(n.node, n.peer_id) for n in found.nodes] == [(1, 11), (2, 22), (3, 33)]
    assert (found.leader_peer, found.leader_node) == (11, 1)
    assert found.versions == {1: "1.18.3", 2: "1.18.3", 3: "1.18.3"}
    assert found.p2p_uris == PEERS
    ops = {op.invoke.op for op in recorder.history().operations()}
    assert ops <= {"root", "cluster", "telemetry"}, "preflight only reads"
    assert all(op.invoke.worker == "preflight" for op in recorder.history().operations())


async def test_refuses_a_build_without_staging() -> None:
    """No staging feature: the message names the cargo feature."""
    with pytest.raises(StagingFeatureError, match="`staging` cargo feature"):
        await _run(_nodes(Recorder(ManualClock()), staging=False))


async def test_refuses_cluster_mode_off_and_unreachable_nodes() -> None:
    """Cluster mode disabled and a refused connection each get their own error."""
    recorder = Recorder(ManualClock())
    nodes = _nodes(recorder)
    nodes[1].always("cluster", cluster_disabled())
    with pytest.raises(ClusterModeError, match="node 2"):
        await _run(nodes)
    nodes = _nodes(recorder)
    nodes[2].always("root", refused())
    with pytest.raises(UnreachableError, match="node 3"):
        await _run(nodes)


async def test_refuses_a_cluster_with_peers_no_url_reaches() -> None:
    """Every peer must be reachable through a given URL (a lagging peer must be watched)."""
    with pytest.raises(ClusterError, match=r"no --nodes URL reaches: \[33\]"):
        await _run(_nodes(Recorder(ManualClock()), count=2))


async def test_a_frozen_peer_is_waited_for_then_exits_inconclusive() -> None:
    """/cluster answers, /telemetry times out: retried every retry_s of the run clock up to the
    bound, then FrozenPeerError (exit 2, not a usage error); a peer that thaws in time passes."""
    clock = ManualClock()
    recorder = Recorder(clock)
    nodes = _nodes(recorder)
    nodes[1].always("telemetry", timed_out())
    async with clock.autojump():
        with pytest.raises(FrozenPeerError, match=r"node 2 .*looks frozen.*waiting 30 s") as err:
            await preflight(nodes, clock, frozen_wait_s=35.0, retry_s=10.0)
    assert err.value.exit_code is ExitCode.INCONCLUSIVE
    assert len(nodes[1].calls_of("telemetry")) == 4  # the first try and three retries
    assert clock.now_ns() == 30 * NS_PER_S
    nodes = _nodes(recorder)
    nodes[1].script("telemetry", timed_out(), timed_out())
    async with clock.autojump():
        found = await preflight(nodes, clock, frozen_wait_s=100.0, retry_s=10.0)
    assert found.builds[2].staging
    assert clock.now_ns() == 50 * NS_PER_S


async def test_a_v1_16_build_is_accepted_through_the_probe() -> None:
    """No staging key in telemetry (v1.16.x): the probe's 404 means staging; its 400 refuses."""
    recorder = Recorder(ManualClock())
    nodes = _nodes(recorder)
    for node in nodes:
        node.always("telemetry", ok({"app": {"version": "1.16.2", "features": {"debug": True}}}))
        node.always("test_slow_down", fail("Not found: Collection doesn't exist!", status=404))
    found = await _run(nodes)
    assert {n: (b.staging_source, b.kind) for n, b in found.builds.items()} == dict.fromkeys(
        (1, 2, 3), ("probe", "debug")
    )
    nodes[2].always(
        "test_slow_down",
        fail("data did not match any variant of untagged enum ClusterOperations", status=400),
    )
    with pytest.raises(StagingFeatureError, match=r"node 3 .* is Qdrant 1\.18\.3 built without"):
        await _run(nodes)
