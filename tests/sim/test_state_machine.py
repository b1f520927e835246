"""The pure apply of one entry to a peer's view (notes §4.2-§4.5)."""

from __future__ import annotations

from lagrace.sim.operations import (
    CollectionParams,
    CreateCollection,
    DeleteCollection,
    FinishTransfer,
    SetShardReplicaState,
    StartTransfer,
    TestSlowDown,
    activation,
)
from lagrace.sim.replica_states import ReplicaState
from lagrace.sim.state_machine import PeerView, apply_operation
from lagrace.sim.storage_errors import ErrorKind, StorageError

PARAMS = CollectionParams(4, "Cosine", 2, 3, 1, True)
PEERS = (11, 22, 33)
A, D, INIT = ReplicaState.ACTIVE, ReplicaState.DEAD, ReplicaState.INITIALIZING


def _view_with_collection() -> PeerView:
    view = PeerView(11, PEERS)
    create = CreateCollection("c", PARAMS, ((11, 22, 33), (11, 22, 33)), (11, 1))
    assert apply_operation(view, create).result is True
    return view


def _all_active(view: PeerView) -> None:
    for shard in (0, 1):
        for peer in PEERS:
            assert apply_operation(view, activation("c", shard, peer)).result is True


def _error(result: object) -> str:
    assert isinstance(result, StorageError)
    return str(result)


def test_create_starts_every_replica_initializing_and_duplicate_is_409() -> None:
    """Create logs ``Creating collection``; a second create is AlreadyExists (409)."""
    view = PeerView(11, PEERS)
    create = CreateCollection("c", PARAMS, ((11, 22), (22, 33)), (11, 1))
    outcome = apply_operation(view, create)
    assert outcome.result is True
    assert outcome.created == "c"
    assert [r.message for r in outcome.records] == ["Creating collection c"]
    assert view.collections["c"].shards == {0: {11: INIT, 22: INIT}, 1: {22: INIT, 33: INIT}}
    again = apply_operation(view, CreateCollection("c", PARAMS, ((11,),), (22, 1)))
    assert isinstance(again.result, StorageError)
    assert again.result.http_status == 409
    assert str(again.result) == "Wrong input: Collection `c` already exists!"


def test_delete_reports_whether_it_existed() -> None:
    """Delete returns true once, then false."""
    view = _view_with_collection()
    assert apply_operation(view, DeleteCollection("c")).result is True
    assert apply_operation(view, DeleteCollection("c")).result is False


def test_set_state_logs_the_rust_debug_line_first() -> None:
    """The ``Set shard replica state`` debug line precedes validation."""
    view = _view_with_collection()
    _all_active(view)
    op = SetShardReplicaState("c", 0, 22, D, A)
    outcome = apply_operation(view, op)
    assert outcome.result is True
    assert outcome.records[0].message == (
        'Set shard replica state SetShardReplicaState { collection_name: "c", shard_id: 0, '
        "peer_id: 22, state: Dead, from_state: Some(Active) }"
    )
    assert view.state_of("c", 0, 22) is D


def test_duplicate_dead_proposal_is_the_some_dead_echo() -> None:
    """A second Dead-from-Active for the same replica is dismissed with the exact text."""
    view = _view_with_collection()
    _all_active(view)
    op = SetShardReplicaState("c", 1, 33, D, A)
    assert apply_operation(view, op).result is True
    assert _error(apply_operation(view, op).result) == (
        "Wrong input: Replica 33 of shard 1 has state Some(Dead), but expected Some(Active)"
    )


def test_last_active_replica_cannot_be_deactivated() -> None:
    """With the other two replicas Dead, the last Active one is protected."""
    view = _view_with_collection()
    _all_active(view)
    apply_operation(view, SetShardReplicaState("c", 0, 11, D, A))
    apply_operation(view, SetShardReplicaState("c", 0, 22, D, A))
    result = apply_operation(view, SetShardReplicaState("c", 0, 33, D, A)).result
    assert _error(result) == "Wrong input: Cannot deactivate the last active replica 33 of shard 0"
    assert view.state_of("c", 0, 33) is A


def test_last_initializing_replica_is_protected_when_none_is_active() -> None:
    """No Active replica at all: an Initializing one counts as the last (#6755)."""
    view = _view_with_collection()
    result = apply_operation(view, SetShardReplicaState("c", 0, 11, D, INIT)).result
    assert _error(result) == "Wrong input: Cannot deactivate the last active replica 11 of shard 0"


def test_checks_run_in_order_from_state_before_last_active() -> None:
    """A wrong ``from_state`` is reported even when the replica is also the last active."""
    view = _view_with_collection()
    _all_active(view)
    apply_operation(view, SetShardReplicaState("c", 0, 11, D, A))
    apply_operation(view, SetShardReplicaState("c", 0, 22, D, A))
    result = apply_operation(view, SetShardReplicaState("c", 0, 33, D, INIT)).result
    assert _error(result) == (
        "Wrong input: Replica 33 of shard 0 has state Some(Active), but expected Some(Initializing)"
    )


def test_unknown_peer_is_the_first_check() -> None:
    """A peer outside the replica set and the address book fails check 1."""
    view = _view_with_collection()
    result = apply_operation(view, SetShardReplicaState("c", 0, 99, D, A)).result
    assert _error(result) == (
        "Wrong input: Can't set replica 99:0 state to Dead, because replica 99:0 does not exist "
        "and peer 99 is not part of the cluster"
    )


def test_missing_collection_is_not_found() -> None:
    """A state change for an unknown collection is a NotFound user error."""
    result = apply_operation(PeerView(11, PEERS), activation("nope", 0, 11)).result
    assert isinstance(result, StorageError)
    assert result.kind is ErrorKind.NOT_FOUND
    assert result.is_user_error


def test_recovery_transfer_partial_then_active() -> None:
    """Start sets the Dead target Partial and lists the transfer; finish makes it Active."""
    view = _view_with_collection()
    _all_active(view)
    apply_operation(view, SetShardReplicaState("c", 0, 22, D, A))
    assert apply_operation(view, StartTransfer("c", 0, 11, 22)).result is True
    coll = view.collections["c"]
    assert view.state_of("c", 0, 22) is ReplicaState.PARTIAL
    assert len(coll.transfers) == 1
    assert isinstance(apply_operation(view, StartTransfer("c", 0, 11, 22)).result, StorageError)
    assert apply_operation(view, FinishTransfer("c", 0, 11, 22)).result is True
    assert view.state_of("c", 0, 22) is A
    assert coll.transfers == []


def test_dead_aborts_transfers_of_that_replica() -> None:
    """Setting a transfer's target Dead removes the transfer."""
    view = _view_with_collection()
    _all_active(view)
    apply_operation(view, SetShardReplicaState("c", 0, 22, D, A))
    apply_operation(view, StartTransfer("c", 0, 11, 22))
    apply_operation(view, SetShardReplicaState("c", 0, 22, D, None))
    assert view.collections["c"].transfers == []


def test_source_going_dead_aborts_the_transfer_and_kills_its_target() -> None:
    """The source of a recovery set Dead: the transfer is aborted, the Partial target Dead."""
    view = _view_with_collection()
    _all_active(view)
    apply_operation(view, SetShardReplicaState("c", 0, 22, D, A))
    apply_operation(view, StartTransfer("c", 0, 11, 22))
    assert view.state_of("c", 0, 22) is ReplicaState.PARTIAL
    outcome = apply_operation(view, SetShardReplicaState("c", 0, 11, D, A))
    assert outcome.result is True
    assert view.collections["c"].transfers == []
    assert view.state_of("c", 0, 11) is D
    assert view.state_of("c", 0, 22) is D
    assert view.state_of("c", 0, 33) is A
    assert any("from Some(Partial) to Dead" in r.message for r in outcome.records)


def test_slow_down_sleeps_only_the_target_or_everyone() -> None:
    """TestSlowDown targets one peer, or every peer without ``peer_id``."""
    view = _view_with_collection()
    assert apply_operation(view, TestSlowDown("c", 11, 1500)).sleep_ms == 1500
    assert apply_operation(view, TestSlowDown("c", 22, 1500)).sleep_ms == 0
    assert apply_operation(view, TestSlowDown("c", None, 700)).sleep_ms == 700
