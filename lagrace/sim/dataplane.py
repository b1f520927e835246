"""Points upserts: write ordering, the coordinator's fan-out, the receiving replica.

A user upsert entering peer P runs as Qdrant's ``TableOfContent::update`` does (notes §4.8):

1. P takes its table of contents' read guard (:meth:`SimPeer.toc_guard`): buggy mode holds it
   for the whole request, fixed mode drops it right after the collection lookup.
2. P takes a permit of its update rate limiter (``update_rate_limit``; user requests only).
3. Per shard, in parallel: ``weak`` — P coordinates the write; ``medium``/``strong`` — the
   ordering leader is the highest peer id among the shard's replicas (``strong``: any state;
   ``medium``: active and not locally disabled). If that is P, P coordinates; otherwise P
   forwards the write to it (an internal call) and the leader, under its own read guard,
   coordinates it — fanning out to every replica, P included.
4. Coordinating (:func:`coordinate`): write to every replica updatable in the coordinator's own
   view and not locally disabled — its own directly, the others by internal calls
   (:mod:`lagrace.sim.transport`) whose handler takes a read guard on the receiver.

Failures are handled as Qdrant handles them (notes §4.6): a failed fan-out (path A) disables
the replica locally and proposes it ``Dead`` from the state in the coordinator's view, then,
with ``wait=true`` and a transient error, waits up to 30 s for that state to change; a failed
forward (path B) disables the leader the same way and fails the write at once. Every such
proposal is built from the proposer's own, possibly stale, view.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lagrace.sim.backoff import ReplicaKey
from lagrace.sim.operations import SetShardReplicaState
from lagrace.sim.peer import SimPeer
from lagrace.sim.placement import shard_for_point
from lagrace.sim.replica_states import (
    ReplicaState,
    failure_is_ignored,
    is_active,
    is_partial_or_recovery,
    is_updatable,
)
from lagrace.sim.storage_errors import ErrorKind, StorageError, collection_not_found
from lagrace.sim.transport import internal_call

UPDATE_TARGET = "collection::shards::replica_set::update"
REPLICA_SET_TARGET = "collection::shards::replica_set"
ORDERINGS = ("weak", "medium", "strong")
_TRANSIENT = frozenset(
    {
        ErrorKind.SERVICE_ERROR,
        ErrorKind.TIMEOUT,
        ErrorKind.PRECONDITION_FAILED,
        ErrorKind.CANCELLED,
    }
)

PointId = int | str


class UpdateFailed(Exception):
    """The upsert fails as a whole with this ``StorageError``."""

    def __init__(self, error: StorageError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class ShardWrite:
    """The points of one upsert that route to one shard."""

    collection: str
    shard_id: int
    ids: tuple[PointId, ...]


def is_transient(error: StorageError) -> bool:
    """Transient errors deactivate replicas even for ``wait=false`` (§4.6-A)."""
    return error.kind in _TRANSIENT


def group_by_shard(collection: str, ids: list[PointId], shard_number: int) -> list[ShardWrite]:
    """Split point ids by shard, shards in ascending order, ids in request order."""
    by_shard: dict[int, list[PointId]] = {}
    for point_id in ids:
        by_shard.setdefault(shard_for_point(point_id, shard_number), []).append(point_id)
    return [ShardWrite(collection, shard, tuple(by_shard[shard])) for shard in sorted(by_shard)]


def ordering_leader(
    states: dict[int, ReplicaState], disabled: frozenset[int], ordering: str
) -> int | None:
    """The replica a ``medium``/``strong`` write goes through (``update.rs:146-175``).

    ``strong``: the highest peer id among all replicas; ``medium``: the highest among active
    replicas not locally disabled (``None`` if there is none).
    """
    if ordering == "strong":
        return max(states, default=None)
    alive = [p for p, state in states.items() if is_active(state) and p not in disabled]
    return max(alive, default=None)


def combine_shard_errors(errors: list[StorageError], shards: int) -> StorageError:
    """The error of a request some of whose shards failed."""
    if len(errors) == shards:
        return errors[0]
    return StorageError(
        ErrorKind.SERVICE_ERROR,
        f"{len(errors)} out of {shards} shards failed to apply operation. "
        f"First error captured: {errors[0]}",
    )


async def upsert(
    peer: SimPeer, collection: str, ids: list[PointId], *, wait: bool, ordering: str = "weak"
) -> dict[str, object]:
    """A user upsert entering ``peer``; the ``UpdateResult`` or ``UpdateFailed``."""
    async with peer.toc_guard():
        coll = peer.view.collections.get(collection)
        if coll is None:
            raise UpdateFailed(collection_not_found(collection))
        async with peer.update_limiter:
            operation_id = peer.next_operation_id()
            writes = group_by_shard(collection, ids, coll.params.shard_number)
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(_route(peer, w, wait, ordering)) for w in writes]
    errors = [error for task in tasks if (error := task.result()) is not None]
    if errors:
        raise UpdateFailed(combine_shard_errors(errors, len(writes)))
    return {"operation_id": operation_id, "status": "completed" if wait else "acknowledged"}


async def _route(
    peer: SimPeer, write: ShardWrite, wait: bool, ordering: str
) -> StorageError | None:
    if ordering == "weak":
        return await coordinate(peer, write, wait)
    coll = peer.view.collections.get(write.collection)
    if coll is None:
        return collection_not_found(write.collection)
    states = coll.shards[write.shard_id]
    disabled = frozenset(
        p for p in states if ReplicaKey(write.collection, write.shard_id, p) in peer.disabled
    )
    leader = ordering_leader(states, disabled, ordering)
    if leader is None:
        return _no_active_replica(peer, write)
    if leader == peer.peer_id:
        return await coordinate(peer, write, wait)
    return await _forward(peer, leader, write, wait, ordering)


async def _forward(
    peer: SimPeer, leader_id: int, write: ShardWrite, wait: bool, ordering: str
) -> StorageError | None:
    """Path B: forward to the ordering leader; on a transient failure disable it locally."""
    leader = peer.directory[leader_id]
    error = await internal_call(peer, leader, lambda: handle_forwarded(leader, write, wait))
    if error is None:
        return None
    if is_transient(error):
        _disable(peer, write, leader_id)
    return StorageError(
        ErrorKind.SERVICE_ERROR,
        f"Failed to apply update with {ordering.capitalize()} ordering via leader peer "
        f"{leader_id}: {error}",
    )


async def handle_forwarded(leader: SimPeer, write: ShardWrite, wait: bool) -> StorageError | None:
    """The ordering leader's internal handler: read guard, then coordinate the write."""
    async with leader.toc_guard():
        if write.collection not in leader.view.collections:
            return collection_not_found(write.collection)
        return await coordinate(leader, write, wait)


async def receive_internal(peer: SimPeer, write: ShardWrite, wait: bool) -> StorageError | None:
    """A replica's internal update handler: read guard, then apply locally."""
    async with peer.toc_guard():
        return await apply_local(peer, write, wait)


async def apply_local(peer: SimPeer, write: ShardWrite, wait: bool) -> StorageError | None:
    """Apply a shard write to ``peer``'s own replica, checked against its own view."""
    coll = peer.view.collections.get(write.collection)
    if coll is None:
        return collection_not_found(write.collection)
    state = coll.shards.get(write.shard_id, {}).get(peer.peer_id)
    if state is None or not is_updatable(state):
        return StorageError(
            ErrorKind.PRECONDITION_FAILED, f"No target shard {write.shard_id} found for update"
        )
    peer.data.setdefault(write.collection, {}).setdefault(write.shard_id, set()).update(write.ids)
    if wait and peer.config.update_apply_ms > 0:
        await asyncio.sleep(peer.config.update_apply_ms / 1000)
    return None


async def _write_replica(
    peer: SimPeer, target_id: int, write: ShardWrite, wait: bool
) -> StorageError | None:
    if target_id == peer.peer_id:
        return await apply_local(peer, write, wait)
    target = peer.directory[target_id]
    return await internal_call(peer, target, lambda: receive_internal(target, write, wait))


def _no_active_replica(peer: SimPeer, write: ShardWrite) -> StorageError:
    return StorageError(
        ErrorKind.SERVICE_ERROR,
        f"The replica set for shard {write.shard_id} on peer {peer.peer_id} has no active replica",
    )


async def coordinate(peer: SimPeer, write: ShardWrite, wait: bool) -> StorageError | None:
    """Fan one shard's write out from ``peer``; the error that fails it, if any (§4.6-A)."""
    coll = peer.view.collections.get(write.collection)
    if coll is None:
        return collection_not_found(write.collection)
    states = dict(coll.shards[write.shard_id])
    targets = [
        p
        for p, state in sorted(states.items())
        if is_updatable(state)
        and ReplicaKey(write.collection, write.shard_id, p) not in peer.disabled
    ]
    if not targets:
        return _no_active_replica(peer, write)
    async with asyncio.TaskGroup() as group:
        calls = {p: group.create_task(_write_replica(peer, p, write, wait)) for p in targets}
    failures = [(p, err) for p, call in calls.items() if (err := call.result()) is not None]
    for p, err in failures:
        peer.log.write(
            "WARN",
            UPDATE_TARGET,
            f"Failed to update shard {write.collection}:{write.shard_id} on peer {p}, error: {err}",
        )
    successes = len(targets) - len(failures)
    if successes == 0:
        return StorageError(ErrorKind.SERVICE_ERROR, str(failures[0][1]))
    needed = min(coll.params.write_consistency_factor, len(targets))
    if successes < needed:
        return StorageError(
            ErrorKind.SERVICE_ERROR,
            f"Failed to apply operation to at least `write_consistency_factor` replicas. "
            f"Successful: {successes}, required: {needed}, errors: {failures[0][1]}",
        )
    return await _handle_failed_replicas(peer, write, failures, wait)


def _disable(peer: SimPeer, write: ShardWrite, p: int) -> ReplicaState | None:
    """``add_locally_disabled``: disable ``p`` and propose it Dead from this peer's view.

    Returns the state it was disabled from, ``None`` if it was not disabled.
    """
    state = peer.view.state_of(write.collection, write.shard_id, p)
    if state is None or failure_is_ignored(state):
        return None
    if is_active(state) and not _another_active(peer, write, p):
        peer.log.write(
            "WARN", REPLICA_SET_TARGET, f"Cannot locally disable last active peer {p} for replica"
        )
        return None
    from_state = None if is_partial_or_recovery(state) else state
    key = ReplicaKey(write.collection, write.shard_id, p)
    if peer.disabled.disable(key, from_state, peer.clock.now_ns()):
        peer.log.write("DEBUG", REPLICA_SET_TARGET, f"Notify peer failure: {p}")
        peer.propose(
            SetShardReplicaState(write.collection, write.shard_id, p, ReplicaState.DEAD, from_state)
        )
    return state


async def _handle_failed_replicas(
    peer: SimPeer, write: ShardWrite, failures: list[tuple[int, StorageError]], wait: bool
) -> StorageError | None:
    """§4.6-A: disable failed replicas locally and propose them Dead; maybe wait for it."""
    awaited: list[tuple[int, ReplicaState]] = []
    for p, err in failures:
        state = peer.view.state_of(write.collection, write.shard_id, p)
        if state is None or failure_is_ignored(state):
            continue
        if not wait and not is_transient(err):
            continue
        if is_active(state) and not _another_active(peer, write, p):
            _disable(peer, write, p)  # logs that it cannot
            continue
        peer.log.write(
            "DEBUG",
            UPDATE_TARGET,
            f"Deactivating peer {p} because of failed update of shard "
            f"{write.collection}:{write.shard_id}",
        )
        _disable(peer, write, p)
        if wait and (is_transient(err) or state is ReplicaState.INITIALIZING):
            awaited.append((p, state))
    if not awaited:
        return None
    timeout_s = peer.config.deactivation_timeout_s

    def deactivated() -> bool:
        return all(
            peer.view.state_of(write.collection, write.shard_id, p) is not state
            for p, state in awaited
        )

    try:
        async with asyncio.timeout(timeout_s):
            await peer.wait_until(deactivated)
    except TimeoutError:
        return StorageError(
            ErrorKind.SERVICE_ERROR,
            f"Some replica of shard {write.shard_id} failed to apply operation and deactivation "
            f"timed out after {timeout_s:g}s. Consistency of this update is not guaranteed. "
            "Please retry.",
        )
    return None


def _another_active(peer: SimPeer, write: ShardWrite, excluded: int) -> bool:
    states = peer.view.collections[write.collection].shards[write.shard_id]
    return any(
        is_active(state)
        and p != excluded
        and ReplicaKey(write.collection, write.shard_id, p) not in peer.disabled
        for p, state in states.items()
    )
