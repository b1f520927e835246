"""Replica-state predicates and the last-source-of-truth rule (notes §3, §4.5)."""

from __future__ import annotations

import pytest

from lagrace.sim.replica_states import (
    ReplicaState,
    is_active,
    is_healthy,
    is_last_source_of_truth_replica,
    is_updatable,
    rust_option,
)

A, D, INIT, P, L = (
    ReplicaState.ACTIVE,
    ReplicaState.DEAD,
    ReplicaState.INITIALIZING,
    ReplicaState.PARTIAL,
    ReplicaState.LISTENER,
)


def test_json_names_are_pascal_case() -> None:
    """Every state serializes as its PascalCase variant name."""
    assert [s.value for s in ReplicaState][:4] == ["Active", "Dead", "Partial", "Initializing"]
    assert ReplicaState("ReshardingScaleDown") is ReplicaState.RESHARDING_SCALE_DOWN


def test_predicates_follow_the_table() -> None:
    """Active/ReshardingScaleDown are active; Dead is neither updatable nor healthy."""
    assert is_active(A)
    assert is_active(ReplicaState.RESHARDING_SCALE_DOWN)
    assert not is_active(INIT)
    assert not is_active(P)
    assert is_updatable(INIT)
    assert is_updatable(P)
    assert not is_updatable(D)
    assert not is_healthy(INIT)
    assert not is_healthy(D)
    assert is_healthy(L)


def test_rust_option_debug() -> None:
    """``Option<ReplicaState>`` renders as Rust's Debug does."""
    assert rust_option(D) == "Some(Dead)"
    assert rust_option(None) == "None"


@pytest.mark.parametrize(
    ("states", "peer", "last"),
    [
        ({1: A, 2: A, 3: A}, 1, False),
        ({1: A, 2: D, 3: D}, 1, True),
        ({1: A, 2: D, 3: P}, 2, False),
        ({1: D, 2: A, 3: INIT}, 3, False),
        ({1: INIT, 2: INIT, 3: D}, 1, True),
        ({1: L, 2: D}, 1, True),
        ({1: D, 2: D}, 1, False),
        ({1: P, 2: D}, 1, False),
    ],
)
def test_last_source_of_truth(states: dict[int, ReplicaState], peer: int, last: bool) -> None:
    """Only active replica, or no active one and this one Initializing/Listener (#6755)."""
    assert is_last_source_of_truth_replica(states, peer) is last
