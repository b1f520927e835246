"""Collection meta-operations as the receiving peer's HTTP handler runs them (notes §2.4-§2.7, §5).

Every one is proposed through consensus and waits for **local** apply on the receiving peer
(``?timeout=`` or 10 s; on timeout :class:`ConsensusTimeout`, the entry may still apply later).
``create_collection`` additionally awaits every replica's activation and a consensus sync of all
peers; both only log a WARN when they time out, as Qdrant's dispatcher does.
"""

from __future__ import annotations

import asyncio

from lagrace.sim.bodies import SlowDownRequest
from lagrace.sim.operations import (
    CollectionParams,
    CreateCollection,
    DeleteCollection,
    Operation,
    TestSlowDown,
    activation,
)
from lagrace.sim.peer import ApplyResult, SimPeer
from lagrace.sim.placement import place_shards
from lagrace.sim.storage_errors import ErrorKind, StorageError, collection_not_found
from lagrace.timebase import NS_PER_S

DISPATCHER_TARGET = "storage::dispatcher"


class ConsensusTimeout(Exception):
    """No local apply within the wait timeout (500)."""

    def __init__(self, timeout_s: float) -> None:
        self.error = StorageError(
            ErrorKind.SERVICE_ERROR,
            f"Waiting for consensus operation commit failed. Timeout set at: {timeout_s:g} seconds",
        )
        super().__init__(str(self.error))


async def _propose(peer: SimPeer, op: Operation, timeout_s: float) -> ApplyResult:
    try:
        return await peer.propose_and_wait(op, timeout_s)
    except TimeoutError:
        raise ConsensusTimeout(timeout_s) from None


async def create_collection(
    peer: SimPeer, name: str, params: CollectionParams, timeout_s: int | None
) -> ApplyResult:
    """``PUT /collections/{name}``: propose, await local apply, activations, cluster sync."""
    wait_s = float(timeout_s) if timeout_s is not None else peer.config.meta_op_timeout_s
    started_ns = peer.clock.now_ns()
    distribution = place_shards(
        peer.config.seed,
        name,
        peer.consensus.voters,
        params.shard_number,
        params.replication_factor,
    )
    activations = [
        activation(name, shard, replica)
        for shard, replicas in enumerate(distribution)
        for replica in replicas
    ]
    expected = peer.expect(activations)
    try:
        op = CreateCollection(name, params, distribution, (peer.peer_id, peer.next_operation_id()))
        result = await _propose(peer, op, wait_s)
        if isinstance(result, StorageError):
            return result
        await _await_activations(peer, expected, wait_s)
    finally:
        peer.forget(activations, expected)
    if timeout_s is not None:
        sync_s = max(0.0, wait_s - (peer.clock.now_ns() - started_ns) / NS_PER_S)
    else:
        sync_s = peer.config.meta_op_timeout_s
    error = await consensus_sync(peer, sync_s)
    if error is not None:
        peer.log.write(
            "WARN",
            DISPATCHER_TARGET,
            "Failed to synchronize all nodes after collection operation in time, "
            f"some nodes may not be ready: {error}",
        )
    return result


async def _await_activations(
    peer: SimPeer, expected: list[asyncio.Future[ApplyResult]], wait_s: float
) -> None:
    try:
        async with asyncio.timeout(wait_s):
            results = await asyncio.gather(*expected)
    except TimeoutError:
        peer.log.write(
            "WARN",
            DISPATCHER_TARGET,
            "Awaiting for expected operations timed out: deadline has elapsed",
        )
        return
    failed = [r for r in results if isinstance(r, StorageError)]
    if failed:
        peer.log.write(
            "WARN", DISPATCHER_TARGET, f"Not all expected operations were completed: {failed[0]}"
        )


async def consensus_sync(peer: SimPeer, timeout_s: float) -> StorageError | None:
    """``await_consensus_sync``: every other peer applied this peer's commit, same term."""
    raft = peer.consensus.peers[peer.peer_id]
    commit, term = raft.commit, raft.term
    others = [p for p in peer.consensus.peers.values() if p.peer_id != peer.peer_id]
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                dead = [p for p in others if not p.alive]
                if dead:
                    return StorageError(
                        ErrorKind.SERVICE_ERROR,
                        f"Failed to wait for consensus commit on peer {dead[0].peer_id}: "
                        "Tonic status error: status: Unavailable",
                    )
                behind = [p for p in others if p.applied < commit or p.term != term]
                if not behind:
                    return None
                await asyncio.sleep(peer.config.tick_ms / 1000)
    except TimeoutError:
        return StorageError(ErrorKind.TIMEOUT, "deadline has elapsed")


async def delete_collection(peer: SimPeer, name: str, timeout_s: int | None) -> ApplyResult:
    """``DELETE /collections/{name}``: local apply only."""
    wait_s = float(timeout_s) if timeout_s is not None else peer.config.meta_op_timeout_s
    return await _propose(peer, DeleteCollection(name), wait_s)


async def slow_down(
    peer: SimPeer, collection: str, request: SlowDownRequest, timeout_s: int | None
) -> ApplyResult:
    """``test_slow_down``: collection must exist (404), peer must be known (400)."""
    if collection not in peer.view.collections:
        return collection_not_found(collection)
    if request.peer_id is not None and request.peer_id not in peer.view.peers:
        return StorageError(ErrorKind.BAD_REQUEST, f"Peer {request.peer_id} does not exist")
    wait_s = float(timeout_s) if timeout_s is not None else peer.config.meta_op_timeout_s
    op = TestSlowDown(collection, request.peer_id, request.duration_ms)
    return await _propose(peer, op, wait_s)
