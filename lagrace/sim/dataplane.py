"""Points upserts: the coordinator's fan-out and the receiving replica (notes §2.8, §4.6-A/C).

A user upsert on peer P first queues for P's ``collections`` read lock (the ``DataGate``), then
routes points to shards and, per shard, writes to every replica that is updatable *in P's own
view* and not locally disabled. Remote writes are in-process calls that behave like Qdrant's
internal gRPC updates: refused by a killed peer, timed out after ``internal_timeout_s`` when the
receiver's data plane is blocked, failed at once when the coordinator's deadline (request arrival
plus ``?timeout=`` or ``internal_timeout_s``) is already spent. Failed replicas are handled like
``handle_failed_replicas``: locally disabled and proposed ``Dead`` with the ``from_state`` of P's
view, re-notified with backoff by the idle sync.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from lagrace.clock import NS_PER_S
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

UPDATE_TARGET = "collection::shards::replica_set::update"
REPLICA_SET_TARGET = "collection::shards::replica_set"
_TRANSIENT = frozenset({ErrorKind.SERVICE_ERROR, ErrorKind.TIMEOUT, ErrorKind.PRECONDITION_FAILED})

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


def receive_update(peer: SimPeer, write: ShardWrite) -> StorageError | None:
    """The receiving side of an internal update, checked against the receiver's own view."""
    coll = peer.view.collections.get(write.collection)
    if coll is None:
        return collection_not_found(write.collection)
    state = coll.shards.get(write.shard_id, {}).get(peer.peer_id)
    if state is None or not is_updatable(state):
        return StorageError(
            ErrorKind.PRECONDITION_FAILED, f"No target shard {write.shard_id} found for update"
        )
    peer.data.setdefault(write.collection, {}).setdefault(write.shard_id, set()).update(write.ids)
    return None


async def remote_update(
    coordinator: SimPeer, target: SimPeer, write: ShardWrite, deadline_ns: int
) -> StorageError | None:
    """One internal update call from ``coordinator`` to ``target``."""
    if not target.alive:
        return StorageError(
            ErrorKind.SERVICE_ERROR,
            'Tonic status error: status: Unavailable, message: "error trying to connect: tcp '
            'connect error: Connection refused (os error 111)"',
        )
    remaining_s = (deadline_ns - coordinator.clock.now_ns()) / NS_PER_S
    if remaining_s <= 0:
        return StorageError(
            ErrorKind.TIMEOUT,
            f"Operation 'update' on peer {target.peer_id} timed out: deadline has elapsed",
        )
    wait_s = min(remaining_s, coordinator.config.internal_timeout_s)
    try:
        async with asyncio.timeout(wait_s):
            await target.gate.wait_open()
    except TimeoutError:
        return StorageError(
            ErrorKind.SERVICE_ERROR,
            'Tonic status error: status: DeadlineExceeded, message: "Timeout expired"',
        )
    return receive_update(target, write)


async def upsert(
    peer: SimPeer, collection: str, ids: list[PointId], *, wait: bool, timeout_s: float | None
) -> dict[str, object]:
    """A user upsert coordinated by ``peer``; the ``UpdateResult`` or ``UpdateFailed``."""
    arrival_ns = peer.clock.now_ns()
    budget_s = timeout_s if timeout_s is not None else peer.config.internal_timeout_s
    deadline_ns = arrival_ns + int(budget_s * NS_PER_S)
    await peer.gate.wait_open()
    coll = peer.view.collections.get(collection)
    if coll is None:
        raise UpdateFailed(collection_not_found(collection))
    operation_id = peer.next_operation_id()
    writes = group_by_shard(collection, ids, coll.params.shard_number)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_update_shard(peer, w, wait, deadline_ns)) for w in writes]
    for task in tasks:
        error = task.result()
        if error is not None:
            raise UpdateFailed(error)
    return {"operation_id": operation_id, "status": "completed" if wait else "acknowledged"}


async def _write_replica(
    peer: SimPeer, target_id: int, write: ShardWrite, deadline_ns: int
) -> StorageError | None:
    if target_id == peer.peer_id:
        return receive_update(peer, write)
    return await remote_update(peer, peer.directory[target_id], write, deadline_ns)


async def _update_shard(
    peer: SimPeer, write: ShardWrite, wait: bool, deadline_ns: int
) -> StorageError | None:
    """Fan one shard's write out; the error that fails the request, if any."""
    coll = peer.view.collections[write.collection]
    states = dict(coll.shards[write.shard_id])
    targets = [
        p
        for p, state in sorted(states.items())
        if is_updatable(state)
        and ReplicaKey(write.collection, write.shard_id, p) not in peer.disabled
    ]
    if not targets:
        return StorageError(
            ErrorKind.SERVICE_ERROR,
            f"The replica set for shard {write.shard_id} on peer {peer.peer_id} "
            "has no active replica",
        )
    async with asyncio.TaskGroup() as group:
        calls = {p: group.create_task(_write_replica(peer, p, write, deadline_ns)) for p in targets}
    failures = [(p, err) for p, call in calls.items() if (err := call.result()) is not None]
    for p, err in failures:
        peer.log.write(
            "WARN",
            UPDATE_TARGET,
            f"Failed to update shard {write.collection}:{write.shard_id} on peer {p}, error: {err}",
        )
    successes = len(targets) - len(failures)
    if successes == 0:
        first = failures[0][1]
        return StorageError(ErrorKind.SERVICE_ERROR, str(first))
    needed = min(coll.params.write_consistency_factor, len(targets))
    if successes < needed:
        return StorageError(
            ErrorKind.SERVICE_ERROR,
            f"Failed to apply operation to at least `write_consistency_factor` replicas. "
            f"Successful: {successes}, required: {needed}, errors: {failures[0][1]}",
        )
    return await _handle_failed_replicas(peer, write, failures, wait)


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
        key = ReplicaKey(write.collection, write.shard_id, p)
        if is_active(state) and not _another_active(peer, write, p):
            peer.log.write(
                "WARN",
                REPLICA_SET_TARGET,
                f"Cannot locally disable last active peer {p} for replica",
            )
            continue
        peer.log.write(
            "DEBUG",
            UPDATE_TARGET,
            f"Deactivating peer {p} because of failed update of shard "
            f"{write.collection}:{write.shard_id}",
        )
        from_state = None if is_partial_or_recovery(state) else state
        if peer.disabled.disable(key, from_state, peer.clock.now_ns()):
            peer.propose(
                SetShardReplicaState(
                    write.collection, write.shard_id, p, ReplicaState.DEAD, from_state
                )
            )
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
