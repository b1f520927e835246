"""AnalysisInput and its rebuild from a recorded history's run_start mark."""

from __future__ import annotations

import pytest

from lagrace.analysis.inputs import (
    AnalysisInput,
    CustomSignature,
    Thresholds,
    analysis_input_from_history,
)
from lagrace.errors import HistoryError
from lagrace.testing.histories import HistoryBuilder


def test_from_run_start_mark() -> None:
    """Collections, target, node map and p2p URIs come from the run_start mark."""
    b = HistoryBuilder({1: 11, 2: 22})
    b.run_start(
        0,
        existing="e",
        new=["n1", "n2"],
        target_node=2,
        p2p_uris={1: "http://a:1/", 2: "http://b:1"},
    )
    inp = analysis_input_from_history(b.build())
    assert inp.existing_collections == ("e",)
    assert inp.new_collections == ("n1", "n2")
    assert (inp.target_node, inp.target_peer, inp.target) == (2, 22, 2)
    assert dict(inp.node_peers) == {1: 11, 2: 22}
    assert dict(inp.peer_uris) == {"http://a:1": 11, "http://b:1": 22}
    assert inp.thresholds == Thresholds()


def test_overrides_and_event_peers() -> None:
    """Keyword arguments win over the mark; events add node -> peer pairs."""
    b = HistoryBuilder()
    b.run_start(0, existing="e")
    b.observe(1, "cluster", node=3, peer_id=33, data={"commit": 1})
    sig = CustomSignature.compile("x", "x")
    inp = analysis_input_from_history(
        b.build(),
        existing_collections=["a", "b"],
        new_collections=[],
        custom_signatures=[sig],
        thresholds=Thresholds(stall_age_ms=5.0, commit_gap=1),
        peer_uris={"http://c/": 33},
        max_timeline_entries=7,
    )
    assert inp.existing_collections == ("a", "b")
    assert inp.new_collections == ()
    assert dict(inp.node_peers) == {3: 33}
    assert inp.custom_signatures == (sig,)
    assert inp.thresholds.commit_gap == 1
    assert dict(inp.peer_uris) == {"http://c": 33}
    assert inp.max_timeline_entries == 7


def test_no_existing_collection_is_an_error() -> None:
    """Without a run_start mark (or one naming no collection) the caller must say which."""
    with pytest.raises(HistoryError, match="no run_start mark"):
        analysis_input_from_history(HistoryBuilder().build())
    b = HistoryBuilder()
    b.mark(0, "run_start", {"existing_collection": None})
    with pytest.raises(HistoryError, match="the run_start mark"):
        analysis_input_from_history(b.build())
    inp = analysis_input_from_history(HistoryBuilder().build(), existing_collections=["e"])
    assert inp.existing_collections == ("e",)


def test_peer_and_node_lookups() -> None:
    """peer_of / node_of / target resolve through the node map."""
    inp = AnalysisInput(existing_collections=("e",), node_peers={1: 11, 2: 22}, target_peer=22)
    assert (inp.peer_of(1), inp.peer_of(9), inp.peer_of(None)) == (11, None, None)
    assert (inp.node_of(22), inp.node_of(99), inp.node_of(None)) == (2, None, None)
    assert inp.target == 2
