"""Pure parts of the data plane: the ordering leader and shard error combination."""

from __future__ import annotations

import pytest

from lagrace.sim.dataplane import combine_shard_errors, ordering_leader
from lagrace.sim.replica_states import ReplicaState
from lagrace.sim.storage_errors import ErrorKind, StorageError

A, D = ReplicaState.ACTIVE, ReplicaState.DEAD


@pytest.mark.parametrize(
    ("states", "disabled", "ordering", "leader"),
    [
        ({101: A, 102: A, 103: A}, frozenset(), "strong", 103),
        ({101: A, 102: A, 103: D}, frozenset(), "strong", 103),
        ({101: A, 102: A, 103: D}, frozenset(), "medium", 102),
        ({101: A, 102: A, 103: A}, frozenset({103}), "medium", 102),
        ({101: D}, frozenset(), "medium", None),
    ],
)
def test_ordering_leader_is_the_highest_peer_id(
    states: dict[int, ReplicaState], disabled: frozenset[int], ordering: str, leader: int | None
) -> None:
    """Strong: highest of all replicas, any state; medium: highest active, not disabled."""
    assert ordering_leader(states, disabled, ordering) == leader


def test_shard_errors_combine_like_qdrant() -> None:
    """All shards failed: the first error; some: ``k out of n shards failed``."""
    err = StorageError(ErrorKind.SERVICE_ERROR, "boom")
    assert combine_shard_errors([err], 1) is err
    assert str(combine_shard_errors([err], 3)) == (
        "Service internal error: 1 out of 3 shards failed to apply operation. "
        "First error captured: Service internal error: boom"
    )
