"""Detector (c): writes to the existing collection, by outcome."""

from __future__ import annotations

from lagrace.analysis.writes import failed_at_ns, first_failure_per_worker, summarise_writes
from lagrace.api import calls
from lagrace.events import event_from_json, event_to_json
from lagrace.history import History
from lagrace.testing.histories import HistoryBuilder, ms, upsert


def test_summary_counts_outcomes_and_lists_failures() -> None:
    """ok/fail/info are counted; never-completed writes are info; other collections are ignored."""
    b = HistoryBuilder({1: 101, 2: 102})
    req = upsert("existing", 8, wait=True)
    b.operation(0, 5, req, worker="hammer-0")
    b.operation(10, 15, req, worker="hammer-0", outcome="fail", status=400, error="bad")
    b.operation(20, 30, req, worker="hammer-1", node=2, outcome="info", status=500)
    b.operation(40, None, req, worker="hammer-1", node=2)
    b.operation(50, 55, upsert("new_1", 8), worker="hammer-1", outcome="fail")
    b.operation(60, 65, calls.count_points("existing"), outcome="fail")
    s = summarise_writes(b.build(), ["existing"])
    assert (s.total, s.ok, s.fail, s.info) == (4, 1, 1, 2)
    assert [(f.worker, f.outcome, f.status, f.error) for f in s.failures] == [
        ("hammer-0", "fail", 400, "bad"),
        ("hammer-1", "info", 500, None),
        ("hammer-1", "info", None, "never completed"),
    ]
    never = s.failures[-1]
    assert never.completed_ns is None
    assert failed_at_ns(never) == ms(40)
    assert [f.op_id for f in first_failure_per_worker(s)] == [
        s.failures[0].op_id,
        s.failures[1].op_id,
    ]


def test_upserts_of_an_older_history_count_only_with_one_existing_collection() -> None:
    """An upsert without typed fields is attributed only when it cannot be anything else."""
    b = HistoryBuilder()
    b.operation(0, 1, upsert("other", 8))
    typed = b.build()
    untyped = [event_to_json(e) for e in typed]
    del untyped[0]["args"]  # as written before invokes had typed fields
    old = History(tuple(event_from_json(obj) for obj in untyped))
    assert summarise_writes(old, ["existing"]).total == 1
    assert summarise_writes(old, ["a", "b"]).total == 0
    assert summarise_writes(typed, ["existing"]).total == 0  # typed: it names "other"


def test_no_writes_is_an_empty_summary() -> None:
    """A history without upserts gives zero counts."""
    s = summarise_writes(HistoryBuilder().build(), ["existing"])
    assert (s.total, s.ok, s.fail, s.info, s.failures) == (0, 0, 0, 0, ())
