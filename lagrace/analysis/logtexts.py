"""The Qdrant log messages the detectors read (notes §4.2, §4.4-4.6): regexes and formatters.

Each pattern matches the *message* of a parsed log line (``data["message"]`` of a ``log``
observation; the level and target are separate fields). The ``format_*`` functions write the
same texts, so literal test histories (:mod:`lagrace.testing.histories`) and the simulated
cluster can produce exactly what the detectors look for.
"""

from __future__ import annotations

import re
from typing import Final

TARGET_CONSENSUS_MANAGER: Final = "storage::content_manager::consensus_manager"
TARGET_STAGING: Final = "storage::content_manager::staging"
TARGET_META_OPS: Final = "storage::content_manager::toc::collection_meta_ops"
TARGET_REPLICA_UPDATE: Final = "collection::shards::replica_set::update"

USER_ERROR_PREFIX: Final = "Failed to apply collection meta operation entry with user error: "

# The two symptom signatures (notes §4.5, §4.7). The "Wrong input: " part between the prefix and
# the validation text is the Display of the error kind; it is matched loosely.
DEAD_EXPECTED_ACTIVE: Final = re.compile(
    re.escape(USER_ERROR_PREFIX)
    + r".*?Replica (?P<replica>\d+) of shard (?P<shard>\d+) has state Some\(Dead\), "
    r"but expected Some\(Active\)"
)
LAST_ACTIVE_REPLICA: Final = re.compile(
    re.escape(USER_ERROR_PREFIX)
    + r".*?Cannot deactivate the last active replica (?P<replica>\d+) of shard (?P<shard>\d+)"
)
SET_REPLICA_STATE: Final = re.compile(
    r"Set shard replica state SetShardReplicaState \{ collection_name: \"(?P<collection>[^\"]*)\", "
    r"shard_id: (?P<shard>\d+), peer_id: (?P<peer>\d+)"
)
SLOW_DOWN_SLEEPING: Final = re.compile(
    r"TestSlowDown: sleeping for (?P<ms>\d+)ms on peer (?P<peer>\d+)"
)
SLOW_DOWN_FINISHED: Final = re.compile(r"TestSlowDown: finished sleeping on peer (?P<peer>\d+)")
CREATING_COLLECTION: Final = re.compile(r"^Creating collection (?P<collection>\S+)")
FAILED_UPDATE_SHARD: Final = re.compile(
    r"Failed to update shard (?P<collection>\S+):(?P<shard>\d+) on peer (?P<peer>\d+)"
)
# The apply loop, per entry (notes §4.2): an ``Applying`` with no ``Successfully applied`` for
# the same index is an entry the peer is still inside (a slow-down's sleep, or a frozen apply).
APPLYING_ENTRY: Final = re.compile(r"^Applying committed entry with index (?P<index>\d+)")
APPLIED_ENTRY: Final = re.compile(
    r"^Successfully applied consensus operation entry\. Index: (?P<index>\d+)"
)
# The coordinators' side of the lock pile-up (notes §4.6-A/B, §4.8).
FORWARD_FAILED: Final = re.compile(
    r"Failed to apply update with (?P<ordering>\w+) ordering via leader peer (?P<peer>\d+)"
)
DEACTIVATING_PEER: Final = re.compile(
    r"^Deactivating peer (?P<peer>\d+) because of failed update of shard "
    r"(?P<collection>\S+):(?P<shard>\d+)"
)
NOTIFY_PEER_FAILURE: Final = re.compile(r"^Notify peer failure: (?P<peer>\d+)")
TIMED_OUT: Final = re.compile(r"Timeout expired|[Tt]imed? ?out")
# The error text of an internal gRPC call cancelled by its deadline, as Qdrant logs it.
GRPC_TIMEOUT_ERROR: Final = (
    'Operation Cancelled: status: Cancelled, message: "Timeout expired", details: [], '
    "metadata: MetadataMap { headers: {} }"
)


def format_user_error(error: str) -> str:
    """``Failed to apply collection meta operation entry with user error: {error}``."""
    return f"{USER_ERROR_PREFIX}{error}"


def format_unexpected_state(replica: int, shard: int, state: str, expected: str) -> str:
    """The WARN of a ``from_state`` mismatch: ``... has state Some(X), but expected Some(Y)``."""
    return format_user_error(
        f"Wrong input: Replica {replica} of shard {shard} has state Some({state}), "
        f"but expected Some({expected})"
    )


def format_dead_expected_active(replica: int, shard: int) -> str:
    """The ``dead_expected_active`` signature's message."""
    return format_unexpected_state(replica, shard, "Dead", "Active")


def format_last_active_replica(replica: int, shard: int) -> str:
    """The ``last_active_replica`` signature's message."""
    return format_user_error(
        f"Wrong input: Cannot deactivate the last active replica {replica} of shard {shard}"
    )


def format_set_replica_state(
    collection: str, shard: int, peer: int, state: str, from_state: str | None
) -> str:
    """The DEBUG line logged before a ``SetShardReplicaState`` entry is applied."""
    from_text = "None" if from_state is None else f"Some({from_state})"
    return (
        f'Set shard replica state SetShardReplicaState {{ collection_name: "{collection}", '
        f"shard_id: {shard}, peer_id: {peer}, state: {state}, from_state: {from_text} }}"
    )


def format_slow_down_sleeping(ms: int, peer: int) -> str:
    """``TestSlowDown: sleeping for {ms}ms on peer {peer}``."""
    return f"TestSlowDown: sleeping for {ms}ms on peer {peer}"


def format_slow_down_finished(peer: int) -> str:
    """``TestSlowDown: finished sleeping on peer {peer}``."""
    return f"TestSlowDown: finished sleeping on peer {peer}"


def format_creating_collection(collection: str) -> str:
    """``Creating collection {name}``."""
    return f"Creating collection {collection}"


def format_failed_update_shard(collection: str, shard: int, peer: int, error: str) -> str:
    """The coordinator's WARN for one failed replica of a write fan-out (notes §4.6-A)."""
    return f"Failed to update shard {collection}:{shard} on peer {peer}, error: {error}"


def format_applying_entry(index: int) -> str:
    """``Applying committed entry with index {N}`` (DEBUG, consensus_manager)."""
    return f"Applying committed entry with index {index}"


def format_applied_entry(index: int, result: bool = True) -> str:
    """``Successfully applied consensus operation entry. Index: {N}. Result: {bool}``."""
    return (
        f"Successfully applied consensus operation entry. Index: {index}. "
        f"Result: {str(result).lower()}"
    )


def format_forward_failed(ordering: str, leader_peer: int, error: str) -> str:
    """The forwarding peer's error when the ordering leader did not answer (notes §4.8):
    ``Error processing request: Service internal error: Failed to apply update with Strong
    ordering via leader peer {H}: {error}`` (target ``qdrant::actix::helpers``)."""
    return (
        "Error processing request: Service internal error: Failed to apply update with "
        f"{ordering.capitalize()} ordering via leader peer {leader_peer}: {error}"
    )


def format_deactivating_peer(peer: int, collection: str, shard: int) -> str:
    """``Deactivating peer {P} because of failed update of shard {C}:{S}`` (DEBUG)."""
    return f"Deactivating peer {peer} because of failed update of shard {collection}:{shard}"


def format_notify_peer_failure(peer: int) -> str:
    """``Notify peer failure: {P}`` (DEBUG, collection::shards::replica_set)."""
    return f"Notify peer failure: {peer}"
