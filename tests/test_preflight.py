"""Tests of preflight against scripted fake nodes: what it refuses, and what it finds."""

from __future__ import annotations

import pytest

from lagrace.clock import ManualClock
from lagrace.errors import (
    ClusterError,
    ClusterModeError,
    StagingFeatureError,
    UnreachableError,
    sole_error,
)
from lagrace.history import Recorder
from lagrace.preflight import Preflight, preflight
from lagrace.testing import (
    FakeNode,
    cluster_disabled,
    cluster_status,
    ok,
    refused,
    staging_telemetry,
)

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
