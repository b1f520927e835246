"""The lined-up timeline: entries, ordering on the one clock, capping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagrace.analysis import logtexts
from lagrace.analysis.inputs import AnalysisInput, analysis_input_from_history
from lagrace.analysis.timeline import build_timeline, created_collections, format_offset
from lagrace.analysis.verdict import analyse
from lagrace.analysis.writes import summarise_writes
from lagrace.api import calls
from lagrace.events import event_from_json, event_to_json
from lagrace.history import History
from lagrace.testing.histories import HistoryBuilder, create, example_run, ms, upsert

PEERS = {1: 101, 2: 102, 3: 103}
INPUT = AnalysisInput(
    existing_collections=("existing",), new_collections=("new_1",), node_peers=PEERS
)


@pytest.mark.parametrize(
    ("t_ns", "text"),
    [
        (0, "+0.000 s"),
        (12_345_678_901, "+12.346 s"),
        (999_499, "+0.001 s"),
        (1_000_000_000, "+1.000 s"),
        (-500_000_000, "-0.500 s"),
    ],
)
def test_format_offset(t_ns: int, text: str) -> None:
    """Offsets are milliseconds on the run axis, rounded, signed."""
    assert format_offset(t_ns) == text


def test_example_timeline_lines_up_the_race() -> None:
    """The canned run's key moments appear in time order with the right kinds."""
    f = analyse(example_run(), analysis_input_from_history(example_run()))
    got = [(format_offset(e.at_ns), e.node, e.kind, e.text) for e in f.timeline]
    wanted = [
        ("+1.000 s", 1, "slow_down", "slow-down proposed (peer 102, 5 s)"),
        ("+1.040 s", 1, "slow_down", "slow-down acknowledged (ok 200)"),
        ("+1.050 s", 2, "slow_down", "slow-down started: sleeping 5000 ms"),
        ("+1.100 s", 1, "create", "create new_abc123_0 sent"),
        ("+1.120 s", 1, "visible", "new_abc123_0 created here (log)"),
        ("+3.200 s", 1, "state", "existing_collection: s0/p102 Active -> Dead"),
        (
            "+3.200 s",
            1,
            "disruption",
            "first disruption: existing_collection shard 0 replica 102 Active -> Dead "
            "in node 1's view",
        ),
        (
            "+3.400 s",
            1,
            "write_fail",
            "first failed write of hammer-0 "
            "(info 500: Some replica of shard 0 failed to apply operation)",
        ),
        ("+4.000 s", 1, "create", "create new_abc123_0 acknowledged (ok 200)"),
        ("+6.050 s", 2, "slow_down", "slow-down finished"),
        ("+6.060 s", 2, "visible", "new_abc123_0 created here (log)"),
        ("+7.000 s", None, "phase", "phase settle"),
    ]
    positions = [got.index(w) for w in wanted]
    assert positions == sorted(positions)
    sigs = [e for e in f.timeline if e.kind == "signature"]
    assert [(e.node, e.peer_id) for e in sigs] == [(1, 101), (3, 103), (2, 102)]
    assert [e.at_ns for e in f.timeline] == sorted(e.at_ns for e in f.timeline)


def test_operations_name_their_collection_and_slowed_peer() -> None:
    """Creates and deletes name their collection, slow-downs their peer and duration."""
    b = HistoryBuilder(PEERS)
    b.operation(0, 5, calls.slow_down("existing", peer_id=None, duration_s=2.5), worker="lag-0")
    b.operation(10, 20, create("new_1"), worker="burst-0", outcome="info", status=500)
    b.operation(30, 40, calls.delete_collection("new_1"), worker="cleanup", status=200)
    b.operation(50, 60, calls.delete_collection("new_2"), worker="cleanup", outcome="fail")
    texts = [(e.kind, e.text) for e in build_timeline(b.build(), INPUT)]
    assert texts == [
        ("slow_down", "slow-down proposed (every peer, 2.5 s)"),
        ("slow_down", "slow-down acknowledged (ok)"),
        ("create", "create new_1 sent"),
        ("create", "create new_1 answered (info 500)"),
        ("delete", "delete new_1 sent"),
        ("delete", "delete new_1 acknowledged (ok 200)"),
        ("delete", "delete new_2 sent"),
        ("delete", "delete new_2 answered (fail)"),
    ]


def test_operations_of_an_older_history_show_less() -> None:
    """Invokes without typed fields (older histories) still line up, without names."""
    b = HistoryBuilder(PEERS)
    b.operation(0, 5, calls.slow_down("existing", peer_id=102, duration_s=5), worker="lag-0")
    b.operation(10, 20, create("new_1"), worker="burst-0")
    untyped = [event_to_json(e) for e in b.build()]
    for obj in untyped:
        obj.pop("args", None)
    old = History(tuple(event_from_json(obj) for obj in untyped))
    assert [e.text for e in build_timeline(old, INPUT)] == [
        "slow-down proposed",
        "slow-down acknowledged (ok)",
        "create ? sent",
        "create ? acknowledged (ok)",
    ]
    assert created_collections(old) == ()


def test_server_time_orders_log_lines_and_ties_go_by_index() -> None:
    """A log line recorded late sorts at its server time; equal times keep history order."""
    b = HistoryBuilder(PEERS)
    b.phase(100, "race")
    b.log(200, node=2, level="DEBUG", message=logtexts.format_slow_down_sleeping(10, 102), at_ms=50)
    b.phase(200, "settle")
    b.log(200, node=1, message=logtexts.format_last_active_replica(1, 0), at_ms=200)
    entries = build_timeline(b.build(), INPUT)
    assert [(e.at_ns, e.index, e.kind) for e in entries] == [
        (ms(50), 1, "slow_down"),
        (ms(100), 0, "phase"),
        (ms(200), 2, "phase"),
        (ms(200), 3, "warn"),  # not passed as a signature hit here: a plain user-error WARN
    ]


def test_visible_per_node_is_the_earlier_of_log_and_snapshot() -> None:
    """Each node gets one visible entry: its Creating log line or first visible snapshot."""
    b = HistoryBuilder(PEERS)
    b.invoke(0, create("new_2", shards=1), worker="burst-0")
    b.collection_cluster(10, node=1, collection="new_2", replicas=[(0, 101, "Initializing")])
    b.log(20, node=1, level="INFO", message=logtexts.format_creating_collection("new_2"), at_ms=5)
    b.collection_cluster(30, node=2, collection="new_2", replicas=None)
    b.collection_cluster(40, node=2, collection="new_2", replicas=[(0, 101, "Active")])
    b.log(50, node=2, level="INFO", message=logtexts.format_creating_collection("new_2"), at_ms=45)
    b.log(60, node=3, level="INFO", message=logtexts.format_creating_collection("other"))
    entries = [e for e in build_timeline(b.build(), INPUT) if e.kind == "visible"]
    assert [(e.node, e.at_ns, e.text) for e in entries] == [
        (1, ms(5), "new_2 created here (log)"),
        (2, ms(40), "new_2 visible (1 Active)"),
    ]
    assert created_collections(b.build()) == ("new_2",)


def test_state_changes_one_entry_per_changed_snapshot() -> None:
    """A node's first view is its baseline; each later changed snapshot is one grouped entry."""
    b = HistoryBuilder(PEERS)
    rows = [(0, 101, "Active"), (0, 102, "Active"), (1, 101, "Active")]
    b.collection_cluster(0, node=1, collection="existing", replicas=rows)
    b.collection_cluster(
        10,
        node=1,
        collection="existing",
        replicas=[(0, 101, "Active"), (0, 102, "Dead"), (1, 101, "Dead"), (1, 103, "Partial")],
    )
    b.collection_cluster(
        20,
        node=1,
        collection="existing",
        replicas=[(0, 101, "Active"), (0, 102, "Dead"), (1, 103, "Partial")],
    )
    b.collection_cluster(30, node=1, collection="unwatched", replicas=[(0, 101, "Dead")])
    b.collection_cluster(40, node=1, collection="unwatched", replicas=[(0, 101, "Active")])
    entries = [e for e in build_timeline(b.build(), INPUT) if e.kind == "state"]
    assert [(e.at_ns, e.text) for e in entries] == [
        (ms(10), "existing: s0/p102, s1/p101 Active -> Dead; s1/p103 (none) -> Partial"),
        (ms(20), "existing: s1/p101 Dead -> (gone)"),
    ]


def test_repeated_identical_warns_are_capped_with_a_count() -> None:
    """Identical WARNs of a node become one entry with a count; uninteresting lines stay out."""
    b = HistoryBuilder(PEERS)
    noise = logtexts.format_unexpected_state(101, 0, "Active", "Initializing")
    for t in (10, 20, 30):
        b.log(t, node=1, message=noise)
    b.log(40, node=2, message=noise)
    b.log(50, node=1, level="WARN", target="qdrant::consensus", message="failed to propose entry")
    b.log(60, node=1, level="INFO", message="Applying committed entry with index 5")
    b.log(
        70,
        node=3,
        level="ERROR",
        target="qdrant::consensus",
        message="Consensus stopped with error: x",
    )
    b.log(80, node=1, message=logtexts.format_failed_update_shard("existing", 0, 102, "timeout"))
    entries = build_timeline(b.build(), INPUT)
    assert [(e.node, e.kind, e.text) for e in entries] == [
        (1, "warn", f"{noise} [x3, last at +0.030 s]"),
        (2, "warn", noise),
        (3, "error", "Consensus stopped with error: x"),
        (1, "warn", logtexts.format_failed_update_shard("existing", 0, 102, "timeout")),
    ]


def test_first_failed_write_per_worker() -> None:
    """Each worker's first non-ok write is on the timeline, at the time it failed."""
    b = HistoryBuilder(PEERS)
    slow = b.invoke(0, upsert("existing"), worker="hammer-0")
    b.operation(10, 20, upsert("existing"), worker="hammer-0", outcome="info", status=500)
    b.complete(slow, 30, outcome="fail", status=400)  # invoked first, failed later
    b.operation(40, None, upsert("existing"), worker="hammer-1", node=2)
    b.operation(50, 60, upsert("existing"), worker="hammer-2")
    h = b.build()
    entries = build_timeline(h, INPUT, writes=summarise_writes(h, ["existing"]))
    assert [(e.at_ns, e.node, e.peer_id, e.text) for e in entries] == [
        (ms(20), 1, 101, "first failed write of hammer-0 (info 500)"),
        (ms(40), 2, 102, "first failed write of hammer-1 (info: never completed)"),
    ]


def test_max_entries_drops_state_changes_first_and_says_so() -> None:
    """Over the cap, the least important entries go, and one closing entry counts them."""
    b = HistoryBuilder(PEERS)
    b.phase(0, "race")
    for i in range(10):
        b.collection_cluster(
            i + 1, node=1, collection="existing", replicas=[(0, 101, "Active" if i % 2 else "Dead")]
        )
    b.log(20, node=1, message=logtexts.format_last_active_replica(1, 0))
    b.phase(30, "settle")
    entries = build_timeline(b.build(), INPUT, max_entries=5)
    assert len(entries) == 5
    assert [e.kind for e in entries] == ["phase", "state", "warn", "phase", "more"]
    assert entries[1].at_ns == ms(2)  # the earliest state change is kept
    assert entries[-1].text == "... 8 more entries not shown (state 8)"
    assert entries[-1].at_ns == ms(30)
    assert len(build_timeline(b.build(), INPUT, max_entries=100)) == 12


@st.composite
def _shuffled_logs(draw: st.DrawFn) -> list[tuple[int, float]]:
    n = draw(st.integers(min_value=0, max_value=25))
    return [
        (
            draw(st.sampled_from([1, 2, 3])),
            draw(st.floats(min_value=0, max_value=5000, allow_nan=False)),
        )
        for _ in range(n)
    ]


@settings(max_examples=60, deadline=None)
@given(_shuffled_logs(), st.integers(min_value=1, max_value=40))
def test_timeline_is_sorted_for_any_server_times(logs: list[tuple[int, float]], cap: int) -> None:
    """Whatever the lines' server times, entries come out sorted by (time, index) and capped."""
    b = HistoryBuilder(PEERS)
    b.phase(0, "race")
    for k, (node, at) in enumerate(logs):
        message = (
            logtexts.format_last_active_replica(k, 0)
            if k % 3
            else logtexts.format_slow_down_sleeping(k, 1)
        )
        b.log(10 + k, node=node, message=message, at_ms=at)
    b.phase(10 + len(logs), "settle")
    full = build_timeline(b.build(), INPUT, max_entries=10_000)
    keys = [(e.at_ns, e.index if e.index is not None else 1 << 62) for e in full]
    assert keys == sorted(keys)
    assert len(full) == len(logs) + 2
    capped = build_timeline(b.build(), INPUT, max_entries=cap)
    assert len(capped) == min(cap, len(full))
    assert [e.at_ns for e in capped] == sorted(e.at_ns for e in capped)
