"""The consensus model: one replicated log, a leader, per-peer Raft state (notes §2.1, §4.1, §4.4).

Synchronous and loop-free: each peer's apply loop calls :meth:`Consensus.step` whenever its
consensus "thread" is free (between apply batches). A step is one Raft ``Ready`` round for
that peer: the leader appends queued proposals and accounts message sends to every follower;
a follower receives the leader's log and commit index (only while the leader's own loop is
running), forwards its proposals, or starts an election when it has not heard from a leader
for its election timeout. A peer inside an apply batch — above all one sleeping in
``TestSlowDown`` — takes no step, so its ``commit``, ``term``, ``leader``, ``role`` and
``last_update`` freeze, and it neither acknowledges entries nor votes.

Simplifications, documented in ``docs/simulated-cluster.md``: the current leader's log is *the*
log; elections are decided in one step (no ``Candidate`` role is ever observable); commit is the
majority match index (the current-term rule is covered by the leader's no-op entry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lagrace.sim.operations import Operation
from lagrace.sim.state_machine import LogRecord

CONSENSUS_TARGET = "qdrant::consensus"


@dataclass(slots=True)
class Entry:
    """One log entry; ``op`` is ``None`` for a leader's no-op."""

    index: int
    term: int
    op: Operation | None
    committed_ns: int | None = None


@dataclass(slots=True)
class SendFailure:
    """``message_send_failures`` of one destination, as the leader records it."""

    count: int
    latest_error: str
    latest_error_ns: int


@dataclass(slots=True)
class RaftPeer:
    """One peer's Raft state as its own ``/cluster`` shows it, plus the loop's bookkeeping."""

    peer_id: int
    uri: str
    election_timeout_ns: int
    term: int = 1
    commit: int = 0
    applied: int = 0
    pending: int = 0
    leader: int | None = None
    last_update_ns: int = 0
    last_heard_ns: int = 0
    alive: bool = True
    busy_since_ns: int | None = None
    outbox: list[Operation] = field(default_factory=list)
    send_failures: dict[str, SendFailure] = field(default_factory=dict)

    @property
    def role(self) -> str:
        """``Leader`` or ``Follower`` (PascalCase, as Qdrant serializes ``StateRole``)."""
        return "Leader" if self.leader == self.peer_id else "Follower"


@dataclass(frozen=True, slots=True)
class RaftTiming:
    """Timing constants of the model, in nanoseconds."""

    heartbeat_ns: int
    message_timeout_ns: int


class Consensus:
    """The cluster's log and leader bookkeeping; mutated only through its methods."""

    def __init__(
        self, peers: list[RaftPeer], timing: RaftTiming, now_ns: int, leader: int | None = None
    ) -> None:
        self.peers = {peer.peer_id: peer for peer in peers}
        self.voters = tuple(peer.peer_id for peer in peers)
        self.timing = timing
        self.term = 1
        self.leader = leader if leader is not None else peers[0].peer_id
        self.log: list[Entry] = [Entry(1, 1, None, committed_ns=None)]
        self.match = dict.fromkeys(self.voters, 0)
        self.match[self.leader] = 1
        self.commit = 0
        self.inbox: list[Operation] = []
        for peer in peers:
            peer.last_heard_ns = now_ns
            peer.last_update_ns = now_ns
        self._recompute_commit(now_ns)

    # -- queries ---------------------------------------------------------------------------

    def entries_to_apply(self, peer_id: int) -> list[Entry]:
        """Committed entries this peer has not applied yet, in order."""
        peer = self.peers[peer_id]
        return self.log[peer.applied : peer.commit]

    def reachable(self, peer: RaftPeer, now_ns: int) -> bool:
        """Would a Raft message to ``peer`` be taken in within the message timeout?"""
        if not peer.alive:
            return False
        busy = peer.busy_since_ns
        return busy is None or now_ns - busy < self.timing.message_timeout_ns

    # -- the apply loop's calls ------------------------------------------------------------

    def propose(self, peer_id: int, op: Operation) -> None:
        """Queue a proposal made on ``peer_id``; it leaves with that peer's next step."""
        self.peers[peer_id].outbox.append(op)

    def begin_batch(self, peer_id: int, size: int, now_ns: int) -> None:
        """The peer starts applying a batch: its consensus thread is busy until it ends."""
        peer = self.peers[peer_id]
        peer.busy_since_ns = now_ns
        peer.pending = size

    def entry_applied(self, peer_id: int, index: int) -> None:
        """One entry of the batch is applied (and persisted)."""
        peer = self.peers[peer_id]
        peer.applied = index
        peer.pending = max(0, peer.pending - 1)

    def end_batch(self, peer_id: int) -> None:
        """The batch is over; the consensus thread is free again."""
        peer = self.peers[peer_id]
        peer.busy_since_ns = None
        peer.pending = 0

    def kill(self, peer_id: int) -> None:
        """The peer's process is gone: no steps, no acknowledgements, proposals lost."""
        peer = self.peers[peer_id]
        peer.alive = False
        peer.busy_since_ns = None
        peer.pending = 0
        peer.outbox.clear()
        if self.leader == peer_id:
            self.inbox.clear()

    def revive(self, peer_id: int, now_ns: int) -> None:
        """The peer restarts with its persisted Raft state and catches up from the leader."""
        peer = self.peers[peer_id]
        peer.alive = True
        peer.last_heard_ns = now_ns
        peer.last_update_ns = now_ns

    def step(self, peer_id: int, now_ns: int) -> list[LogRecord]:
        """One Raft round for a peer whose consensus thread is free; returns its log lines."""
        peer = self.peers[peer_id]
        records: list[LogRecord] = []
        activity = False
        if self.leader == peer_id:
            activity = self._lead(peer, now_ns, records)
        else:
            leader = self.peers[self.leader]
            if leader.alive and leader.busy_since_ns is None:
                activity = self._follow(peer, now_ns)
            elif now_ns - peer.last_heard_ns > peer.election_timeout_ns:
                activity = self._campaign(peer, now_ns)
        if peer.outbox and self.leader != peer_id:
            activity = True
            if self.peers[self.leader].alive:
                self.inbox.extend(peer.outbox)
            else:
                records.extend(
                    LogRecord("WARN", CONSENSUS_TARGET, "failed to propose entry: leader is dead")
                    for _ in peer.outbox
                )
            peer.outbox.clear()
        if activity or now_ns - peer.last_update_ns >= self.timing.heartbeat_ns:
            peer.last_update_ns = now_ns
        return records

    # -- internals -------------------------------------------------------------------------

    def _lead(self, peer: RaftPeer, now_ns: int, records: list[LogRecord]) -> bool:
        activity = bool(peer.outbox or self.inbox)
        for op in [*peer.outbox, *self.inbox]:
            self.log.append(Entry(len(self.log) + 1, self.term, op))
        peer.outbox.clear()
        self.inbox.clear()
        self.match[peer.peer_id] = len(self.log)
        self._recompute_commit(now_ns)
        peer.term = self.term
        peer.leader = peer.peer_id
        peer.last_heard_ns = now_ns
        if peer.commit != self.commit:
            activity = True
            peer.commit = self.commit
        for other in self.peers.values():
            if other.peer_id != peer.peer_id:
                self._account_send(peer, other, now_ns, records)
        return activity

    def _account_send(
        self, leader: RaftPeer, dest: RaftPeer, now_ns: int, records: list[LogRecord]
    ) -> None:
        if self.reachable(dest, now_ns):
            leader.send_failures.pop(dest.uri, None)
            return
        error = (
            "Error in closure supplied to transport channel pool: status: Cancelled, "
            f'message: "Timeout {self.timing.message_timeout_ns // 1_000_000}ms reached"'
            if dest.alive
            else "Error in closure supplied to transport channel pool: status: Unavailable, "
            'message: "error trying to connect: tcp connect error: Connection refused '
            '(os error 111)"'
        )
        failure = leader.send_failures.get(dest.uri)
        if failure is None:
            leader.send_failures[dest.uri] = SendFailure(1, error, now_ns)
            records.append(
                LogRecord(
                    "WARN",
                    CONSENSUS_TARGET,
                    f"Failed to send message to {dest.uri} with error: {error}",
                )
            )
        elif now_ns - failure.latest_error_ns >= self.timing.message_timeout_ns:
            failure.count += 1
            failure.latest_error = error
            failure.latest_error_ns = now_ns

    def _follow(self, peer: RaftPeer, now_ns: int) -> bool:
        before = (peer.term, peer.leader, peer.commit)
        self.match[peer.peer_id] = len(self.log)
        self._recompute_commit(now_ns)
        peer.term = self.term
        peer.leader = self.leader
        peer.commit = self.commit
        peer.last_heard_ns = now_ns
        return before != (peer.term, peer.leader, peer.commit)

    def _campaign(self, candidate: RaftPeer, now_ns: int) -> bool:
        """Ask every responsive voter; win with a majority of up-to-date-or-behind logs."""
        own = self.match[candidate.peer_id]
        granted = [
            voter
            for voter in self.voters
            if voter == candidate.peer_id
            or (
                self.peers[voter].alive
                and self.peers[voter].busy_since_ns is None
                and self.match[voter] <= own
            )
        ]
        candidate.last_heard_ns = now_ns
        if len(granted) <= len(self.voters) // 2:
            return False
        assert self.commit <= own, "a winning candidate holds every committed entry"
        self.term += 1
        self.leader = candidate.peer_id
        del self.log[own:]
        self.inbox.clear()
        for voter in self.voters:
            self.match[voter] = min(self.match[voter], own)
        for voter in granted:
            self.peers[voter].last_heard_ns = now_ns
        self.log.append(Entry(len(self.log) + 1, self.term, None))
        self.match[candidate.peer_id] = len(self.log)
        candidate.term = self.term
        candidate.leader = candidate.peer_id
        return True

    def _recompute_commit(self, now_ns: int) -> None:
        acked = sorted((self.match[voter] for voter in self.voters), reverse=True)
        majority = acked[len(self.voters) // 2]
        if majority <= self.commit:
            return
        for entry in self.log[self.commit : majority]:
            entry.committed_ns = now_ns
        self.commit = majority
