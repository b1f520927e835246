"""The lock pile-up's chain, read from literal histories with the log lines of a real v1.16.2 run
(../shared/qdrant/recorded/v1.16.2-lock-pileup/, peer ids shortened to 101..103)."""

from __future__ import annotations

from lagrace.analysis import logtexts
from lagrace.analysis.chain import (
    KIND_DEACTIVATING,
    KIND_FORWARD_FAILED,
    KIND_NOTIFY,
    KIND_UPDATE_FAILED,
    MECHANISM_NAME,
    Chain,
    chain_timeline,
    find_apply_stalls,
    find_coordinator_failures,
    find_request_freezes,
    meta_entries,
    narrate,
)
from lagrace.analysis.findings import Disruption, PeerLag
from lagrace.analysis.inputs import AnalysisInput
from lagrace.testing.histories import HistoryBuilder, upsert
from lagrace.timebase import NS_PER_MS

PEERS = {1: 101, 2: 102, 3: 103}
INP = AnalysisInput(existing_collections=("existing",), node_peers=PEERS, target_node=2)
CM = logtexts.TARGET_CONSENSUS_MANAGER
TIMEOUT = logtexts.GRPC_TIMEOUT_ERROR


def _ms(ns: int | None) -> float | None:
    return None if ns is None else ns / NS_PER_MS


def _apply(b: HistoryBuilder, t: float, node: int, index: int, done: float | None) -> None:
    b.log(
        t,
        node=node,
        level="DEBUG",
        target=CM,
        message=f"Applying committed entry with index {index}",
    )
    if done is not None:
        b.log(
            done, node=node, level="DEBUG", target=CM, message=logtexts.format_applied_entry(index)
        )


def _pileup(*, recovered: bool = True, timeouts: bool = True) -> HistoryBuilder:
    """Node 2 sleeps 20 s in entry 20, then applies the create (entry 21) and freezes."""
    b = HistoryBuilder(PEERS)
    b.run_start(0, existing="existing", target_node=2)
    _apply(b, 2_000, 2, 20, None)
    b.log(
        2_001,
        node=2,
        level="DEBUG",
        target=logtexts.TARGET_STAGING,
        message=logtexts.format_slow_down_sleeping(20_000, 102),
    )
    b.log(
        22_000,
        node=2,
        level="DEBUG",
        target=logtexts.TARGET_STAGING,
        message=logtexts.format_slow_down_finished(102),
    )
    b.log(22_001, node=2, level="DEBUG", target=CM, message=logtexts.format_applied_entry(20))
    _apply(b, 22_050, 2, 21, None)
    b.log(
        22_051,
        node=2,
        level="INFO",
        target=logtexts.TARGET_META_OPS,
        message="Creating collection new_abc",
    )
    if timeouts:
        for shard in range(3):
            b.log(
                43_865 + 10 * shard,
                node=3,
                target=logtexts.TARGET_REPLICA_UPDATE,
                message=logtexts.format_failed_update_shard("existing", shard, 102, TIMEOUT),
            )
            b.log(
                43_866 + 10 * shard,
                node=3,
                level="DEBUG",
                target=logtexts.TARGET_REPLICA_UPDATE,
                message=logtexts.format_deactivating_peer(102, "existing", shard),
            )
            b.log(
                43_867 + 10 * shard,
                node=3,
                level="DEBUG",
                target="collection::shards::replica_set",
                message=logtexts.format_notify_peer_failure(102),
            )
        b.log(
            44_496,
            node=2,
            level="ERROR",
            target="qdrant::actix::helpers",
            message=logtexts.format_forward_failed("strong", 103, TIMEOUT),
        )
    if recovered:
        b.log(44_500, node=2, level="DEBUG", target=CM, message=logtexts.format_applied_entry(21))
        _apply(b, 44_510, 2, 22, 44_520)
    b.mark(50_000, "run_end", {"reason": "converged"})
    return b


def test_a_create_that_freezes_the_apply_is_a_stall_and_the_slow_down_is_not() -> None:
    """Entry 21 (the create) stalls 22.45 s; entry 20 (the 20 s sleep) does not count."""
    (stall,) = find_apply_stalls(_pileup().build(), INP)
    assert (stall.node, stall.peer_id, stall.entry, stall.source) == (2, 102, 21, "log")
    assert stall.operation == "Creating collection new_abc"
    assert (_ms(stall.from_ns), _ms(stall.until_ns)) == (22_050, 44_500)


def test_quick_entries_are_no_stall() -> None:
    """Entries applied within the stall threshold are not stalls."""
    b = HistoryBuilder(PEERS)
    for i in range(5):
        _apply(b, 1_000 + i * 100, 1, 10 + i, 1_000 + i * 100 + 50)
    _apply(b, 2_000, 1, 15, 4_900)  # 2.9 s: slow, not stalled
    assert find_apply_stalls(b.build(), INP) == ()


def test_an_entry_refused_with_a_user_error_is_closed_by_its_warn() -> None:
    """Real Qdrant logs no 'Successfully applied' for a refused entry, only the WARN: an idle
    peer after such an entry is not stalled (v1.16.2 logs, entry 102 of a recorded run)."""
    b = HistoryBuilder(PEERS)
    _apply(b, 1_000, 1, 102, None)
    b.log(
        1_001,
        node=1,
        target=CM,
        message=logtexts.format_unexpected_state(102, 1, "Active", "Initializing"),
    )
    b.mark(20_000, "run_end", {"reason": "converged"})
    assert find_apply_stalls(b.build(), INP) == ()


def test_coordinator_failures_are_read_with_their_kinds() -> None:
    """The update failures time out; forward, deactivation and notify lines are typed."""
    failures = find_coordinator_failures(_pileup().build())
    kinds = [f.kind for f in failures]
    assert kinds.count(KIND_UPDATE_FAILED) == 3
    assert kinds.count(KIND_DEACTIVATING) == 3
    assert kinds.count(KIND_NOTIFY) == 3
    assert kinds.count(KIND_FORWARD_FAILED) == 1
    update = next(f for f in failures if f.kind == KIND_UPDATE_FAILED)
    assert (update.node, update.about_peer, update.collection, update.shard) == (
        3,
        102,
        "existing",
        0,
    )
    assert update.timed_out
    forward = next(f for f in failures if f.kind == KIND_FORWARD_FAILED)
    assert (forward.node, forward.about_peer) == (2, 103)


def _narrate(b: HistoryBuilder, disruptions: tuple[Disruption, ...] = ()) -> Chain:
    h = b.build()
    lag = (
        PeerLag(
            2, 102, 0, 0.0, 0, slept_from_ns=2_001 * NS_PER_MS, slept_until_ns=22_000 * NS_PER_MS
        ),
    )
    return narrate(
        INP,
        lag=lag,
        stalls=find_apply_stalls(h, INP),
        freezes=find_request_freezes(h, INP),
        failures=find_coordinator_failures(h),
        disruptions=disruptions,
        meta_entries=meta_entries(h),
        grpc_timeout_ms=5000,
    )


DEAD = Disruption(
    "existing", 0, 102, 1, 101, "Dead", ("Dead",), 43_980 * NS_PER_MS, 48_000 * NS_PER_MS
)


def test_the_chain_is_told_in_order_and_names_the_mechanism() -> None:
    """Wake, create applied, stall, timeouts, forward failure, Dead proposals, replicas Dead,
    recovery: in time order, with the mechanism named."""
    chain = _narrate(_pileup(), (DEAD,))
    steps = chain.steps
    assert chain.mechanism == MECHANISM_NAME
    expected_order = [
        "woke from its slow-down",
        "consensus apply stalled on entry 21 (Creating collection new_abc) for 22.4 s",
        "internal gRPC updates timed out",
        "coordinators proposed replicas Dead",
        "replicas of the existing collection left Active",
        "forwards to the ordering leader failed",
        "every disrupted replica was Active again",
    ]
    positions = [next(i for i, s in enumerate(steps) if phrase in s) for phrase in expected_order]
    assert positions == sorted(positions), steps
    assert steps[0].startswith("+22.0 s node 2 (peer 102)")
    assert chain.frozen_at_end == ()


def test_no_mechanism_without_timeouts_towards_the_stalled_peer() -> None:
    """A stall alone (no coordinator timeouts) is told but the mechanism is not named."""
    chain = _narrate(_pileup(timeouts=False))
    assert chain.mechanism is None
    assert any("stalled on entry 21" in s for s in chain.steps)


def test_a_peer_still_frozen_at_the_end_is_named_with_the_timeout_bound() -> None:
    """No 'Successfully applied' for the create: frozen at the end, with 3 x (5000 ms + 2 s)."""
    chain = _narrate(_pileup(recovered=False))
    (frozen,) = chain.frozen_at_end
    assert "node 2 (peer 102) was still frozen when the run ended" in frozen
    assert "entry 21 since +22.1 s" in frozen
    assert "21 s" in frozen


def test_request_freeze_needs_cluster_answers_meanwhile() -> None:
    """Upserts to node 2 hang 8 s while its GET /cluster answers: a freeze; node 3's hang while
    its /cluster hangs too is no ToC freeze."""
    b = HistoryBuilder(PEERS, strict_time=False)
    for w in range(3):
        b.operation(
            10_000 + w * 100,
            18_000 + w * 100,
            upsert("existing", wait=True, ordering="strong"),
            node=2,
            worker=f"hammer-{w}",
            status=200,
        )
    for t in range(10_500, 18_000, 500):
        b.poll(t, node=2, status=200)
    b.operation(10_000, 18_000, upsert("existing"), node=3, worker="hammer-9", status=200)
    b.mark(20_000, "run_end", {"reason": "converged"})
    (freeze,) = find_request_freezes(b.build(), INP)
    assert (freeze.node, freeze.peer_id, freeze.hung_calls) == (2, 102, 3)
    assert (_ms(freeze.from_ns), _ms(freeze.until_ns)) == (10_000, 18_200)
    assert freeze.cluster_answers >= 5


def test_cluster_commit_frozen_while_others_advance_after_the_sleep_is_a_stall() -> None:
    """Without apply lines: node 2's commit stays at 30 from the wake while others go on."""
    b = HistoryBuilder(PEERS)
    b.cluster(1_000, node=1, commit=20, role="Leader")
    b.cluster(1_000, node=2, commit=20)
    b.cluster(21_500, node=2, commit=30)  # woke at 21 s, caught up to 30
    for i, t in enumerate(range(22_000, 40_000, 1_000)):
        b.cluster(t, node=1, commit=31 + i, role="Leader")
    b.cluster(40_000, node=2, commit=50)
    b.mark(41_000, "run_end", {"reason": "converged"})
    lag = (
        PeerLag(
            2, 102, 0, 0.0, 0, slept_from_ns=1_500 * NS_PER_MS, slept_until_ns=21_000 * NS_PER_MS
        ),
    )
    stalls = find_apply_stalls(b.build(), INP, lag)
    (stall,) = [s for s in stalls if s.node == 2]
    assert stall.source == "cluster"
    assert (_ms(stall.from_ns), _ms(stall.until_ns)) == (22_000, 40_000)
    assert [s for s in stalls if s.node == 1] == []


def test_chain_timeline_marks_stall_freeze_and_first_deactivation() -> None:
    """Stall start and end, and one COORD entry per coordinator and peer."""
    h = _pileup().build()
    entries = chain_timeline(find_apply_stalls(h, INP), (), find_coordinator_failures(h))
    kinds = [e.kind for e in entries]
    assert kinds.count("stall") == 2
    assert kinds.count("coordinator") == 1
    assert "apply moved on after 22.4 s" in entries[1].text


def test_check_chain_says_when_no_slow_down_was_proposed() -> None:
    """Reproduced without a slow-down: the reasons say so; the chain never decides alone."""
    from lagrace.analysis.findings import Verdict
    from lagrace.analysis.verdict import check_chain

    chain = _narrate(_pileup(), (DEAD,))
    without = check_chain(chain, True, slow_down_proposed=False)
    assert without.verdict is Verdict.REPRODUCED
    assert without.reasons[0].startswith("no slow-down was proposed")
    assert without.reasons[1] == f"mechanism: {MECHANISM_NAME}"
    assert without.reasons[2].startswith("chain: +22.0 s node 2")
    alone = check_chain(chain, False, slow_down_proposed=True)
    assert alone.verdict is Verdict.NOT_REPRODUCED
    assert not any(r.startswith("no slow-down") for r in alone.reasons)
