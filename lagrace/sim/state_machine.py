"""One peer's consensus-applied state and the pure apply of one entry to it (notes §4.2-§4.5).

``apply_operation`` is what a peer's apply loop runs for each committed entry: it mutates the
``PeerView`` and returns the result (``True``/``False`` or a user ``StorageError``) plus the log
records Qdrant would write while performing the operation. The entry-level lines (``Applying
committed entry``, ``Successfully applied``, the user-error WARN) are written by the loop, and so
is the TestSlowDown sleep: here it is only the number of milliseconds this peer must sleep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lagrace.logline import Level
from lagrace.sim.operations import (
    CollectionParams,
    CreateCollection,
    DeleteCollection,
    FinishTransfer,
    Operation,
    SetShardReplicaState,
    StartTransfer,
    TestSlowDown,
)
from lagrace.sim.replica_states import (
    ReplicaState,
    is_active,
    is_last_source_of_truth_replica,
    rust_option,
)
from lagrace.sim.storage_errors import ErrorKind, StorageError, collection_not_found

META_TARGET = "storage::content_manager::toc::collection_meta_ops"
COLLECTION_TARGET = "collection::collection"


@dataclass(frozen=True, slots=True)
class Transfer:
    """One shard transfer in progress (a recovery: ``sync`` is always true here)."""

    shard_id: int
    from_peer: int
    to_peer: int


@dataclass(slots=True)
class CollectionState:
    """A collection as consensus describes it: params, replica states per shard, transfers."""

    name: str
    params: CollectionParams
    shards: dict[int, dict[int, ReplicaState]]
    transfers: list[Transfer] = field(default_factory=list)

    def replicas(self, shard_id: int) -> dict[int, ReplicaState]:
        """Replica states of one shard (peer id → state)."""
        return self.shards[shard_id]

    def local_shards(self, peer_id: int) -> list[int]:
        """Shard ids with a replica on ``peer_id``, sorted."""
        return [shard for shard, states in sorted(self.shards.items()) if peer_id in states]


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A log line to write: level, Rust target, message."""

    level: Level
    target: str
    message: str


@dataclass(slots=True)
class ApplyOutcome:
    """What applying one operation did on one peer."""

    result: bool | StorageError
    records: list[LogRecord] = field(default_factory=list)
    created: str | None = None
    deleted: str | None = None
    sleep_ms: int = 0


@dataclass(slots=True)
class PeerView:
    """The consensus state one peer has applied: address book and collections."""

    peer_id: int
    peers: tuple[int, ...]
    collections: dict[str, CollectionState] = field(default_factory=dict)

    def state_of(self, collection: str, shard_id: int, peer_id: int) -> ReplicaState | None:
        """A replica's state in this view, ``None`` if unknown."""
        coll = self.collections.get(collection)
        if coll is None or shard_id not in coll.shards:
            return None
        return coll.shards[shard_id].get(peer_id)


def apply_operation(view: PeerView, op: Operation) -> ApplyOutcome:
    """Apply one committed operation to ``view`` (mutating it) and say what happened."""
    if isinstance(op, CreateCollection):
        return _create(view, op)
    if isinstance(op, DeleteCollection):
        return _delete(view, op)
    if isinstance(op, SetShardReplicaState):
        return _set_replica_state(view, op)
    if isinstance(op, StartTransfer):
        return _start_transfer(view, op)
    if isinstance(op, FinishTransfer):
        return _finish_transfer(view, op)
    return _slow_down(view, op)


def announcement(view: PeerView, op: CreateCollection | DeleteCollection) -> LogRecord | None:
    """The line a create or delete logs when it starts, before it takes the write guard.

    ``None`` for a create of a name that exists (it fails at once with AlreadyExists).
    """
    if isinstance(op, DeleteCollection):
        return LogRecord("INFO", META_TARGET, f"Deleting collection {op.name}")
    if op.name in view.collections:
        return None
    return LogRecord("INFO", META_TARGET, f"Creating collection {op.name}")


def _create(view: PeerView, op: CreateCollection) -> ApplyOutcome:
    if op.name in view.collections:
        return ApplyOutcome(
            StorageError(ErrorKind.ALREADY_EXISTS, f"Collection `{op.name}` already exists!")
        )
    shards = {
        shard_id: dict.fromkeys(peers, ReplicaState.INITIALIZING)
        for shard_id, peers in enumerate(op.distribution)
    }
    record = announcement(view, op)
    assert record is not None
    view.collections[op.name] = CollectionState(op.name, op.params, shards)
    return ApplyOutcome(True, [record], created=op.name)


def _delete(view: PeerView, op: DeleteCollection) -> ApplyOutcome:
    record = announcement(view, op)
    assert record is not None
    if view.collections.pop(op.name, None) is None:
        return ApplyOutcome(False, [record])
    return ApplyOutcome(True, [record], deleted=op.name)


def validate_replica_state_change(
    states: dict[int, ReplicaState], peers: tuple[int, ...], op: SetShardReplicaState
) -> StorageError | None:
    """§4.5's checks, in order; ``None`` if the change may be applied."""
    current = states.get(op.peer_id)
    if current is None and op.peer_id not in peers:
        return StorageError(
            ErrorKind.BAD_INPUT,
            f"Can't set replica {op.peer_id}:{op.shard_id} state to {op.state.value}, because "
            f"replica {op.peer_id}:{op.shard_id} does not exist and peer {op.peer_id} is not "
            "part of the cluster",
        )
    if op.from_state is not None and current is not op.from_state:
        return StorageError(
            ErrorKind.BAD_INPUT,
            f"Replica {op.peer_id} of shard {op.shard_id} has state {rust_option(current)}, "
            f"but expected {rust_option(op.from_state)}",
        )
    if not is_active(op.state) and is_last_source_of_truth_replica(states, op.peer_id):
        return StorageError(
            ErrorKind.BAD_INPUT,
            f"Cannot deactivate the last active replica {op.peer_id} of shard {op.shard_id}",
        )
    return None


def _set_replica_state(view: PeerView, op: SetShardReplicaState) -> ApplyOutcome:
    records = [LogRecord("DEBUG", META_TARGET, f"Set shard replica state {op.debug_repr()}")]
    coll = view.collections.get(op.collection_name)
    if coll is None:
        return ApplyOutcome(collection_not_found(op.collection_name), records)
    if op.shard_id not in coll.shards:
        return ApplyOutcome(
            StorageError(ErrorKind.NOT_FOUND, f"Shard {op.shard_id} not found"), records
        )
    states = coll.shards[op.shard_id]
    error = validate_replica_state_change(states, view.peers, op)
    if error is not None:
        return ApplyOutcome(error, records)
    records.append(
        LogRecord(
            "DEBUG",
            COLLECTION_TARGET,
            f"Changing shard {op.collection_name}:{op.shard_id} replica state from "
            f"{rust_option(states.get(op.peer_id))} to {op.state.value}",
        )
    )
    states[op.peer_id] = op.state
    if op.state is ReplicaState.DEAD:
        # §4.5: a replica set Dead aborts the transfers it is part of; aborting a sync transfer
        # sets its target Dead (§4.6-E), so a Partial target whose source died is recovered anew.
        aborted = [
            t
            for t in coll.transfers
            if t.shard_id == op.shard_id and op.peer_id in (t.from_peer, t.to_peer)
        ]
        coll.transfers = [t for t in coll.transfers if t not in aborted]
        for t in aborted:
            if t.to_peer != op.peer_id and states.get(t.to_peer) is ReplicaState.PARTIAL:
                records.append(
                    LogRecord(
                        "DEBUG",
                        COLLECTION_TARGET,
                        f"Changing shard {op.collection_name}:{op.shard_id} replica state from "
                        f"{rust_option(ReplicaState.PARTIAL)} to {ReplicaState.DEAD.value}",
                    )
                )
                states[t.to_peer] = ReplicaState.DEAD
    return ApplyOutcome(True, records)


def _transfer_lookup(
    view: PeerView, collection: str, shard_id: int
) -> tuple[CollectionState | None, StorageError | None]:
    coll = view.collections.get(collection)
    if coll is None:
        return None, collection_not_found(collection)
    if shard_id not in coll.shards:
        return None, StorageError(ErrorKind.NOT_FOUND, f"Shard {shard_id} not found")
    return coll, None


def _start_transfer(view: PeerView, op: StartTransfer) -> ApplyOutcome:
    coll, error = _transfer_lookup(view, op.collection_name, op.shard_id)
    if coll is None:
        assert error is not None
        return ApplyOutcome(error)
    states = coll.shards[op.shard_id]
    if any(t.shard_id == op.shard_id and t.to_peer == op.to_peer for t in coll.transfers):
        return ApplyOutcome(
            StorageError(
                ErrorKind.BAD_REQUEST,
                f"Shard {op.shard_id} is already involved in transfer to peer {op.to_peer}",
            )
        )
    if states.get(op.from_peer) is not ReplicaState.ACTIVE:
        return ApplyOutcome(
            StorageError(
                ErrorKind.BAD_INPUT,
                f"Source replica {op.from_peer}:{op.shard_id} is "
                f"{rust_option(states.get(op.from_peer))}, not Some(Active)",
            )
        )
    if states.get(op.to_peer) is not ReplicaState.DEAD:
        return ApplyOutcome(
            StorageError(
                ErrorKind.BAD_INPUT,
                f"Replica {op.to_peer} of shard {op.shard_id} has state "
                f"{rust_option(states.get(op.to_peer))}, but expected Some(Dead)",
            )
        )
    states[op.to_peer] = ReplicaState.PARTIAL
    coll.transfers.append(Transfer(op.shard_id, op.from_peer, op.to_peer))
    record = LogRecord(
        "DEBUG",
        COLLECTION_TARGET,
        f"Starting shard transfer {op.collection_name}:{op.shard_id} "
        f"from {op.from_peer} to {op.to_peer} (sync, recovery)",
    )
    return ApplyOutcome(True, [record])


def _finish_transfer(view: PeerView, op: FinishTransfer) -> ApplyOutcome:
    coll, error = _transfer_lookup(view, op.collection_name, op.shard_id)
    if coll is None:
        assert error is not None
        return ApplyOutcome(error)
    transfer = Transfer(op.shard_id, op.from_peer, op.to_peer)
    if transfer not in coll.transfers:
        return ApplyOutcome(
            StorageError(
                ErrorKind.BAD_INPUT,
                f"There is no transfer for shard {op.shard_id} from {op.from_peer} to {op.to_peer}",
            )
        )
    coll.transfers.remove(transfer)
    coll.shards[op.shard_id][op.to_peer] = ReplicaState.ACTIVE
    record = LogRecord(
        "DEBUG",
        COLLECTION_TARGET,
        f"Finished shard transfer {op.collection_name}:{op.shard_id} "
        f"from {op.from_peer} to {op.to_peer}",
    )
    return ApplyOutcome(True, [record])


def _slow_down(view: PeerView, op: TestSlowDown) -> ApplyOutcome:
    targeted = op.peer_id is None or op.peer_id == view.peer_id
    return ApplyOutcome(True, sleep_ms=op.duration_ms if targeted else 0)
