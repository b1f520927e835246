"""Detectors of the delete-under-writes race: panics, writes answered 500, peers that stop
answering — from literal histories with log lines of recorded/v1.18.3-delete-under-writes/."""

from __future__ import annotations

from lagrace.analysis.findings import Verdict, findings_from_json, findings_to_json
from lagrace.analysis.inputs import analysis_input_from_history
from lagrace.analysis.panics import find_panics, panic_timeline
from lagrace.analysis.server_errors import find_server_error_writes
from lagrace.analysis.unresponsive import find_unresponsive
from lagrace.analysis.verdict import analyse
from lagrace.analysis.writes import summarise_writes
from lagrace.api import calls
from lagrace.history import History
from lagrace.testing.histories import HistoryBuilder, upsert

# verbatim from ../shared/qdrant/recorded/v1.18.3-delete-under-writes/peer-1.log
PANIC = (
    "Panic occurred in file lib/collection/src/shards/shard_holder/mod.rs at line 423: "
    "called `Option::unwrap()` on a `None` value"
)
REQUEST_PANICKED = (
    "Error processing request: Service internal error: task 5655 panicked with message "
    '"called `Option::unwrap()` on a `None` value"'
)
ANSWER_PANICKED = (
    'Service internal error: task 5654 panicked with message "called `Option::unwrap()` on a '
    '`None` value"'
)
PEERS = {1: 101, 2: 102, 3: 103}


def _delete_under_writes() -> History:
    b = HistoryBuilder(node_peers=PEERS)
    b.run_start(0, existing="dw")
    ok = b.invoke(100, upsert("dw", 16, wait=True), worker="hammer-0", node=1)
    b.complete(ok, 120, outcome="ok", status=200)
    bad = b.invoke(800, upsert("dw", 16, wait=True), worker="hammer-1", node=1)
    b.log(900, node=1, level="ERROR", target="qdrant::startup", message="Panic backtrace: ")
    b.log(901, node=1, level="ERROR", target="qdrant::startup", message=PANIC)
    b.log(902, node=2, level="ERROR", target="qdrant::startup", message=PANIC)
    b.log(905, node=1, level="ERROR", target="qdrant::actix::helpers", message=REQUEST_PANICKED)
    b.complete(bad, 910, outcome="info", status=500, error=ANSWER_PANICKED)
    b.converged(2000)
    b.run_end(2100)
    return b.build()


def test_panic_lines_and_panicked_answers() -> None:
    """Panic lines, 'task N panicked' log lines and 500 answers are found, in time order; the
    backtrace header is not a panic."""
    history = _delete_under_writes()
    panics = find_panics(history, analysis_input_from_history(history))
    assert [(p.source, p.node) for p in panics] == [
        ("log", 1),
        ("log", 2),
        ("request_log", 1),
        ("answer", 1),
    ]
    assert panics[0].location == "lib/collection/src/shards/shard_holder/mod.rs:423"
    assert panics[0].peer_id == 101
    assert (panics[2].task, panics[3].task) == (5655, 5654)
    assert panics[3].message == "called `Option::unwrap()` on a `None` value"
    kinds = [e.kind for e in panic_timeline(panics)]
    assert kinds == ["panic"] * 4  # one per node and source


def test_writes_answered_500_grouped_per_node() -> None:
    """A write answered 500 'task N panicked' is counted for its node, with the panicked count."""
    history = _delete_under_writes()
    inp = analysis_input_from_history(history)
    (group,) = find_server_error_writes(summarise_writes(history, ["dw"]), inp)
    assert (group.node, group.peer_id, group.count, group.panicked) == (1, 101, 1, 1)
    assert group.first_error == ANSWER_PANICKED


def test_a_panic_is_reproduced_and_findings_round_trip() -> None:
    """The verdict is reproduced on a panic; the new findings survive findings.json."""
    history = _delete_under_writes()
    findings = analyse(history, analysis_input_from_history(history))
    assert findings.verdict is Verdict.REPRODUCED
    assert any("peer panic at lib/collection" in r for r in findings.reasons)
    assert {"panic", "write_500"} <= {e.kind for e in findings.timeline}
    again = findings_from_json(findings_to_json(findings))
    assert again.panics == findings.panics
    assert again.server_errors == findings.server_errors


def test_old_findings_json_still_loads() -> None:
    """A findings.json written before the new detectors loads with empty new fields."""
    old = findings_to_json(
        analyse(_delete_under_writes(), analysis_input_from_history(_delete_under_writes()))
    )
    for key in ("panics", "server_errors", "unresponsive"):
        del old[key]
    loaded = findings_from_json(old)
    assert (loaded.panics, loaded.server_errors, loaded.unresponsive) == ((), (), ())


def test_a_peer_that_stops_answering() -> None:
    """Calls to node 3 time out for 8 s while nodes 1 and 2 answer: one stretch, ended by the
    next answer; a short gap and refused connections are not silence."""
    b = HistoryBuilder(node_peers=PEERS)
    b.run_start(0, existing="dw")
    b.poll(100, node=3, status=200)
    for t in range(1000, 9000, 1000):
        hung = b.invoke(t, calls.cluster(), worker="watch-cluster-3", node=3)
        b.complete(hung, t + 900, outcome="info", error="TimeoutError: no answer in 5 s")
        b.poll(t + 950, node=1, status=200)
    b.poll(9500, node=3, status=200)
    short = b.invoke(9600, calls.cluster(), worker="watch-cluster-2", node=2)
    b.complete(short, 10000, outcome="info", error="TimeoutError")
    b.poll(11000, node=2, status=200)
    b.poll(12000, node=1, error="ClientConnectorError: refused")
    history = b.build()
    (stretch,) = find_unresponsive(history, analysis_input_from_history(history))
    assert (stretch.node, stretch.peer_id, stretch.unanswered) == (3, 103, 8)
    assert (stretch.from_ns, stretch.until_ns) == (1_000_000_000, 9_500_000_000)


def test_a_peer_silent_until_the_end() -> None:
    """A node that never answers again has an open stretch (until None)."""
    b = HistoryBuilder(node_peers=PEERS)
    b.run_start(0, existing="dw")
    b.poll(100, node=2, status=200)
    b.invoke(500, upsert("dw", 4), worker="hammer-0", node=2)  # never completed
    b.poll(7000, node=1, status=200)
    history = b.build()
    (stretch,) = find_unresponsive(history, analysis_input_from_history(history))
    assert (stretch.node, stretch.until_ns) == (2, None)
