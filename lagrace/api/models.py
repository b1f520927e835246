"""Typed views of the Qdrant REST answers lagrace reads (notes §2).

Pure data. The parsers from the JSON ``result`` objects live in :mod:`lagrace.api.parse`; a
parser raises :class:`lagrace.errors.ProtocolError` when a body does not have Qdrant's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from lagrace.errors import LagraceError
from lagrace.events import Outcome

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SendFailure:
    """One entry of ``message_send_failures`` (keyed by the peer's p2p URI)."""

    count: int
    latest_error: str | None
    latest_error_unix_ns: int | None


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    """``GET /cluster`` of one node (enabled cluster mode)."""

    peer_id: int
    peers: dict[int, str]  # peer id -> p2p URI
    term: int
    commit: int
    pending_operations: int
    leader: int | None  # 0 / None while no leader is known
    role: str | None  # "Leader" | "Follower" | "Candidate" | "PreCandidate" | None
    is_voter: bool
    thread_status: str  # "working" | "stopped" | "stopped_with_err"
    thread_error: str | None
    last_update_unix_ns: int | None
    message_send_failures: dict[str, SendFailure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReplicaView:
    """One replica as a node sees it in ``GET /collections/{n}/cluster``."""

    shard_id: int
    peer_id: int
    state: str  # ReplicaState, PascalCase
    local: bool
    points_count: int | None = None


@dataclass(frozen=True, slots=True)
class ShardTransfer:
    """One entry of ``shard_transfers``."""

    shard_id: int
    from_peer: int
    to_peer: int
    sync: bool
    method: str | None = None


@dataclass(frozen=True, slots=True)
class CollectionCluster:
    """``GET /collections/{n}/cluster`` of one node: that node's consensus view."""

    peer_id: int
    shard_count: int
    replicas: tuple[ReplicaView, ...]
    transfers: tuple[ShardTransfer, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """``PUT /collections/{n}/points`` result."""

    operation_id: int | None
    status: str  # "acknowledged" | "completed" | "wait_timeout"


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """``GET /collections/{n}``: the parts of ``CollectionInfo`` lagrace reads."""

    status: str  # "green" | "yellow" | "grey" | "red"
    optimizer_status: str  # "ok" or the optimizer's error text
    points_count: int | None
    indexed_vectors_count: int | None
    segments_count: int
    shard_number: int | None
    replication_factor: int | None
    write_consistency_factor: int | None


@dataclass(frozen=True, slots=True)
class ClusterMetrics:
    """The ``cluster_*`` families of ``GET /metrics`` (plus a few collection gauges)."""

    enabled: bool | None = None
    peers_total: int | None = None
    term: int | None = None
    commit: int | None = None
    pending_operations: int | None = None
    voter: bool | None = None
    last_update_unix_s: float | None = None
    working: bool | None = None
    collections_total: int | None = None
    dead_replicas: int | None = None


@dataclass(frozen=True, slots=True)
class Reply(Generic[T]):
    """What every client call returns instead of raising: the recorded outcome and value.

    ``value`` is set only for ``ok``; ``error`` carries Qdrant's ``status.error`` text or the
    transport error; ``op_id`` is the history's operation id of this call. ``problem`` is the
    lagrace error that made an answer unusable, when there is one: a
    :class:`~lagrace.errors.ProtocolError` for a body of the wrong shape, or a
    :class:`~lagrace.errors.ClusterModeError` for ``GET /cluster`` of a node without cluster
    mode (callers such as discovery re-raise it).
    """

    outcome: Outcome
    value: T | None
    status: int | None
    error: str | None
    op_id: int
    problem: LagraceError | None = None

    @property
    def ok(self) -> bool:
        """The call took effect and the body parsed."""
        return self.outcome is Outcome.OK
