"""Tests for lagrace.report.model: what the report extracts from a history."""

from __future__ import annotations

from pathlib import Path

import pytest

from lagrace.api import calls
from lagrace.api.calls import record_invoke
from lagrace.clock import ManualClock
from lagrace.events import OBS_COLLECTION_CLUSTER, OBS_LOG, Outcome, event_from_json
from lagrace.history import History
from lagrace.recorder import Recorder
from lagrace.report.model import (
    ABSENT,
    Band,
    OpPoint,
    ReportModel,
    build_model,
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
    call = calls.slow_down("c", peer_id=None, duration_s=2, timeout_s=10)
    inv = record_invoke(rec, call, worker="lag-0", node=1, peer_id=7)
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


def test_creates_name_their_collection(race: ReportModel) -> None:
    """Every create names the collection the client sent it for, in send order."""
    assert [c.collection for c in race.creates] == [EXISTING, *NEW]
    assert [c.worker for c in race.creates] == ["setup", "burst-0", "burst-0"]


def test_a_history_without_typed_fields_still_loads() -> None:
    """An older history (request text, no ``args``) loads; it just shows less."""
    lines = [
        {"index": 0, "t_ns": 0, "type": "mark", "name": "run_start",
         "data": {"target_node": 1, "nodes": [{"node": 1, "peer_id": 7}]}},
        {"index": 1, "t_ns": s(1), "type": "invoke", "op_id": 0, "worker": "burst-0",
         "op": "create_collection", "node": 1, "peer_id": 7,
         "request": "PUT /collections/new_1?timeout=10 shard_number=3"},
        {"index": 2, "t_ns": s(1.2), "type": "complete", "op_id": 0, "worker": "burst-0",
         "op": "create_collection", "node": 1, "peer_id": 7, "outcome": "ok", "status": 200},
        {"index": 3, "t_ns": s(2), "type": "invoke", "op_id": 1, "worker": "lag-0",
         "op": "test_slow_down", "node": 1, "peer_id": 7,
         "request": "POST /collections/c/cluster?timeout=10 peer_id=7 duration=5"},
    ]  # fmt: skip
    model = build_model(History(tuple(event_from_json(obj) for obj in lines)), {}, None)
    (create,) = model.creates
    assert (create.collection, create.outcome) == ("?", Outcome.OK)
    (window,) = model.windows  # the target, for Qdrant's default 1 s: the text is not parsed
    assert (window.peer_id, window.end_ns - window.start_ns) == (7, s(1))


def test_snapshot_without_collection_is_ignored() -> None:
    """A malformed collection_cluster observation does not produce rows or bands."""
    rec = Recorder(ManualClock())
    rec.observe(OBS_COLLECTION_CLUSTER, node=1, peer_id=7, data={"visible": True})
    from lagrace.report.model import build_model

    model = build_model(rec.history(), {}, None)
    assert model.rows == ()
    assert model.bands == ()
