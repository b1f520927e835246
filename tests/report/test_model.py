"""Tests for lagrace.report.model: what the report extracts from a history."""

from __future__ import annotations

from pathlib import Path

import pytest

from lagrace.clock import ManualClock
from lagrace.events import OBS_COLLECTION_CLUSTER, OBS_LOG, Outcome
from lagrace.history import Recorder
from lagrace.report.model import (
    ABSENT,
    Band,
    OpPoint,
    ReportModel,
    collection_of,
    summary_bands,
    throughput,
)
from lagrace.report.rundir import load_model
from tests.report.fixtures import EVIL_WARN, EXISTING, NEW, NODES, s


@pytest.fixture(scope="module")
def race(race_dir: Path) -> ReportModel:
    """The model of the reproduced race."""
    return load_model(race_dir)


def test_lanes_one_per_peer_and_worker(race: ReportModel) -> None:
    """Peers come first (node order, target flagged), then workers in role order."""
    assert [lane.key for lane in race.lanes] == [
        "peer-1", "peer-2", "peer-3",
        "worker-setup", "worker-lag-0", "worker-burst-0", "worker-hammer-0",
    ]  # fmt: skip
    assert [lane.node for lane in race.lanes if lane.target] == [2]
    assert race.lane("peer-2") is not None
    assert race.lane("peer-2").peer_id == NODES[2]  # type: ignore[union-attr]  # asserted above


def test_slow_down_window_from_log_lines(race: ReportModel) -> None:
    """The TestSlowDown sleeping/finished lines give the window, on the peer that slept."""
    (window,) = race.windows
    assert (window.node, window.peer_id, window.source) == (2, NODES[2], "log")
    assert (window.start_ns, window.end_ns) == (s(5.03), s(10.03))
    assert window.duration_ms == 5000
    assert window.finished_seen


def test_slow_down_window_derived_without_log_lines(clean_dir: Path) -> None:
    """Without TestSlowDown lines the window starts at the op's ack and lasts its duration."""
    (window,) = load_model(clean_dir).windows
    assert (window.node, window.source, window.finished_seen) == (2, "derived", False)
    assert (window.start_ns, window.end_ns) == (s(5.02), s(10.02))


def test_sleeping_without_finished_line_ends_after_its_duration() -> None:
    """An interrupted sleep (no finished line) is drawn for its announced duration."""
    clock = ManualClock()
    rec = Recorder(clock)
    rec.mark("run_start", {"nodes": [{"node": 1, "peer_id": 7}]})
    rec.observe(OBS_LOG, node=1, peer_id=7, data={
        "at_ns": s(1), "level": "DEBUG", "target": "storage::content_manager::staging",
        "message": "TestSlowDown: sleeping for 2500ms on peer 7",
    })  # fmt: skip
    from lagrace.report.model import build_model

    (window,) = build_model(rec.history(), {}, None).windows
    assert (window.node, window.start_ns, window.end_ns) == (1, s(1), s(3.5))
    assert not window.finished_seen


def test_all_peers_sleep_when_the_op_names_no_peer() -> None:
    """A test_slow_down without peer_id stalls every peer: one derived window each."""
    clock = ManualClock()
    rec = Recorder(clock)
    rec.mark("run_start", {"nodes": [{"node": 1, "peer_id": 7}, {"node": 2, "peer_id": 8}]})
    request = "POST /collections/c/cluster?timeout=10 peer_id=None duration=2"
    inv = rec.invoke(worker="lag-0", op="test_slow_down", node=1, peer_id=7, request=request)
    clock.advance(s(0.1))
    rec.complete(inv, outcome=Outcome.OK, status=200)
    from lagrace.report.model import build_model

    windows = build_model(rec.history(), {}, None).windows
    assert sorted((w.node, w.end_ns - w.start_ns) for w in windows) == [(1, s(2)), (2, s(2))]


def test_replica_bands_dead_partial_active(race: ReportModel) -> None:
    """Node 1 sees replica 2002 of shard 1 of the existing collection go Dead, Partial, Active."""
    seen = [
        (b.state, b.start_ns, b.end_ns)
        for b in race.bands
        if (b.node, b.collection, b.shard, b.replica_peer) == (1, EXISTING, 1, NODES[2])
    ]
    assert seen == [
        ("Active", s(0.5) + 1, s(10.4) + 1),
        ("Dead", s(10.4) + 1, s(11.5) + 1),
        ("Partial", s(11.5) + 1, s(13.0) + 1),
        ("Active", s(13.0) + 1, race.end_ns),
    ]


def test_absent_band_while_the_lagging_peer_lacks_the_new_collection(race: ReportModel) -> None:
    """Node 2 answers 404 for the collection created during its sleep until it catches up."""
    absent = [b for b in race.bands if b.state == ABSENT and b.collection == NEW[0]]
    assert [(b.node, b.start_ns, b.end_ns) for b in absent] == [(2, s(5.85), s(10.5))]


def test_creates_sent_acknowledged_and_visible_per_peer(race: ReportModel) -> None:
    """Each create carries its send, ack and first-visible instant on every peer."""
    create = next(c for c in race.creates if c.collection == NEW[0])
    assert (create.sent_ns, create.ack_ns, create.outcome) == (s(5.5), s(5.8), Outcome.OK)
    assert create.visible == ((1, s(5.9)), (2, s(10.5)), (3, s(6.0)))


def test_warn_lines_kept_with_their_text(race: ReportModel) -> None:
    """WARN lines become warn marks (server timestamp), selected INFO lines log marks."""
    warns = [m for m in race.logs if m.kind == "warn"]
    assert [(m.node, m.at_ns) for m in warns] == [
        (1, s(10.3)), (1, s(10.5)), (2, s(10.7)), (3, s(10.8)),
    ]  # fmt: skip
    assert warns[0].message == EVIL_WARN
    assert {m.message.split()[0] for m in race.logs if m.kind == "log"} == {
        "TestSlowDown:",
        "Creating",
    }


def test_commit_gap_of_the_stalled_peer(race: ReportModel) -> None:
    """Node 2's commit freezes during the sleep: its gap grows to 10 and falls back to 0."""
    gaps = [p.gap for p in race.lag if p.node == 2]
    assert max(gaps) == 10
    assert gaps[-1] == 0
    # The others are polled a few ns apart, so one is at most one step behind at a time.
    assert max(p.gap for p in race.lag if p.node != 2) == 1


def test_partial_run_is_modelled_with_notes(partial_dir: Path) -> None:
    """An interrupted run without findings renders with notes saying what is missing."""
    model = load_model(partial_dir)
    assert model.findings is None
    assert model.status == "interrupted"
    assert any("torn" in n for n in model.notes)
    assert any("no findings.json" in n for n in model.notes)
    assert model.windows
    assert model.bands


def test_summary_bands_take_the_worst_state() -> None:
    """Merged periods carry the worst replica state and list the non-Active replicas."""
    bands = [
        Band(1, "c", 0, 7, "Active", 0, 10),
        Band(1, "c", 1, 7, "Active", 0, 4),
        Band(1, "c", 1, 7, "Dead", 4, 6),
        Band(1, "c", 1, 7, "Partial", 6, 8),
        Band(1, "c", 1, 7, "Active", 8, 10),
    ]
    merged = [(b.state, b.start_ns, b.end_ns, b.detail) for b in summary_bands(bands)]
    assert merged == [
        ("Active", 0, 4, "all Active"),
        ("Dead", 4, 6, "shard 1 peer 7: Dead"),
        ("Partial", 6, 8, "shard 1 peer 7: Partial"),
        ("Active", 8, 10, "all Active"),
    ]


def test_throughput_bins_by_outcome() -> None:
    """Completions are counted per bin and outcome, as a rate per second."""
    points = [
        OpPoint(0, "h", "upsert", 1, s(0.1), s(0.2), Outcome.OK),
        OpPoint(1, "h", "upsert", 1, s(0.3), s(0.4), Outcome.OK),
        OpPoint(2, "h", "upsert", 1, s(1.1), s(1.2), Outcome.FAIL),
        OpPoint(3, "h", "upsert", 1, s(1.5), None, Outcome.INFO),
    ]
    starts, rates = throughput(points, 0, s(2), s(0.5))
    assert starts == [0.0, 0.5, 1.0, 1.5]
    assert rates[Outcome.OK] == [4.0, 0.0, 0.0, 0.0]
    assert rates[Outcome.FAIL] == [0.0, 0.0, 2.0, 0.0]
    assert rates[Outcome.INFO] == [0.0, 0.0, 0.0, 2.0]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        (f"PUT /collections/{NEW[1]}?timeout=10 shard_number=3", NEW[1]),
        ("PUT /collections/other?timeout=10", "other"),
        ("something odd", "something"),
        ("", "?"),
    ],
)
def test_collection_of_request_summaries(request_text: str, expected: str) -> None:
    """The collection a request names: a known one, else the /collections/<c> path segment."""
    assert collection_of(request_text, [EXISTING, *NEW]) == expected


def test_snapshot_without_collection_is_ignored() -> None:
    """A malformed collection_cluster observation does not produce rows or bands."""
    rec = Recorder(ManualClock())
    rec.observe(OBS_COLLECTION_CLUSTER, node=1, peer_id=7, data={"visible": True})
    from lagrace.report.model import build_model

    model = build_model(rec.history(), {}, None)
    assert model.rows == ()
    assert model.bands == ()
