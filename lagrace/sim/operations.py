"""The entries of the modelled Raft log: collection meta-operations (notes §4.2).

Operations are frozen and hashable: a peer keys the waiters of its proposals by the whole
operation, as Qdrant does (``on_consensus_op_apply``), which also merges identical in-flight
proposals (§2.7). ``debug_repr`` renders the Rust ``Debug`` form Qdrant logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from lagrace.sim.replica_states import ReplicaState, rust_option


@dataclass(frozen=True, slots=True)
class CollectionParams:
    """The part of a collection's configuration the model keeps."""

    vector_size: int
    distance: str
    shard_number: int
    replication_factor: int
    write_consistency_factor: int
    on_disk_payload: bool


@dataclass(frozen=True, slots=True)
class CreateCollection:
    """Create a collection with a shard distribution decided by the proposer.

    ``distribution`` holds, per shard id in order, the peer ids of its replicas.
    ``proposal`` (proposer peer id, sequence) stands in for the random uuid Qdrant sets, so two
    creates never merge.
    """

    name: str
    params: CollectionParams
    distribution: tuple[tuple[int, ...], ...]
    proposal: tuple[int, int]


@dataclass(frozen=True, slots=True)
class DeleteCollection:
    """Delete a collection (result ``False`` if it did not exist)."""

    name: str


@dataclass(frozen=True, slots=True)
class SetShardReplicaState:
    """``SetShardReplicaState`` with Qdrant's optional ``from_state`` guard (§4.5)."""

    collection_name: str
    shard_id: int
    peer_id: int
    state: ReplicaState
    from_state: ReplicaState | None

    def debug_repr(self) -> str:
        """The Rust ``Debug`` of the struct, as in the ``Set shard replica state`` line."""
        return (
            f'SetShardReplicaState {{ collection_name: "{self.collection_name}", '
            f"shard_id: {self.shard_id}, peer_id: {self.peer_id}, state: {self.state.value}, "
            f"from_state: {rust_option(self.from_state)} }}"
        )


@dataclass(frozen=True, slots=True)
class StartTransfer:
    """Start an automatic recovery transfer of a shard ``from_peer`` → ``to_peer``."""

    collection_name: str
    shard_id: int
    from_peer: int
    to_peer: int


@dataclass(frozen=True, slots=True)
class FinishTransfer:
    """Finish a recovery transfer: the target becomes ``Active``."""

    collection_name: str
    shard_id: int
    from_peer: int
    to_peer: int


@dataclass(frozen=True, slots=True)
class TestSlowDown:
    """The staging operation: the target peer (every peer if ``None``) sleeps while applying."""

    __test__ = False  # not a pytest test class, despite the name

    collection_name: str
    peer_id: int | None
    duration_ms: int


Operation = (
    CreateCollection
    | DeleteCollection
    | SetShardReplicaState
    | StartTransfer
    | FinishTransfer
    | TestSlowDown
)


def activation(collection_name: str, shard_id: int, peer_id: int) -> SetShardReplicaState:
    """``initialize_replica``: ``Active`` from ``Initializing`` (§4.6, §5)."""
    return SetShardReplicaState(
        collection_name, shard_id, peer_id, ReplicaState.ACTIVE, ReplicaState.INITIALIZING
    )
