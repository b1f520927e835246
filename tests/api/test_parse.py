"""Pure parsers of Qdrant's JSON answers: good shapes parse, wrong shapes raise ProtocolError."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lagrace.api import parse
from lagrace.errors import ClusterModeError, ProtocolError
from lagrace.timebase import parse_rfc3339
from tests.api.qdrant_app import (
    LAST_UPDATE,
    PEER_IDS,
    cluster_result,
    collection_cluster_result,
    collection_info_result,
    three_nodes,
)


def test_envelope_and_error_text() -> None:
    """The success envelope yields result; an error body yields status.error."""
    assert parse.envelope_result({"result": [1], "status": "ok", "time": 0.1}) == [1]
    assert parse.envelope_result({"status": "ok", "time": 0.1}) is None
    with pytest.raises(ProtocolError, match="not 'ok'"):
        parse.envelope_result({"status": {"error": "x"}, "time": 0})
    with pytest.raises(ProtocolError, match="expected a JSON object, got an array"):
        parse.envelope_result([])
    assert parse.error_text({"status": {"error": "Not found: x"}, "time": 0}) == "Not found: x"
    assert parse.error_text({"status": "ok"}) is None
    assert parse.error_text("text") is None


def test_cluster_status_parses_every_field() -> None:
    """GET /cluster of an enabled node becomes a ClusterStatus."""
    state = three_nodes()[1]
    state.send_failures = {"http://127.0.0.1:20200/": 3}
    state.pending = 2
    status = parse.parse_cluster_status(cluster_result(state))
    assert status.peer_id == PEER_IDS[1]
    assert status.peers[PEER_IDS[0]] == "http://127.0.0.1:20000/"
    assert (status.term, status.commit, status.pending_operations) == (2, 40, 2)
    assert (status.leader, status.role, status.is_voter) == (PEER_IDS[0], "Follower", True)
    assert status.thread_status == "working"
    assert status.last_update_unix_ns == parse_rfc3339(LAST_UPDATE)
    failure = status.message_send_failures["http://127.0.0.1:20200/"]
    assert failure.count == 3
    assert failure.latest_error_unix_ns == parse_rfc3339(LAST_UPDATE)


def test_cluster_status_stopped_with_error_and_no_leader() -> None:
    """A stopped consensus thread and an unknown leader parse too."""
    body = cluster_result(three_nodes()[0])
    body["consensus_thread_status"] = {"consensus_thread_status": "stopped_with_err", "err": "e"}
    body["raft_info"]["leader"] = None
    body["raft_info"].pop("role")
    status = parse.parse_cluster_status(body)
    assert (status.thread_status, status.thread_error, status.last_update_unix_ns) == (
        "stopped_with_err",
        "e",
        None,
    )
    assert (status.leader, status.role) == (None, None)


def test_cluster_disabled_is_a_cluster_mode_error() -> None:
    """{"status": "disabled"} raises ClusterModeError, not a protocol error."""
    with pytest.raises(ClusterModeError, match="disabled"):
        parse.parse_cluster_status({"status": "disabled"})


def _mutations() -> list[tuple[str, Any, str]]:
    def drop(path: list[str]) -> Any:
        body = cluster_result(three_nodes()[0])
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return body

    def put(path: list[str], value: Any) -> Any:
        body = cluster_result(three_nodes()[0])
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return body

    return [
        ("no peer_id", drop(["peer_id"]), "missing field 'peer_id'"),
        ("no raft_info", drop(["raft_info"]), "missing field 'raft_info'"),
        ("term as text", put(["raft_info", "term"], "2"), "expected an integer"),
        ("voter as int", put(["raft_info", "is_voter"], 1), "expected a boolean"),
        ("bad peer key", put(["peers"], {"x": {"uri": "u"}}), "not a peer id"),
        ("bad timestamp", put(["consensus_thread_status", "last_update"], "yesterday"), "RFC"),
        ("unknown thread", put(["consensus_thread_status"], {"consensus_thread_status": "z"}), "z"),
        ("unknown mode", put(["status"], "maybe"), "'maybe'"),
        ("not an object", [], "got an array"),
    ]


@pytest.mark.parametrize(
    ("body", "needle"), [m[1:] for m in _mutations()], ids=[m[0] for m in _mutations()]
)
def test_cluster_status_wrong_shapes(body: Any, needle: str) -> None:
    """Each wrong shape of GET /cluster raises ProtocolError naming the problem."""
    with pytest.raises(ProtocolError, match=needle):
        parse.parse_cluster_status(body)


def test_collection_cluster_sorted_replicas() -> None:
    """Local and remote replicas come out sorted by (shard, peer), local marked."""
    state = three_nodes()[2]
    state.collections["c"] = {"shard_number": 2}
    body = collection_cluster_result(state, "c")
    body["remote_shards"][0]["state"] = "Dead"
    body["shard_transfers"] = [{"shard_id": 0, "from": 1, "to": 2, "sync": True}]
    view = parse.parse_collection_cluster(body)
    assert view.shard_count == 2
    keys = [(r.shard_id, r.peer_id) for r in view.replicas]
    assert keys == sorted(keys)
    assert len(keys) == 6
    assert [r.local for r in view.replicas if r.peer_id == state.peer_id] == [True, True]
    assert "Dead" in {r.state for r in view.replicas}
    assert view.transfers[0].from_peer == 1
    del body["local_shards"][0]["state"]
    with pytest.raises(ProtocolError, match=r"local_shards\[0\]: missing field 'state'"):
        parse.parse_collection_cluster(body)


def test_collection_info_and_small_results() -> None:
    """Collection info, names, counts, exists, update results and bools."""
    state = three_nodes()[0]
    state.collections["c"] = {"shard_number": 3, "replication_factor": 3, "points": 9}
    info = parse.parse_collection_info(collection_info_result(state, "c"))
    assert (info.status, info.points_count, info.shard_number, info.replication_factor) == (
        "green",
        9,
        3,
        3,
    )
    broken = copy.deepcopy(collection_info_result(state, "c"))
    broken["optimizer_status"] = {"error": "disk full"}
    assert parse.parse_collection_info(broken).optimizer_status == "disk full"
    del broken["config"]
    with pytest.raises(ProtocolError, match="missing field 'config'"):
        parse.parse_collection_info(broken)
    assert parse.parse_collection_names({"collections": [{"name": "a"}, {"name": "b"}]}) == [
        "a",
        "b",
    ]
    with pytest.raises(ProtocolError, match=r"collections\[0\]"):
        parse.parse_collection_names({"collections": [{"nom": "a"}]})
    assert parse.parse_count({"count": 4}) == 4
    assert parse.parse_exists({"exists": False}) is False
    assert parse.parse_update_result({"status": "acknowledged"}).operation_id is None
    assert parse.parse_bool(True) is True
    with pytest.raises(ProtocolError, match="expected a boolean, got a string"):
        parse.parse_bool("true")


def test_root_staging_and_readyz() -> None:
    """GET / needs title and version; staging is read from app.features; readyz by status."""
    assert parse.parse_root({"title": "qdrant", "version": "1.18.3"})["version"] == "1.18.3"
    with pytest.raises(ProtocolError, match="missing field 'version'"):
        parse.parse_root({"title": "qdrant"})
    assert parse.staging_feature({"app": {"features": {"staging": True}}}) is True
    with pytest.raises(ProtocolError, match="missing field 'app'"):
        parse.staging_feature({"id": "x"})
    assert parse.parse_readyz(200, "all shards are ready") is True
    assert parse.parse_readyz(503, "some shards are not ready") is False
    with pytest.raises(ProtocolError, match="unexpected status 204"):
        parse.parse_readyz(204, "")
