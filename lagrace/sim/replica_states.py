"""Qdrant's ``ReplicaState`` and its predicates (notes §3), plus the last-replica rule (§4.5).

The JSON form is the PascalCase variant name, which is also what Rust's ``Debug`` prints, so
``Some(Dead)`` in a log line is ``f"Some({state.value})"``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class ReplicaState(enum.Enum):
    """State of one replica of one shard, as consensus records it."""

    ACTIVE = "Active"
    DEAD = "Dead"
    PARTIAL = "Partial"
    INITIALIZING = "Initializing"
    LISTENER = "Listener"
    PARTIAL_SNAPSHOT = "PartialSnapshot"
    RECOVERY = "Recovery"
    RESHARDING = "Resharding"
    RESHARDING_SCALE_DOWN = "ReshardingScaleDown"
    ACTIVE_READ = "ActiveRead"
    MANUAL_RECOVERY = "ManualRecovery"


_ACTIVE = frozenset({ReplicaState.ACTIVE, ReplicaState.RESHARDING_SCALE_DOWN})
_HEALTHY = frozenset(
    {
        ReplicaState.ACTIVE,
        ReplicaState.LISTENER,
        ReplicaState.RESHARDING,
        ReplicaState.MANUAL_RECOVERY,
        ReplicaState.RESHARDING_SCALE_DOWN,
    }
)
_UPDATABLE = frozenset(
    {
        ReplicaState.ACTIVE,
        ReplicaState.PARTIAL,
        ReplicaState.INITIALIZING,
        ReplicaState.LISTENER,
        ReplicaState.RESHARDING,
        ReplicaState.RESHARDING_SCALE_DOWN,
        ReplicaState.ACTIVE_READ,
    }
)
_PARTIAL_OR_RECOVERY = frozenset(
    {
        ReplicaState.PARTIAL,
        ReplicaState.MANUAL_RECOVERY,
        ReplicaState.PARTIAL_SNAPSHOT,
        ReplicaState.RECOVERY,
        ReplicaState.RESHARDING,
        ReplicaState.RESHARDING_SCALE_DOWN,
        ReplicaState.ACTIVE_READ,
    }
)
_FAILURE_IGNORED = frozenset(
    {ReplicaState.DEAD, ReplicaState.LISTENER, ReplicaState.MANUAL_RECOVERY}
)


def is_active(state: ReplicaState) -> bool:
    """Counts as a source of truth (Active, ReshardingScaleDown)."""
    return state in _ACTIVE


def is_healthy(state: ReplicaState) -> bool:
    """Healthy for ``/readyz``."""
    return state in _HEALTHY


def is_updatable(state: ReplicaState) -> bool:
    """Receives writes without being forced."""
    return state in _UPDATABLE


def is_partial_or_recovery(state: ReplicaState) -> bool:
    """Partial-ish: a failed write does not carry it as ``from_state``."""
    return state in _PARTIAL_OR_RECOVERY


def failure_is_ignored(state: ReplicaState) -> bool:
    """A failed write to a replica in this state is not handled (§4.6-A)."""
    return state in _FAILURE_IGNORED


def rust_option(state: ReplicaState | None) -> str:
    """Rust ``Debug`` of ``Option<ReplicaState>``: ``Some(Active)`` or ``None``."""
    return "None" if state is None else f"Some({state.value})"


def is_last_source_of_truth_replica(states: Mapping[int, ReplicaState], peer_id: int) -> bool:
    """Qdrant's ``is_last_source_of_truth_replica`` (§4.5 check 3).

    True if ``peer_id`` is the only active replica, or if no replica is active and this one
    is ``Initializing`` or ``Listener`` (#6755).
    """
    active = [peer for peer, state in states.items() if is_active(state)]
    if active:
        return active == [peer_id]
    return states.get(peer_id) in (ReplicaState.INITIALIZING, ReplicaState.LISTENER)
