"""The consensus model, stepped by hand with explicit times (no event loop)."""

from __future__ import annotations

from lagrace.sim.operations import DeleteCollection
from lagrace.sim.raft import Consensus, RaftPeer, RaftTiming
from lagrace.timebase import NS_PER_MS, NS_PER_S

TIMING = RaftTiming(heartbeat_ns=200 * NS_PER_MS, message_timeout_ns=NS_PER_S)


def _cluster(timeouts_s: tuple[float, ...] = (3.0, 2.5, 3.5)) -> Consensus:
    peers = [
        RaftPeer(peer_id, f"http://127.0.0.1:{1000 + peer_id}/", int(t * NS_PER_S))
        for peer_id, t in zip((1, 2, 3), timeouts_s, strict=True)
    ]
    return Consensus(peers, TIMING, now_ns=0)


def _round(consensus: Consensus, now_ns: int, peers: tuple[int, ...] = (1, 2, 3)) -> None:
    for peer in peers:
        consensus.step(peer, now_ns)


def test_commit_needs_a_majority() -> None:
    """An entry commits once the leader and one follower have it."""
    consensus = _cluster()
    _round(consensus, 0)
    consensus.propose(2, DeleteCollection("x"))
    consensus.step(2, 10)
    consensus.step(1, 20)
    assert len(consensus.log) == 2
    assert consensus.commit == 1
    consensus.step(3, 30)
    assert consensus.commit == 2
    assert consensus.log[1].committed_ns == 30
    consensus.step(2, 40)
    assert consensus.peers[2].commit == 2
    assert [e.index for e in consensus.entries_to_apply(2)] == [1, 2]


def test_frozen_follower_freezes_and_the_leader_counts_send_failures() -> None:
    """A busy follower keeps its commit/last_update; the leader records failures ~1/s."""
    consensus = _cluster()
    _round(consensus, 0)
    frozen = consensus.peers[3]
    consensus.begin_batch(3, 1, 100)
    commit_before, update_before = frozen.commit, frozen.last_update_ns
    warns: list[str] = []
    for t_ms in range(200, 3300, 100):
        consensus.propose(1, DeleteCollection(f"x{t_ms}"))
        warns += [r.message for r in consensus.step(1, t_ms * NS_PER_MS)]
        consensus.step(2, t_ms * NS_PER_MS)
    assert frozen.commit == commit_before
    assert frozen.last_update_ns == update_before
    assert consensus.peers[2].commit == consensus.commit > commit_before
    failure = consensus.peers[1].send_failures[frozen.uri]
    assert failure.count == 3
    assert len(warns) == 1
    assert warns[0].startswith(f"Failed to send message to {frozen.uri}")
    consensus.end_batch(3)
    consensus.step(1, 3400 * NS_PER_MS)
    assert consensus.peers[1].send_failures == {}


def test_stalled_leader_is_replaced_with_a_higher_term() -> None:
    """Past its election timeout a follower wins with the other follower's vote."""
    consensus = _cluster()
    _round(consensus, 0)
    consensus.begin_batch(1, 1, 10)
    consensus.step(2, 2 * NS_PER_S)
    assert consensus.leader == 1
    consensus.step(2, 2_600 * NS_PER_MS)
    assert consensus.leader == 2
    assert consensus.term == 2
    assert consensus.peers[2].role == "Leader"
    assert consensus.peers[1].role == "Leader", "the frozen old leader still believes it leads"
    consensus.end_batch(1)
    consensus.step(1, 3 * NS_PER_S)
    assert consensus.peers[1].role == "Follower"
    assert consensus.peers[1].term == 2


def test_no_election_without_a_majority() -> None:
    """With two of three peers frozen nobody can win."""
    consensus = _cluster()
    _round(consensus, 0)
    consensus.begin_batch(1, 1, 10)
    consensus.begin_batch(3, 1, 10)
    consensus.step(2, 5 * NS_PER_S)
    assert consensus.leader == 1
    assert consensus.term == 1


def test_proposals_to_a_dead_leader_are_dropped() -> None:
    """A follower's proposal is lost (with a WARN) while the leader is dead."""
    consensus = _cluster()
    _round(consensus, 0)
    consensus.kill(1)
    consensus.propose(3, DeleteCollection("x"))
    records = consensus.step(3, 100)
    assert [r.message for r in records] == ["failed to propose entry: leader is dead"]
    assert consensus.inbox == []
