"""JSON and Prometheus renderings of one peer's state, in Qdrant's shapes (notes §2.1-§2.11).

Pure functions over a :class:`~lagrace.sim.peer.SimPeer`'s in-memory state: no I/O, no waiting.
Everything is local to the peer that answers — a lagging peer shows its stale view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lagrace.sim.replica_states import ReplicaState, is_active
from lagrace.sim.state_machine import CollectionState
from lagrace.timebase import NS_PER_S, format_rfc3339

if TYPE_CHECKING:
    from lagrace.sim.peer import SimPeer

TITLE = "qdrant - vector search engine (lagrace simulated model)"
MODEL_COMMIT = "lagrace-simulated-model"


def root(peer: SimPeer) -> dict[str, Any]:
    """``GET /``: the bare version object, labelled as the model; the version its mode models."""
    return {"title": TITLE, "version": peer.config.mode.version, "commit": MODEL_COMMIT}


def _wall(peer: SimPeer, t_ns: int) -> str:
    return format_rfc3339(peer.clock.anchor.to_unix_ns(t_ns), digits=9)


def cluster_status(peer: SimPeer) -> dict[str, Any]:
    """``GET /cluster`` result (§2.1)."""
    raft = peer.consensus.peers[peer.peer_id]
    peers = {
        str(p.peer_id): {"uri": p.uri}
        for p in sorted(peer.consensus.peers.values(), key=lambda p: p.peer_id)
    }
    failures = {
        uri: {
            "count": f.count,
            "latest_error": f.latest_error,
            "latest_error_timestamp": _wall(peer, f.latest_error_ns),
        }
        for uri, f in sorted(raft.send_failures.items())
    }
    return {
        "status": "enabled",
        "peer_id": peer.peer_id,
        "peers": peers,
        "raft_info": {
            "term": raft.term,
            "commit": raft.commit,
            "pending_operations": raft.pending,
            "leader": raft.leader,
            "role": raft.role if raft.leader is not None else None,
            "is_voter": True,
        },
        "consensus_thread_status": {
            "consensus_thread_status": "working",
            "last_update": _wall(peer, raft.last_update_ns),
        },
        "message_send_failures": failures,
    }


def local_points(peer: SimPeer, name: str) -> int:
    """Points stored in this peer's local shards of a collection."""
    return sum(len(ids) for ids in peer.data.get(name, {}).values())


def collection_info(peer: SimPeer, coll: CollectionState) -> dict[str, Any]:
    """``GET /collections/{name}`` result: ``CollectionInfo`` (§2.3)."""
    params = coll.params
    count = local_points(peer, coll.name)
    return {
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": 0,
        "points_count": count,
        "segments_count": len(coll.local_shards(peer.peer_id)),
        "config": {
            "params": {
                "vectors": {"size": params.vector_size, "distance": params.distance},
                "shard_number": params.shard_number,
                "replication_factor": params.replication_factor,
                "write_consistency_factor": params.write_consistency_factor,
                "on_disk_payload": params.on_disk_payload,
            },
            "hnsw_config": {
                "m": 16,
                "ef_construct": 100,
                "full_scan_threshold": 10000,
                "max_indexing_threads": 0,
                "on_disk": False,
            },
            "optimizer_config": {
                "deleted_threshold": 0.2,
                "vacuum_min_vector_number": 1000,
                "default_segment_number": 0,
                "max_segment_size": None,
                "memmap_threshold": None,
                "indexing_threshold": 10000,
                "flush_interval_sec": 5,
                "max_optimization_threads": None,
            },
            "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
            "quantization_config": None,
        },
        "payload_schema": {},
        "update_queue": {"length": 0},
    }


def collection_cluster(peer: SimPeer, coll: CollectionState) -> dict[str, Any]:
    """``GET /collections/{name}/cluster`` result (§2.6), sorted by shard id."""
    local: list[dict[str, Any]] = []
    remote: list[dict[str, Any]] = []
    for shard_id, states in sorted(coll.shards.items()):
        for replica, state in sorted(states.items()):
            if replica == peer.peer_id:
                points = len(peer.data.get(coll.name, {}).get(shard_id, set()))
                local.append({"shard_id": shard_id, "points_count": points, "state": state.value})
            else:
                remote.append({"shard_id": shard_id, "peer_id": replica, "state": state.value})
    transfers = [
        {
            "shard_id": t.shard_id,
            "from": t.from_peer,
            "to": t.to_peer,
            "sync": True,
            "method": "stream_records",
        }
        for t in sorted(coll.transfers, key=lambda t: (t.shard_id, t.to_peer))
    ]
    return {
        "peer_id": peer.peer_id,
        "shard_count": len(coll.shards),
        "local_shards": local,
        "remote_shards": remote,
        "shard_transfers": transfers,
    }


def _status_telemetry(peer: SimPeer) -> dict[str, Any]:
    raft = peer.consensus.peers[peer.peer_id]
    return {
        "number_of_peers": len(peer.consensus.peers),
        "term": raft.term,
        "commit": raft.commit,
        "pending_operations": raft.pending,
        "role": raft.role if raft.leader is not None else None,
        "is_voter": True,
        "peer_id": peer.peer_id,
        "consensus_thread_status": {
            "consensus_thread_status": "working",
            "last_update": _wall(peer, raft.last_update_ns),
        },
    }


def telemetry(peer: SimPeer, details_level: int) -> dict[str, Any]:
    """``GET /telemetry?details_level=N`` result (§2.11), the parts the model has."""
    level = max(0, min(details_level, 4))
    result: dict[str, Any] = {
        "id": f"lagrace-sim-{peer.peer_id}",
        "app": {
            "name": "qdrant",
            "version": peer.config.mode.version,
            "startup": _wall(peer, 0),
        },
        "collections": {"number_of_collections": len(peer.view.collections)},
        "cluster": {"enabled": True},
    }
    if level >= 1:
        result["app"]["features"] = {
            "debug": False,
            "service_debug_feature": False,
            "recovery_mode": False,
            "gpu": False,
            "rocksdb": False,
            "staging": peer.config.staging,
        }
        result["cluster"]["status"] = _status_telemetry(peer)
    if level >= 2:
        result["cluster"]["config"] = {
            "grpc_timeout_ms": 60000,
            "p2p": {"connection_pool_size": 2},
            "consensus": {
                "max_message_queue_size": 100,
                "tick_period_ms": 100,
                "bootstrap_timeout_sec": 15,
            },
        }
        result["cluster"]["peers"] = cluster_status(peer)["peers"]
    if level >= 3:
        result["cluster"]["peer_metadata"] = {
            str(p): {"version": peer.config.mode.version} for p in sorted(peer.consensus.peers)
        }
        result["collections"]["collections"] = [
            _collection_telemetry(peer, peer.view.collections[name])
            for name in sorted(peer.view.collections)
        ]
    return result


def _collection_telemetry(peer: SimPeer, coll: CollectionState) -> dict[str, Any]:
    shards = [
        {
            "id": shard_id,
            "key": None,
            "remote": [
                {"shard_id": shard_id, "peer_id": p} for p in sorted(states) if p != peer.peer_id
            ],
            "replicate_states": {str(p): s.value for p, s in sorted(states.items())},
        }
        for shard_id, states in sorted(coll.shards.items())
    ]
    transfers = [
        {"shard_id": t.shard_id, "from": t.from_peer, "to": t.to_peer, "sync": True}
        for t in coll.transfers
    ]
    return {"id": coll.name, "shards": shards, "transfers": transfers}


def metrics(peer: SimPeer) -> str:
    """``GET /metrics``: ``app_info``, the ``cluster_*`` and collection families (§2.10)."""
    raft = peer.consensus.peers[peer.peer_id]
    colls = [peer.view.collections[name] for name in sorted(peer.view.collections)]
    active_counts = [
        sum(1 for s in states.values() if is_active(s))
        for coll in colls
        for states in coll.shards.values()
    ]
    dead_shards = sum(
        1
        for coll in colls
        for states in coll.shards.values()
        if any(s is not ReplicaState.ACTIVE for s in states.values())
    )
    last_update_s = peer.clock.anchor.to_unix_ns(raft.last_update_ns) / NS_PER_S
    lines = [
        "# HELP app_info information about qdrant server",
        "# TYPE app_info gauge",
        f'app_info{{name="qdrant",version="{peer.config.mode.version}"}} 1',
        "# TYPE collections_total gauge",
        f"collections_total {len(colls)}",
        "# TYPE collection_active_replicas_min gauge",
        f"collection_active_replicas_min {min(active_counts, default=0)}",
        "# TYPE collection_active_replicas_max gauge",
        f"collection_active_replicas_max {max(active_counts, default=0)}",
        "# TYPE collection_dead_replicas gauge",
        f"collection_dead_replicas {dead_shards}",
        "# TYPE collection_points gauge",
        *(f'collection_points{{id="{c.name}"}} {local_points(peer, c.name)}' for c in colls),
        "# TYPE cluster_enabled gauge",
        "cluster_enabled 1",
        "# TYPE cluster_peers_total gauge",
        f"cluster_peers_total {len(peer.consensus.peers)}",
        "# TYPE cluster_term counter",
        f"cluster_term {raft.term}",
        "# TYPE cluster_commit counter",
        f'cluster_commit{{peer_id="{peer.peer_id}"}} {raft.commit}',
        "# TYPE cluster_pending_operations_total gauge",
        f"cluster_pending_operations_total {raft.pending}",
        "# TYPE cluster_voter gauge",
        "cluster_voter 1",
        "# TYPE cluster_last_update_timestamp_seconds counter",
        f"cluster_last_update_timestamp_seconds {last_update_s:.6f}",
        "# TYPE cluster_working_state gauge",
        'cluster_working_state{state="working"} 1',
        'cluster_working_state{state="stopped"} 0',
    ]
    return "\n".join(lines) + "\n"
