"""Detector (a): the symptom WARNs per peer, collection attribution, custom regexes."""

from __future__ import annotations

import re

import pytest

from lagrace.analysis import logtexts
from lagrace.analysis.inputs import AnalysisInput, CustomSignature
from lagrace.analysis.signatures import (
    DEAD_EXPECTED_ACTIVE,
    LAST_ACTIVE_REPLICA,
    count_by_signature,
    find_signatures,
)
from lagrace.errors import UsageError
from lagrace.testing.histories import HistoryBuilder, ms

PEERS = {1: 101, 2: 102, 3: 103}
INPUT = AnalysisInput(existing_collections=("existing",), node_peers=PEERS)


def _set_line(
    b: HistoryBuilder, t: float, node: int, *, collection: str, shard: int, peer: int
) -> None:
    b.log(
        t,
        node=node,
        level="DEBUG",
        target=logtexts.TARGET_META_OPS,
        message=logtexts.format_set_replica_state(collection, shard, peer, "Dead", "Active"),
    )


def test_dead_expected_active_is_found_with_replica_shard_and_collection() -> None:
    """The Dead-expected-Active WARN yields a hit with X, Y and the Set line's collection."""
    b = HistoryBuilder(PEERS)
    _set_line(b, 10, 2, collection="existing", shard=1, peer=103)
    b.log(11, node=2, message=logtexts.format_dead_expected_active(103, 1), at_ms=9.5)
    (hit,) = find_signatures(b.build(), INPUT)
    assert hit.signature == DEAD_EXPECTED_ACTIVE
    assert (hit.node, hit.peer_id, hit.replica_peer, hit.shard) == (2, 102, 103, 1)
    assert hit.collection == "existing"
    assert hit.at_ns == ms(9.5)  # the server's time, not when it was recorded


def test_last_active_replica_is_found() -> None:
    """The last-active-replica WARN yields its own signature with X and Y."""
    b = HistoryBuilder(PEERS)
    b.log(5, node=3, message=logtexts.format_last_active_replica(101, 2))
    (hit,) = find_signatures(b.build(), INPUT)
    assert (hit.signature, hit.replica_peer, hit.shard, hit.peer_id) == (
        LAST_ACTIVE_REPLICA,
        101,
        2,
        103,
    )
    assert hit.collection is None  # no Set line before it


@pytest.mark.parametrize(
    "message",
    [
        logtexts.format_unexpected_state(101, 0, "Active", "Initializing"),  # benign echo (§9.7)
        logtexts.format_unexpected_state(101, 0, "Dead", "Partial"),
        "Cannot locally disable last active peer 101 for replica",
        "Replica 101 of shard 0 has state Some(Dead), but expected Some(Active)",  # no prefix
        logtexts.format_failed_update_shard("existing", 0, 101, "timeout"),
    ],
)
def test_other_lines_are_not_signatures(message: str) -> None:
    """Noise and look-alikes do not match the built-in signatures."""
    b = HistoryBuilder(PEERS)
    b.log(1, node=1, message=message)
    assert find_signatures(b.build(), INPUT) == ()


def test_collection_comes_from_the_same_nodes_set_line_only() -> None:
    """A Set line of another node does not attribute a WARN."""
    b = HistoryBuilder(PEERS)
    _set_line(b, 1, 1, collection="existing", shard=0, peer=102)
    b.log(2, node=2, message=logtexts.format_dead_expected_active(102, 0))
    (hit,) = find_signatures(b.build(), INPUT)
    assert hit.collection is None


def test_collection_comes_from_the_latest_matching_set_line() -> None:
    """With several Set lines, the latest one for the same shard and replica wins."""
    b = HistoryBuilder(PEERS)
    _set_line(b, 1, 1, collection="older", shard=0, peer=102)
    _set_line(b, 2, 1, collection="existing", shard=0, peer=102)
    _set_line(b, 3, 1, collection="other_shard", shard=1, peer=102)
    b.log(4, node=1, message=logtexts.format_dead_expected_active(102, 0))
    (hit,) = find_signatures(b.build(), INPUT)
    assert hit.collection == "existing"


def test_hits_are_per_peer_and_counted() -> None:
    """Every peer's WARN is its own hit; counts are per signature."""
    b = HistoryBuilder(PEERS)
    for node in (1, 2, 3):
        b.log(node, node=node, message=logtexts.format_dead_expected_active(102, 0))
    b.log(5, node=1, message=logtexts.format_last_active_replica(103, 0))
    hits = find_signatures(b.build(), INPUT)
    assert [h.peer_id for h in hits] == [101, 102, 103, 101]
    assert count_by_signature(hits) == {DEAD_EXPECTED_ACTIVE: 3, LAST_ACTIVE_REPLICA: 1}


def test_custom_signature_with_named_groups() -> None:
    """A user regex is reported as custom:<name>, with its named groups."""
    custom = CustomSignature.compile(
        "stopped", r"Consensus stopped with error: (?P<collection>\w+) shard (?P<shard>\d+)"
    )
    inp = AnalysisInput(existing_collections=("e",), node_peers=PEERS, custom_signatures=(custom,))
    b = HistoryBuilder(PEERS)
    b.log(1, node=1, level="ERROR", message="Consensus stopped with error: coll shard 3")
    b.log(2, node=1, level="ERROR", message="Consensus stopped for another reason")
    (hit,) = find_signatures(b.build(), inp)
    assert (hit.signature, hit.collection, hit.shard, hit.replica_peer) == (
        "custom:stopped",
        "coll",
        3,
        None,
    )


def test_custom_signature_parse() -> None:
    """NAME=REGEX parses; malformed specs and bad regexes are usage errors."""
    sig = CustomSignature.parse("x=a=b")
    assert sig.name == "x"
    assert sig.regex == re.compile("a=b")
    for bad in ("noequals", "=regex", "name=", "bad=("):
        with pytest.raises(UsageError):
            CustomSignature.parse(bad)
