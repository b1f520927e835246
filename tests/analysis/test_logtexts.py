"""The Qdrant log texts: every formatter is matched by its pattern."""

from __future__ import annotations

from lagrace.analysis import logtexts


def test_formatters_match_their_patterns() -> None:
    """What the formatters write, the detectors' regexes read back."""
    m = logtexts.DEAD_EXPECTED_ACTIVE.search(logtexts.format_dead_expected_active(7401, 2))
    assert m is not None
    assert (m["replica"], m["shard"]) == ("7401", "2")
    m = logtexts.LAST_ACTIVE_REPLICA.search(logtexts.format_last_active_replica(9, 0))
    assert m is not None
    assert (m["replica"], m["shard"]) == ("9", "0")
    m = logtexts.SET_REPLICA_STATE.search(
        logtexts.format_set_replica_state("c_1", 3, 55, "Dead", None)
    )
    assert m is not None
    assert (m["collection"], m["shard"], m["peer"]) == ("c_1", "3", "55")
    m = logtexts.SLOW_DOWN_SLEEPING.search(logtexts.format_slow_down_sleeping(5000, 12))
    assert m is not None
    assert (m["ms"], m["peer"]) == ("5000", "12")
    assert logtexts.SLOW_DOWN_FINISHED.search(logtexts.format_slow_down_finished(12))
    m = logtexts.CREATING_COLLECTION.search(logtexts.format_creating_collection("new_1"))
    assert m is not None
    assert m["collection"] == "new_1"
    m = logtexts.FAILED_UPDATE_SHARD.search(logtexts.format_failed_update_shard("a:b", 1, 2, "x"))
    assert m is not None
    assert (m["collection"], m["shard"], m["peer"]) == ("a:b", "1", "2")


def test_set_line_text_matches_qdrant_debug_format() -> None:
    """The Set line is Rust's Debug of SetShardReplicaState (notes §4.2)."""
    assert logtexts.format_set_replica_state("c", 0, 1, "Dead", "Active") == (
        'Set shard replica state SetShardReplicaState { collection_name: "c", shard_id: 0, '
        "peer_id: 1, state: Dead, from_state: Some(Active) }"
    )
