"""Detector (d): per-peer lag evidence, whether the lag took hold, and convergence."""

from __future__ import annotations

from lagrace.analysis import logtexts
from lagrace.analysis.inputs import AnalysisInput, Thresholds, analysis_input_from_history
from lagrace.analysis.lag import assess_convergence, assess_lag
from lagrace.testing.histories import HistoryBuilder, example_run, ms

PEERS = {1: 101, 2: 102, 3: 103}


def _input(**kw: object) -> AnalysisInput:
    base: dict[str, object] = {
        "existing_collections": ("existing",),
        "node_peers": PEERS,
        "target_node": 2,
    }
    base.update(kw)
    return AnalysisInput(**base)  # type: ignore[arg-type]  # test-only keyword plumbing


def _sleep(b: HistoryBuilder, t: float, node: int = 2, at: float | None = None) -> None:
    b.log(
        t,
        node=node,
        level="DEBUG",
        target=logtexts.TARGET_STAGING,
        message=logtexts.format_slow_down_sleeping(3000, PEERS[node]),
        at_ms=at,
    )


def _wake(b: HistoryBuilder, t: float, node: int = 2, at: float | None = None) -> None:
    b.log(
        t,
        node=node,
        level="DEBUG",
        target=logtexts.TARGET_STAGING,
        message=logtexts.format_slow_down_finished(PEERS[node]),
        at_ms=at,
    )


def _cluster_all(b: HistoryBuilder, t: float, commits: dict[int, int]) -> None:
    for node, commit in commits.items():
        b.cluster(
            t, node=node, commit=commit, leader=101, role="Leader" if node == 1 else "Follower"
        )


def test_sleep_lines_give_slept_from_until_and_took_hold() -> None:
    """The TestSlowDown lines of the target are enough for the lag to have taken hold."""
    b = HistoryBuilder(PEERS)
    _sleep(b, 100, at=90)
    _wake(b, 3100, at=3090)
    lag = assess_lag(b.build(), _input())
    target = next(p for p in lag.peers if p.node == 2)
    assert (target.slept_from_ns, target.slept_until_ns, target.stalled) == (ms(90), ms(3090), True)
    assert lag.took_hold
    assert "TestSlowDown" in lag.reason
    assert lag.lag_end_ns == ms(3090)
    assert [p.node for p in lag.peers] == [1, 2, 3]


def test_a_sleep_without_finish_is_still_asleep() -> None:
    """A sleep after the last finish leaves slept_until None and the lag open."""
    b = HistoryBuilder(PEERS)
    _sleep(b, 100)
    _wake(b, 200)
    _sleep(b, 300)
    lag = assess_lag(b.build(), _input())
    target = next(p for p in lag.peers if p.node == 2)
    assert target.slept_from_ns == ms(100)
    assert target.slept_until_ns is None
    assert lag.still_asleep == (2,)
    assert lag.lag_end_ns is None


def test_commit_gap_against_the_leaders_latest_commit() -> None:
    """A frozen follower's gap grows with the leader's later snapshots."""
    b = HistoryBuilder(PEERS)
    _cluster_all(b, 0, {1: 10, 2: 10, 3: 10})
    b.cluster(100, node=1, commit=40, leader=101, role="Leader")
    b.cluster(110, node=3, commit=40, leader=101)
    b.cluster(200, node=2, commit=41, leader=101)
    lag = assess_lag(b.build(), _input(thresholds=Thresholds(commit_gap=20)))
    gaps = {p.node: p.max_commit_gap for p in lag.peers}
    assert gaps == {1: 0, 2: 30, 3: 30}
    assert [p.stalled for p in lag.peers] == [False, True, True]
    assert lag.took_hold
    lag = assess_lag(b.build(), _input(thresholds=Thresholds(commit_gap=30)))
    assert not lag.took_hold
    assert "never took hold on target node 2" in lag.reason


def test_leader_by_highest_term_and_by_leader_field() -> None:
    """After an election the new leader (higher term) is the reference; else the named leader."""
    b = HistoryBuilder(PEERS)
    b.cluster(0, node=1, commit=10, term=1, leader=101, role="Leader")
    b.cluster(1, node=3, commit=30, term=2, leader=103, role="Leader")
    b.cluster(2, node=2, commit=5, term=1, leader=101, role="Follower")
    lag = assess_lag(b.build(), _input())
    assert {p.node: p.max_commit_gap for p in lag.peers} == {1: 20, 2: 25, 3: 0}
    b = HistoryBuilder(PEERS)
    b.cluster(0, node=3, commit=30, term=2, leader=103, role=None)
    b.cluster(1, node=2, commit=5, term=2, leader=103, role=None)
    lag = assess_lag(b.build(), _input())
    assert {p.node: p.max_commit_gap for p in lag.peers} == {1: 0, 2: 25, 3: 0}


def test_last_update_age_threshold() -> None:
    """An age above the threshold is a stall; at or below it is not."""
    b = HistoryBuilder(PEERS)
    b.cluster(0, node=2, commit=1, last_update_age_ms=1000.0)
    assert not assess_lag(b.build(), _input()).took_hold
    b.cluster(10, node=2, commit=1, last_update_age_ms=1000.5)
    lag = assess_lag(b.build(), _input())
    assert lag.took_hold
    assert next(p for p in lag.peers if p.node == 2).max_last_update_age_ms == 1000.5


def test_send_failures_mapped_by_p2p_uri() -> None:
    """With URIs known, each count goes to its peer; a node's own view of itself is ignored."""
    uris = {"http://n1:6335/": 101, "http://n2:6335/": 102, "http://n3:6335": 103}
    b = HistoryBuilder(PEERS)
    b.cluster(
        0,
        node=1,
        commit=1,
        role="Leader",
        send_failures={"http://n2:6335/": 4, "http://n3:6335/": 1},
    )
    b.cluster(1, node=1, commit=1, role="Leader", send_failures={"http://n2:6335/": 7})
    b.cluster(2, node=3, commit=1, send_failures={"http://n3:6335/": 99, "http://unknown:1/": 50})
    lag = assess_lag(b.build(), _input(peer_uris=uris))
    assert {p.node: p.max_send_failures for p in lag.peers} == {1: 0, 2: 7, 3: 1}


def test_send_failures_without_uris_go_to_the_target() -> None:
    """With no URI map, the largest count seen by the other nodes is attributed to the target."""
    b = HistoryBuilder(PEERS)
    b.cluster(0, node=1, commit=1, role="Leader", send_failures={"http://a/": 3, "http://b/": 9})
    b.cluster(1, node=2, commit=1, send_failures={"http://c/": 50})  # the target's own view
    lag = assess_lag(b.build(), _input())
    assert {p.node: p.max_send_failures for p in lag.peers} == {1: 0, 2: 9, 3: 0}


def test_no_target_any_stalled_node_counts() -> None:
    """Without a target, any stalled node means the lag took hold."""
    b = HistoryBuilder(PEERS)
    _sleep(b, 0, node=3)
    lag = assess_lag(b.build(), _input(target_node=None))
    assert lag.took_hold
    assert "node 3" in lag.reason
    assert not assess_lag(HistoryBuilder(PEERS).build(), _input(target_node=None)).took_hold


def test_target_given_as_peer() -> None:
    """``target_peer`` alone identifies the target node via the node map."""
    b = HistoryBuilder(PEERS)
    _sleep(b, 0, node=3)
    assert not assess_lag(b.build(), _input(target_node=None, target_peer=102)).took_hold
    assert assess_lag(b.build(), _input(target_node=None, target_peer=103)).took_hold


# --- convergence ----------------------------------------------------------------------------


def _converging(b: HistoryBuilder) -> None:
    _sleep(b, 0)
    _wake(b, 1000)
    for node in (1, 2, 3):
        b.collection_cluster(
            1100,
            node=node,
            collection="existing",
            replicas=[(0, 101, "Active"), (0, 102, "Active")],
        )
    _cluster_all(b, 1200, {1: 50, 2: 50, 3: 50})


def _converge(b: HistoryBuilder, inp: AnalysisInput | None = None) -> tuple[bool, str]:
    h = b.build()
    inp = inp or _input(new_collections=("new_1",))
    c = assess_convergence(h, inp, assess_lag(h, inp))
    return c.converged, c.reason


def test_converged_mark_wins() -> None:
    """The driver's converged mark settles it."""
    b = HistoryBuilder(PEERS)
    _sleep(b, 0)
    b.converged(10)
    assert _converge(b)[0]


def test_derived_convergence() -> None:
    """Same commit, nothing pending, all Active after the lag: converged."""
    b = HistoryBuilder(PEERS)
    _converging(b)
    ok, reason = _converge(b)
    assert ok
    assert "derived" in reason


def test_not_converged_when_commits_differ_or_pending() -> None:
    """Different last commits or pending operations mean no convergence."""
    b = HistoryBuilder(PEERS)
    _converging(b)
    b.cluster(1300, node=2, commit=49, leader=101)
    assert _converge(b) == (
        False,
        "never converged: last commits differ (node 1: 50, node 2: 49, node 3: 50)",
    )
    b = HistoryBuilder(PEERS)
    _converging(b)
    b.cluster(1300, node=3, commit=50, leader=101, pending_operations=2)
    assert _converge(b) == (False, "never converged: pending operations on node [3]")


def test_not_converged_while_asleep_or_unobserved_after_waking() -> None:
    """A node still asleep, or not observed since it woke, has not converged."""
    b = HistoryBuilder(PEERS)
    _cluster_all(b, 0, {1: 5, 2: 5, 3: 5})
    _sleep(b, 10)
    assert not _converge(b)[0]
    _wake(b, 20)
    ok, reason = _converge(b)
    assert not ok
    assert "after it woke" in reason
    b.cluster(30, node=2, commit=5, leader=101, last_update_age_ms=1.0)
    assert _converge(b)[0]


def test_not_converged_with_a_non_active_replica_or_a_node_without_the_collection() -> None:
    """Every node's last view of every watched collection must be all Active."""
    b = HistoryBuilder(PEERS)
    _converging(b)
    b.collection_cluster(
        1300, node=3, collection="existing", replicas=[(0, 101, "Active"), (0, 102, "Dead")]
    )
    ok, reason = _converge(b)
    assert not ok
    assert reason == "never converged: node 3 last saw existing shard 0 replica 102 Dead"
    b = HistoryBuilder(PEERS)
    _converging(b)
    for node in (1, 3):
        b.collection_cluster(1300, node=node, collection="new_1", replicas=[(0, 101, "Active")])
    ok, reason = _converge(b)
    assert not ok
    assert reason == "never converged: node 2 does not show new_1"


def test_views_after_cleanup_are_ignored_and_an_uncreated_collection_is_fine() -> None:
    """Deleting the new collections in cleanup does not undo convergence; never-created is fine."""
    b = HistoryBuilder(PEERS)
    _converging(b)
    for node in (1, 2, 3):
        b.collection_cluster(1300, node=node, collection="new_1", replicas=None)
    assert _converge(b)[0]  # new_1 invisible everywhere: a create that never happened
    b.phase(1400, "cleanup")
    b.collection_cluster(1500, node=1, collection="existing", replicas=[(0, 101, "Dead")])
    assert _converge(b)[0]


def test_unobserved_node_is_not_converged() -> None:
    """A known node without any cluster snapshot cannot be said to have converged."""
    b = HistoryBuilder(PEERS)
    b.cluster(0, node=1, commit=3, role="Leader")
    ok, reason = _converge(b)
    assert not ok
    assert "no cluster observation of node [2, 3]" in reason
    assert _converge(HistoryBuilder(PEERS)) == (
        False,
        "never converged: no cluster observation to judge by",
    )


def test_example_runs() -> None:
    """The canned run converges (derived) and its lag takes hold, unless told otherwise."""
    for kw, took, conv in [
        ({"converged_mark": False}, True, True),
        ({"converged_mark": False, "converge": False}, True, False),
        ({"converged_mark": False, "lag": False}, False, True),
    ]:
        h = example_run(**kw)  # type: ignore[arg-type]  # bool keyword arguments
        inp = analysis_input_from_history(h)
        lag = assess_lag(h, inp)
        assert (lag.took_hold, assess_convergence(h, inp, lag).converged) == (took, conv), kw
