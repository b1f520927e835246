"""Pure conversions of watcher answers into the ``data`` of ``observe`` events
(docs/run-directory.md, "Observation kinds"); they are judged by
:func:`lagrace.analysis.convergence.judge_convergence`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from lagrace.api.models import ClusterStatus, CollectionCluster
from lagrace.timebase import NS_PER_MS, WallAnchor

STALL_AGE_MS: Final = 1000.0


def cluster_data(status: ClusterStatus, anchor: WallAnchor, wall_now_ns: int) -> dict[str, Any]:
    """The ``cluster`` observation of one ``GET /cluster`` answer."""
    last = status.last_update_unix_ns
    age_ms = None if last is None else round((wall_now_ns - last) / NS_PER_MS, 1)
    return {
        "term": status.term,
        "commit": status.commit,
        "pending_operations": status.pending_operations,
        "leader": status.leader,
        "role": status.role,
        "is_voter": status.is_voter,
        "thread_status": status.thread_status,
        "last_update_ns": None if last is None else anchor.to_run_ns(last),
        "last_update_age_ms": age_ms,
        "stalled": age_ms is not None and age_ms > STALL_AGE_MS,
        "send_failures": {uri: f.count for uri, f in sorted(status.message_send_failures.items())},
        "peers": len(status.peers),
    }


def _stall_second(data: Mapping[str, Any]) -> int:
    """Whole seconds of a stall (0 while healthy): a stalled peer is re-recorded each second."""
    age = data.get("last_update_age_ms")
    if not data.get("stalled") or not isinstance(age, int | float):
        return 0
    return int(age // 1000)


def cluster_changed(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> bool:
    """Whether to record: any field but the ever-growing age differs, or a stall grew by a
    whole second (so the history shows how long the consensus thread stood still)."""
    if previous is None:
        return True
    if _stall_second(previous) != _stall_second(current):
        return True
    return any(previous.get(k) != v for k, v in current.items() if k != "last_update_age_ms")


def collection_data(
    name: str, info: CollectionCluster | None, status: int | None
) -> dict[str, Any]:
    """The ``collection_cluster`` observation: replicas sorted, or not visible (404)."""
    if info is None:
        return {"collection": name, "visible": False, "status": status}
    replicas = sorted([r.shard_id, r.peer_id, r.state] for r in info.replicas)
    transfers = sorted([t.shard_id, t.from_peer, t.to_peer] for t in info.transfers)
    return {"collection": name, "visible": True, "replicas": replicas, "transfers": transfers}
