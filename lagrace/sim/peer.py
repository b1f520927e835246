"""One simulated peer: its applied state, local data, and its apply loop (the consensus thread).

The apply loop (:meth:`SimPeer.run`) is the model of Qdrant's consensus OS thread (notes
§4.1): it takes a Raft step when free, applies committed entries strictly in order with a cost
per entry, sleeps *inside* the loop for ``TestSlowDown`` (freezing the peer for consensus), and,
when idle, runs ``sync_local_state``: re-notifying locally disabled replicas with backoff,
re-proposing ``Active`` for replicas still ``Initializing``, and recovering ``Dead`` local replicas
through a transfer (``Partial`` → ``Active``). HTTP-facing flows live in ``meta_ops`` and
``dataplane``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from lagrace.clock import Clock
from lagrace.sim.backoff import LocallyDisabled
from lagrace.sim.config import SimConfig
from lagrace.sim.logfile import PeerLog
from lagrace.sim.operations import (
    CreateCollection,
    DeleteCollection,
    FinishTransfer,
    Operation,
    SetShardReplicaState,
    StartTransfer,
    activation,
)
from lagrace.sim.raft import Consensus, Entry
from lagrace.sim.replica_states import ReplicaState, is_healthy
from lagrace.sim.state_machine import ApplyOutcome, PeerView, announcement, apply_operation
from lagrace.sim.storage_errors import StorageError
from lagrace.sim.toc_lock import FairRwLock
from lagrace.timebase import NS_PER_MS, NS_PER_S

MANAGER_TARGET = "storage::content_manager::consensus_manager"
STAGING_TARGET = "storage::content_manager::staging"
SYNC_INTERVAL_NS = 300 * NS_PER_MS
RETRY_RECOVERY_NS = NS_PER_S

ApplyResult = bool | StorageError
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """Where a peer is: 1-based node index, peer id, REST URL, fake p2p URI, log file."""

    node: int
    peer_id: int
    port: int
    p2p_uri: str

    @property
    def url(self) -> str:
        """Base REST URL."""
        return f"http://127.0.0.1:{self.port}"


class SimPeer:
    """A peer's state and apply loop; the cluster owns its HTTP server and task."""

    def __init__(
        self,
        *,
        address: PeerAddress,
        consensus: Consensus,
        config: SimConfig,
        clock: Clock,
        log: PeerLog,
        directory: Mapping[int, SimPeer],
    ) -> None:
        self.address = address
        self.peer_id = address.peer_id
        self.consensus = consensus
        self.config = config
        self.clock = clock
        self.log = log
        self.directory = directory
        self.view = PeerView(self.peer_id, consensus.voters)
        self.data: dict[str, dict[int, set[int | str]]] = {}
        self.toc = FairRwLock()
        self.update_limiter = asyncio.Semaphore(config.update_rate_limit)
        self.group: asyncio.TaskGroup | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.disabled = LocallyDisabled()
        self.http_delay_s = 0.0
        self.ready_latched = False
        self._changed = asyncio.Condition()
        self._awaiters: dict[Operation, list[asyncio.Future[ApplyResult]]] = {}
        self._operation_ids = 0
        self._last_sync_ns = 0
        self._recovery_asked: dict[tuple[str, int], int] = {}
        self._transfer_seen: dict[tuple[str, int], tuple[int, int | None]] = {}

    @property
    def alive(self) -> bool:
        """The peer's process runs."""
        return self.consensus.peers[self.peer_id].alive

    def next_operation_id(self) -> int:
        """Sequential id of an update operation on this peer."""
        self._operation_ids += 1
        return self._operation_ids

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run a request handler of this peer as a task of the running cluster."""
        assert self.group is not None, "the peer is not running"
        task = self.group.create_task(coro)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        return task

    @asynccontextmanager
    async def toc_guard(self) -> AsyncIterator[None]:
        """``TableOfContent::get_collection``'s read guard around a request's block.

        Buggy mode (v1.16.x) holds it for the whole block; fixed mode (v1.17.0+) releases it
        right after the lookup, before the block runs (notes §4.8).
        """
        if self.config.mode.holds_guard_for_request:
            async with self.toc.read():
                yield
            return
        async with self.toc.read():
            pass
        yield

    async def toc_lookup(self) -> None:
        """A read that only looks the collection up: a read guard taken and dropped."""
        async with self.toc.read():
            pass

    def reset_volatile(self) -> None:
        """Forget what a process restart forgets (in-memory sets, waiters, requests)."""
        self.disabled = LocallyDisabled()
        for task in list(self._handlers):
            task.cancel()
        self._handlers.clear()
        self.toc = FairRwLock()
        self.update_limiter = asyncio.Semaphore(self.config.update_rate_limit)
        for futures in self._awaiters.values():
            for future in futures:
                future.cancel()
        self._awaiters.clear()
        self._recovery_asked.clear()
        self._transfer_seen.clear()

    # -- proposals and waiters -------------------------------------------------------------

    def propose(self, op: Operation) -> None:
        """Fire-and-forget proposal (replica state changes, transfers)."""
        self.consensus.propose(self.peer_id, op)

    def expect(self, ops: Iterable[Operation]) -> list[asyncio.Future[ApplyResult]]:
        """Register waiters for operations applied on this peer (whoever proposed them)."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[ApplyResult]] = []
        for op in ops:
            future: asyncio.Future[ApplyResult] = loop.create_future()
            self._awaiters.setdefault(op, []).append(future)
            futures.append(future)
        return futures

    def forget(
        self, ops: Iterable[Operation], futures: Iterable[asyncio.Future[ApplyResult]]
    ) -> None:
        """Drop waiters that gave up."""
        for op, future in zip(ops, futures, strict=True):
            waiting = self._awaiters.get(op)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self._awaiters[op]

    async def propose_and_wait(self, op: Operation, timeout_s: float) -> ApplyResult:
        """Propose (merged with an identical in-flight proposal) and wait for local apply.

        Raises ``TimeoutError`` after ``timeout_s``; the entry may still apply later.
        """
        in_flight = op in self._awaiters
        (future,) = self.expect([op])
        if not in_flight:
            self.propose(op)
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        finally:
            self.forget([op], [future])

    # -- the apply loop --------------------------------------------------------------------

    async def run(self) -> None:
        """The consensus thread: Raft steps, in-order apply, idle sync. Runs until cancelled."""
        tick_s = self.config.tick_ms / 1000
        while True:
            for record in self.consensus.step(self.peer_id, self.clock.now_ns()):
                self.log.write(record.level, record.target, record.message)
            entries = self.consensus.entries_to_apply(self.peer_id)
            if entries:
                self.consensus.begin_batch(self.peer_id, len(entries), self.clock.now_ns())
                try:
                    for entry in entries:
                        await self._apply_entry(entry)
                        self.consensus.entry_applied(self.peer_id, entry.index)
                finally:
                    self.consensus.end_batch(self.peer_id)
                continue
            now_ns = self.clock.now_ns()
            raft = self.consensus.peers[self.peer_id]
            if raft.leader is not None and now_ns - self._last_sync_ns >= SYNC_INTERVAL_NS:
                self._last_sync_ns = now_ns
                self.sync_local_state(now_ns)
            await asyncio.sleep(tick_s)

    async def _apply_entry(self, entry: Entry) -> None:
        self.log.write(
            "DEBUG", MANAGER_TARGET, f"Applying committed entry with index {entry.index}"
        )
        if self.config.apply_cost_ms > 0:
            await asyncio.sleep(self.config.apply_cost_ms / 1000)
        op = entry.op
        if op is None:
            return
        if isinstance(op, CreateCollection | DeleteCollection):
            outcome = await self._apply_guarded(op)
        else:
            outcome = apply_operation(self.view, op)
            for record in outcome.records:
                self.log.write(record.level, record.target, record.message)
        if outcome.sleep_ms > 0:
            await self._slow_down(outcome.sleep_ms)
        self._log_result(entry.index, outcome.result)
        self._after_apply(op, outcome)
        for future in self._awaiters.pop(op, []):
            if not future.done():
                future.set_result(outcome.result)
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate`` holds, re-checked after every applied entry."""
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _apply_guarded(self, op: CreateCollection | DeleteCollection) -> ApplyOutcome:
        """Create and delete take ``collections.write()`` on the apply loop (notes §4.8).

        A create first builds its shards (``create_apply_ms - create_guarded_ms``), then waits
        for the write guard — behind every request holding a read guard, while every later
        reader waits behind it — and inserts the collection under it. Until then this peer's
        consensus is frozen: nothing else applies, its commit and ``last_update`` stand still.
        """
        announced = announcement(self.view, op)
        if announced is not None:
            self.log.write(announced.level, announced.target, announced.message)
        guarded_s = 0.0
        if isinstance(op, CreateCollection) and announced is not None:
            config = self.config
            prepare_s = (config.create_apply_ms - config.create_guarded_ms) / 1000
            guarded_s = config.create_guarded_ms / 1000
            if prepare_s > 0:
                await asyncio.sleep(prepare_s)
        async with self.toc.write():
            if guarded_s > 0:
                await asyncio.sleep(guarded_s)
            outcome = apply_operation(self.view, op)
        for record in outcome.records:
            if record != announced:
                self.log.write(record.level, record.target, record.message)
        return outcome

    async def _slow_down(self, sleep_ms: int) -> None:
        self.log.write(
            "DEBUG",
            STAGING_TARGET,
            f"TestSlowDown: sleeping for {sleep_ms}ms on peer {self.peer_id}",
        )
        await asyncio.sleep(sleep_ms / 1000)
        self.log.write(
            "DEBUG", STAGING_TARGET, f"TestSlowDown: finished sleeping on peer {self.peer_id}"
        )

    def _log_result(self, index: int, result: ApplyResult) -> None:
        if isinstance(result, StorageError):
            self.log.write(
                "WARN",
                MANAGER_TARGET,
                f"Failed to apply collection meta operation entry with user error: {result}",
            )
            return
        self.log.write(
            "DEBUG",
            MANAGER_TARGET,
            f"Successfully applied consensus operation entry. Index: {index}. "
            f"Result: {str(result).lower()}",
        )

    def _after_apply(self, op: Operation, outcome: ApplyOutcome) -> None:
        if outcome.created is not None:
            coll = self.view.collections[outcome.created]
            local = coll.local_shards(self.peer_id)
            self.data[outcome.created] = {shard: set() for shard in local}
            for shard in local:
                self.propose(activation(outcome.created, shard, self.peer_id))
        if outcome.deleted is not None:
            self.data.pop(outcome.deleted, None)
        if (
            isinstance(op, SetShardReplicaState)
            and outcome.result is True
            and op.state is ReplicaState.ACTIVE
            and op.peer_id == self.peer_id
        ):
            self.data.setdefault(op.collection_name, {}).setdefault(op.shard_id, set())

    # -- sync_local_state ------------------------------------------------------------------

    def sync_local_state(self, now_ns: int) -> None:
        """The idle re-proposer (§4.6-C, §4.6 Active proposals, recovery)."""
        for key in self.disabled.keys_in_order():
            if self.view.state_of(key.collection, key.shard_id, key.peer_id) is not (
                self.disabled.from_state(key)
            ):
                self.disabled.enable(key)
        for key in self.disabled.due(now_ns):
            self.propose(
                SetShardReplicaState(
                    key.collection,
                    key.shard_id,
                    key.peer_id,
                    ReplicaState.DEAD,
                    self.disabled.from_state(key),
                )
            )
        for name in sorted(self.view.collections):
            coll = self.view.collections[name]
            for shard in coll.local_shards(self.peer_id):
                state = coll.shards[shard][self.peer_id]
                if state is not ReplicaState.PARTIAL:
                    self._transfer_seen.pop((name, shard), None)
                if state is ReplicaState.INITIALIZING:
                    self.propose(activation(name, shard, self.peer_id))
                elif state is ReplicaState.DEAD:
                    self._ask_recovery(name, shard, now_ns)
                elif state is ReplicaState.PARTIAL:
                    self._finish_recovery(name, shard, now_ns)

    def _ask_recovery(self, name: str, shard: int, now_ns: int) -> None:
        coll = self.view.collections[name]
        if any(t.shard_id == shard and t.to_peer == self.peer_id for t in coll.transfers):
            return
        asked = self._recovery_asked.get((name, shard))
        if asked is not None and now_ns - asked < RETRY_RECOVERY_NS:
            return
        sources = sorted(
            peer
            for peer, state in coll.shards[shard].items()
            if state is ReplicaState.ACTIVE and peer != self.peer_id
        )
        if sources:
            self._recovery_asked[(name, shard)] = now_ns
            self.propose(StartTransfer(name, shard, sources[0], self.peer_id))

    def _finish_recovery(self, name: str, shard: int, now_ns: int) -> None:
        coll = self.view.collections[name]
        for transfer in coll.transfers:
            if transfer.shard_id != shard or transfer.to_peer != self.peer_id:
                continue
            first_seen, last_asked = self._transfer_seen.setdefault((name, shard), (now_ns, None))
            if now_ns - first_seen < self.config.recovery_s * NS_PER_S:
                return
            if last_asked is None or now_ns - last_asked >= RETRY_RECOVERY_NS:
                self._transfer_seen[(name, shard)] = (first_seen, now_ns)
                self.propose(FinishTransfer(name, shard, transfer.from_peer, self.peer_id))
                self.data.setdefault(name, {})[shard] = set(
                    self.directory[transfer.from_peer].data.get(name, {}).get(shard, set())
                )

    # -- health ----------------------------------------------------------------------------

    def ready(self) -> bool:
        """``/readyz`` (§2.9): latched once caught up and every local replica healthy."""
        if self.ready_latched:
            return True
        raft = self.consensus.peers[self.peer_id]
        others = [p.commit for p in self.consensus.peers.values() if p.alive]
        caught_up = raft.applied >= max(others, default=0)
        healthy = all(
            is_healthy(coll.shards[shard][self.peer_id])
            for coll in self.view.collections.values()
            for shard in coll.local_shards(self.peer_id)
        )
        self.ready_latched = caught_up and healthy
        return self.ready_latched
