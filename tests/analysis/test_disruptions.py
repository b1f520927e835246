"""Detector (b): replicas of existing collections leaving Active, per observer."""

from __future__ import annotations

from lagrace.analysis.disruptions import find_disruptions, first_disruption_ns, replica_rows
from lagrace.testing.histories import HistoryBuilder, ms

PEERS = {1: 101, 2: 102, 3: 103}


def _view(
    b: HistoryBuilder, t: float, node: int, states: dict[int, str], coll: str = "existing"
) -> None:
    """Shard 0 with one replica per peer, in the given states."""
    b.collection_cluster(
        t, node=node, collection=coll, replicas=[(0, p, st) for p, st in states.items()]
    )


ALL_ACTIVE = {101: "Active", 102: "Active", 103: "Active"}


def test_a_replica_leaving_and_returning_is_one_disruption() -> None:
    """Active -> Dead -> Partial -> Active is one episode with every state and the return time."""
    b = HistoryBuilder(PEERS)
    _view(b, 0, 1, ALL_ACTIVE)
    _view(b, 100, 1, {**ALL_ACTIVE, 102: "Dead"})
    _view(b, 200, 1, {**ALL_ACTIVE, 102: "Dead", 103: "Dead"})  # 102 unchanged here
    _view(b, 300, 1, {**ALL_ACTIVE, 102: "Partial", 103: "Dead"})
    _view(b, 400, 1, ALL_ACTIVE)
    found = find_disruptions(b.build(), ["existing"])
    assert len(found) == 2
    d102 = next(d for d in found if d.replica_peer == 102)
    assert (d102.state, d102.states) == ("Dead", ("Dead", "Partial"))
    assert (d102.first_ns, d102.back_active_ns, d102.duration_ns) == (ms(100), ms(400), ms(300))
    assert (d102.observer_node, d102.observer_peer, d102.collection, d102.shard) == (
        1,
        101,
        "existing",
        0,
    )
    assert first_disruption_ns(found) == ms(100)


def test_never_back_is_none() -> None:
    """A replica still non-Active at the end has no return time."""
    b = HistoryBuilder(PEERS)
    _view(b, 0, 2, ALL_ACTIVE)
    _view(b, 50, 2, {**ALL_ACTIVE, 101: "Dead"})
    (d,) = find_disruptions(b.build(), ["existing"])
    assert d.back_active_ns is None
    assert d.duration_ns is None


def test_not_seen_active_first_is_no_disruption() -> None:
    """Initializing -> Active (a create) or a replica first seen Dead is not a disruption."""
    b = HistoryBuilder(PEERS)
    _view(b, 0, 1, {101: "Initializing", 102: "Dead", 103: "Active"})
    _view(b, 10, 1, {101: "Active", 102: "Dead", 103: "Active"})
    assert find_disruptions(b.build(), ["existing"]) == ()
    assert first_disruption_ns(()) is None


def test_only_existing_collections_count() -> None:
    """A new collection's replicas flapping is not a disruption of an existing one."""
    b = HistoryBuilder(PEERS)
    _view(b, 0, 1, ALL_ACTIVE, coll="new_1")
    _view(b, 10, 1, {**ALL_ACTIVE, 102: "Dead"}, coll="new_1")
    assert find_disruptions(b.build(), ["existing"]) == ()
    assert len(find_disruptions(b.build(), ["new_1"])) == 1


def test_each_observer_and_each_episode_is_separate() -> None:
    """Two observers give two disruptions; leaving Active twice gives two episodes."""
    b = HistoryBuilder(PEERS)
    _view(b, 0, 1, ALL_ACTIVE)
    _view(b, 0, 3, ALL_ACTIVE)
    _view(b, 10, 3, {**ALL_ACTIVE, 102: "Dead"})
    _view(b, 20, 1, {**ALL_ACTIVE, 102: "Dead"})
    _view(b, 30, 1, ALL_ACTIVE)
    _view(b, 40, 1, {**ALL_ACTIVE, 102: "Partial"})
    found = find_disruptions(b.build(), ["existing"])
    assert [(d.observer_node, d.first_ns, d.state) for d in found] == [
        (3, ms(10), "Dead"),
        (1, ms(20), "Dead"),
        (1, ms(40), "Partial"),
    ]


def test_invisible_snapshots_and_missing_replicas_change_nothing() -> None:
    """A 404 snapshot or a replica missing from one snapshot is not a state change."""
    b = HistoryBuilder(PEERS)
    _view(b, 0, 1, ALL_ACTIVE)
    b.collection_cluster(10, node=1, collection="existing", replicas=None)
    _view(b, 20, 1, {101: "Active", 103: "Active"})
    _view(b, 30, 1, ALL_ACTIVE)
    assert find_disruptions(b.build(), ["existing"]) == ()


def test_replica_rows_skips_malformed_rows() -> None:
    """Rows that are not [int, int, str] are skipped; invisible is None."""
    data = {
        "visible": True,
        "replicas": [[0, 1, "Active"], [0, "x", "Dead"], [1, 2], "junk", [True, 1, "Dead"]],
    }
    assert replica_rows(data) == [(0, 1, "Active")]
    assert replica_rows({"visible": False, "status": 404}) is None
