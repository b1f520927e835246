"""The Qdrant log messages the detectors read (notes §4.2, §4.4-4.6): regexes and formatters.

Each pattern matches the *message* of a parsed log line (``data["message"]`` of a ``log``
observation; the level and target are separate fields). The ``format_*`` functions write the
same texts, so literal test histories (:mod:`lagrace.analysis.builders`) and the simulated
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
