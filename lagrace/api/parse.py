"""Pure parsers: Qdrant's JSON answers (notes §1, §2) into :mod:`lagrace.api.models`.

Every parser takes the decoded JSON (``Any``) and either returns a typed value or raises
:class:`~lagrace.errors.ProtocolError` naming what was wrong. No I/O, no clock.

* :func:`envelope_result` unwraps ``{"result": ..., "status": "ok", "time": ...}``;
* :func:`error_text` reads ``status.error`` of an error body;
* one ``parse_*`` per ``result`` shape lagrace reads.
"""

from __future__ import annotations

from typing import Any

from lagrace.api.models import (
    ClusterStatus,
    CollectionCluster,
    CollectionInfo,
    ReplicaView,
    SendFailure,
    ShardTransfer,
    UpdateResult,
)
from lagrace.errors import ClusterModeError, ProtocolError
from lagrace.timebase import parse_rfc3339

_MISSING = object()


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"{what}: expected a JSON object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _field(obj: dict[str, Any], key: str, what: str) -> Any:
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        raise ProtocolError(f"{what}: missing field {key!r}")
    return value


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{what}: expected an integer, got {_kind(value)}")
    return value


def _opt_int(value: Any, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: expected a string, got {_kind(value)}")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(f"{what}: expected a boolean, got {_kind(value)}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError(f"{what}: expected an array, got {_kind(value)}")
    return value


def _req_int(obj: dict[str, Any], key: str, what: str) -> int:
    return _int(_field(obj, key, what), f"{what}.{key}")


def _req_str(obj: dict[str, Any], key: str, what: str) -> str:
    return _str(_field(obj, key, what), f"{what}.{key}")


def _req_bool(obj: dict[str, Any], key: str, what: str) -> bool:
    return _bool(_field(obj, key, what), f"{what}.{key}")


def _rfc3339_ns(value: Any, what: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_rfc3339(_str(value, what))
    except ValueError as exc:
        raise ProtocolError(f"{what}: {exc}") from exc


# -- envelope -------------------------------------------------------------------------------


def envelope_result(body: Any) -> Any:
    """The ``result`` of a success envelope (``None`` if Qdrant left it out)."""
    obj = _obj(body, "response")
    status = _field(obj, "status", "response")
    if status != "ok":
        raise ProtocolError(f"response: status is {status!r}, not 'ok'")
    return obj.get("result")


def error_text(body: Any) -> str | None:
    """Qdrant's ``status.error`` text of an error body, or ``None`` if it has none."""
    if not isinstance(body, dict):
        return None
    status = body.get("status")
    if isinstance(status, dict) and isinstance(status.get("error"), str):
        return str(status["error"])
    return None


# -- results --------------------------------------------------------------------------------


def parse_root(body: Any) -> dict[str, Any]:
    """``GET /`` (no envelope): ``{"title", "version", "commit"?}``."""
    obj = _obj(body, "GET /")
    _req_str(obj, "title", "GET /")
    _req_str(obj, "version", "GET /")
    return obj


def parse_bool(result: Any) -> bool:
    """A bare boolean result (create / delete collection, cluster operations, logger)."""
    return _bool(result, "result")


def parse_exists(result: Any) -> bool:
    """``GET /collections/{n}/exists``: ``{"exists": bool}``."""
    return _req_bool(_obj(result, "result"), "exists", "result")


def parse_collection_names(result: Any) -> list[str]:
    """``GET /collections``: ``{"collections": [{"name": ...}, ...]}`` → names."""
    obj = _obj(result, "result")
    items = _list(_field(obj, "collections", "result"), "result.collections")
    return [
        _req_str(_obj(item, f"result.collections[{i}]"), "name", f"result.collections[{i}]")
        for i, item in enumerate(items)
    ]


def parse_count(result: Any) -> int:
    """``POST /collections/{n}/points/count``: ``{"count": N}``."""
    return _req_int(_obj(result, "result"), "count", "result")


def parse_update_result(result: Any) -> UpdateResult:
    """``PUT /collections/{n}/points``: ``{"operation_id"?, "status"}``."""
    obj = _obj(result, "result")
    return UpdateResult(
        operation_id=_opt_int(obj.get("operation_id"), "result.operation_id"),
        status=_req_str(obj, "status", "result"),
    )


def parse_object(result: Any) -> dict[str, Any]:
    """Any object result kept raw (telemetry, cluster telemetry)."""
    return _obj(result, "result")


def parse_cluster_telemetry(result: Any) -> dict[str, Any]:
    """``GET /cluster/telemetry``: an object with ``collections`` and ``cluster`` objects."""
    obj = _obj(result, "result")
    _obj(_field(obj, "collections", "result"), "result.collections")
    _obj(_field(obj, "cluster", "result"), "result.cluster")
    return obj


def staging_feature(telemetry: Any) -> bool:
    """Whether ``GET /telemetry?details_level>=1`` reports the ``staging`` cargo feature."""
    obj = _obj(telemetry, "telemetry")
    app = _obj(_field(obj, "app", "telemetry"), "telemetry.app")
    features = _obj(_field(app, "features", "telemetry.app"), "telemetry.app.features")
    return _req_bool(features, "staging", "telemetry.app.features")


def parse_send_failure(value: Any, what: str) -> SendFailure:
    """One ``message_send_failures`` entry."""
    obj = _obj(value, what)
    latest_error = obj.get("latest_error")
    return SendFailure(
        count=_req_int(obj, "count", what),
        latest_error=None if latest_error is None else _str(latest_error, f"{what}.latest_error"),
        latest_error_unix_ns=_rfc3339_ns(
            obj.get("latest_error_timestamp"), f"{what}.latest_error_timestamp"
        ),
    )


def parse_cluster_status(result: Any) -> ClusterStatus:
    """``GET /cluster``; :class:`ClusterModeError` for ``{"status": "disabled"}``."""
    obj = _obj(result, "cluster")
    mode = _req_str(obj, "status", "cluster")
    if mode == "disabled":
        raise ClusterModeError("cluster mode is disabled (GET /cluster: status 'disabled')")
    if mode != "enabled":
        raise ProtocolError(f"cluster.status: expected 'enabled' or 'disabled', got {mode!r}")
    peers_obj = _obj(_field(obj, "peers", "cluster"), "cluster.peers")
    peers: dict[int, str] = {}
    for key, info in peers_obj.items():
        try:
            peer = int(key)
        except ValueError as exc:
            raise ProtocolError(f"cluster.peers: key {key!r} is not a peer id") from exc
        peers[peer] = _req_str(_obj(info, f"cluster.peers[{key}]"), "uri", f"cluster.peers[{key}]")
    raft = _obj(_field(obj, "raft_info", "cluster"), "cluster.raft_info")
    thread = _obj(
        _field(obj, "consensus_thread_status", "cluster"), "cluster.consensus_thread_status"
    )
    thread_status = _req_str(thread, "consensus_thread_status", "cluster.consensus_thread_status")
    if thread_status not in ("working", "stopped", "stopped_with_err"):
        raise ProtocolError(f"cluster.consensus_thread_status: unknown status {thread_status!r}")
    thread_error = thread.get("err")
    failures_obj = _obj(obj.get("message_send_failures", {}), "cluster.message_send_failures")
    role = raft.get("role")
    return ClusterStatus(
        peer_id=_req_int(obj, "peer_id", "cluster"),
        peers=peers,
        term=_req_int(raft, "term", "cluster.raft_info"),
        commit=_req_int(raft, "commit", "cluster.raft_info"),
        pending_operations=_req_int(raft, "pending_operations", "cluster.raft_info"),
        leader=_opt_int(raft.get("leader"), "cluster.raft_info.leader"),
        role=None if role is None else _str(role, "cluster.raft_info.role"),
        is_voter=_req_bool(raft, "is_voter", "cluster.raft_info"),
        thread_status=thread_status,
        thread_error=None if thread_error is None else _str(thread_error, "consensus err"),
        last_update_unix_ns=_rfc3339_ns(
            thread.get("last_update"), "cluster.consensus_thread_status.last_update"
        ),
        message_send_failures={
            uri: parse_send_failure(entry, f"cluster.message_send_failures[{uri}]")
            for uri, entry in failures_obj.items()
        },
    )


def parse_collection_cluster(result: Any) -> CollectionCluster:
    """``GET /collections/{n}/cluster``: local and remote replicas, sorted by (shard, peer)."""
    what = "collection cluster"
    obj = _obj(result, what)
    peer_id = _req_int(obj, "peer_id", what)
    replicas: list[ReplicaView] = []
    for i, item in enumerate(_list(_field(obj, "local_shards", what), f"{what}.local_shards")):
        where = f"{what}.local_shards[{i}]"
        shard = _obj(item, where)
        replicas.append(
            ReplicaView(
                shard_id=_req_int(shard, "shard_id", where),
                peer_id=peer_id,
                state=_req_str(shard, "state", where),
                local=True,
                points_count=_opt_int(shard.get("points_count"), f"{where}.points_count"),
            )
        )
    for i, item in enumerate(_list(_field(obj, "remote_shards", what), f"{what}.remote_shards")):
        where = f"{what}.remote_shards[{i}]"
        shard = _obj(item, where)
        replicas.append(
            ReplicaView(
                shard_id=_req_int(shard, "shard_id", where),
                peer_id=_req_int(shard, "peer_id", where),
                state=_req_str(shard, "state", where),
                local=False,
            )
        )
    transfers: list[ShardTransfer] = []
    raw_transfers = _list(obj.get("shard_transfers", []), f"{what}.shard_transfers")
    for i, item in enumerate(raw_transfers):
        where = f"{what}.shard_transfers[{i}]"
        entry = _obj(item, where)
        method = entry.get("method")
        transfers.append(
            ShardTransfer(
                shard_id=_req_int(entry, "shard_id", where),
                from_peer=_req_int(entry, "from", where),
                to_peer=_req_int(entry, "to", where),
                sync=_req_bool(entry, "sync", where),
                method=None if method is None else _str(method, f"{where}.method"),
            )
        )
    return CollectionCluster(
        peer_id=peer_id,
        shard_count=_req_int(obj, "shard_count", what),
        replicas=tuple(sorted(replicas, key=lambda r: (r.shard_id, r.peer_id))),
        transfers=tuple(transfers),
    )


def parse_collection_info(result: Any) -> CollectionInfo:
    """``GET /collections/{n}``: status, counts and the replication parameters."""
    what = "collection"
    obj = _obj(result, what)
    optimizer = _field(obj, "optimizer_status", what)
    if isinstance(optimizer, dict):
        optimizer_text = _req_str(optimizer, "error", f"{what}.optimizer_status")
    else:
        optimizer_text = _str(optimizer, f"{what}.optimizer_status")
    config = _obj(_field(obj, "config", what), f"{what}.config")
    params = _obj(_field(config, "params", f"{what}.config"), f"{what}.config.params")
    return CollectionInfo(
        status=_req_str(obj, "status", what),
        optimizer_status=optimizer_text,
        points_count=_opt_int(obj.get("points_count"), f"{what}.points_count"),
        indexed_vectors_count=_opt_int(
            obj.get("indexed_vectors_count"), f"{what}.indexed_vectors_count"
        ),
        segments_count=_req_int(obj, "segments_count", what),
        shard_number=_opt_int(params.get("shard_number"), "params.shard_number"),
        replication_factor=_opt_int(params.get("replication_factor"), "params.replication_factor"),
        write_consistency_factor=_opt_int(
            params.get("write_consistency_factor"), "params.write_consistency_factor"
        ),
    )


def parse_readyz(status: int, text: str) -> bool:
    """``GET /readyz`` (text/plain): 200 ready, 503 not ready."""
    if status == 200:
        return True
    if status == 503:
        return False
    raise ProtocolError(f"readyz: unexpected status {status}: {text[:80]!r}")
