"""Tests of the aggregated drawing of busy lanes in large runs (report size bound)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from lagrace.events import Outcome
from lagrace.report.model import (
    BUSY_LANE_OPS,
    DENSE_RUN_OPS,
    KEPT_FAILURES,
    LANE_BINS,
    OpPoint,
    ReportModel,
    drawn_ops,
    split_dense,
)
from lagrace.report.rundir import load_model
from lagrace.report.timeline_html import format_report_html
from lagrace.report.trace import format_trace

MS = 1_000_000


def _ops(worker: str, count: int, every: int = 0) -> list[OpPoint]:
    """``count`` upserts of ``worker`` 10 ms apart; every ``every``-th one failed."""
    return [
        OpPoint(
            op_id=i,
            worker=worker,
            op="upsert",
            node=1,
            invoked_ns=i * 10 * MS,
            completed_ns=i * 10 * MS + (i % 7 + 1) * MS,
            outcome=Outcome.FAIL if every and i % every == 0 else Outcome.OK,
        )
        for i in range(count)
    ]


def test_small_runs_and_quiet_lanes_are_drawn_whole() -> None:
    """Up to DENSE_RUN_OPS operations, or in a lane of few, every operation is kept."""
    ops = _ops("hammer-0", 500)
    assert split_dense(ops, 0, 5_000 * MS, run_ops=DENSE_RUN_OPS) == (ops, [])
    few = _ops("burst-0", BUSY_LANE_OPS)
    assert split_dense(few, 0, 5_000 * MS, run_ops=10 * DENSE_RUN_OPS) == (few, [])


def test_busy_lane_keeps_its_first_failures_and_bins_the_rest() -> None:
    """The first KEPT_FAILURES non-ok operations stay; the rest is counted into bins."""
    ops = _ops("hammer-0", 5_000, every=50)
    kept, bins = split_dense(ops, 0, 50_000 * MS, run_ops=5_000)
    failed = [p for p in ops if p.outcome is not Outcome.OK]
    assert kept == failed[:KEPT_FAILURES]
    assert sum(b.count for b in bins) == 5_000 - len(kept)
    ok = [b for b in bins if b.outcome is Outcome.OK]
    assert len(ok) <= LANE_BINS
    assert sum(b.count for b in bins if b.outcome is Outcome.FAIL) == len(failed) - KEPT_FAILURES
    assert all(b.min_ns is not None and b.min_ns <= (b.p50_ns or 0) <= (b.max_ns or 0) for b in ok)
    assert min(b.min_ns or 0 for b in ok) == 1 * MS
    assert max(b.max_ns or 0 for b in ok) == 7 * MS


def test_binned_failures_keep_their_commonest_errors() -> None:
    """A bin of failures counts its error texts, commonest first (at most three)."""
    ops = [
        replace(p, outcome=Outcome.FAIL, error=f"e{i % 4 if i % 2 else 0}")
        for i, p in enumerate(_ops("hammer-0", 2_000))
    ]
    _, bins = split_dense(ops, 0, 20_000 * MS, run_ops=2_000, bins=1)
    (one,) = bins
    assert one.count == 2_000 - KEPT_FAILURES
    assert one.errors[0][0] == "e0"
    assert len(one.errors) == 3


@pytest.fixture(scope="module")
def big(race_dir: Path) -> ReportModel:
    """The reproduced race with a busy hammer lane added (a large run)."""
    race = load_model(race_dir)
    extra = _ops("hammer-0", 3 * DENSE_RUN_OPS, every=100)
    extra = [replace(p, op_id=p.op_id + 10_000) for p in extra]
    return replace(race, ops=race.ops + tuple(extra))


def test_large_run_html_draws_bins_and_keeps_failures(big: ReportModel) -> None:
    """The page has bins for the busy lane, every failed upsert as a point, and a small JSON."""
    html = format_report_html(big)
    assert html.count('class="bin ok"') > 0
    failed = sum(1 for p in big.ops if p.op == "upsert" and p.outcome is Outcome.FAIL)
    assert failed <= KEPT_FAILURES + 2  # the race's own failures plus the busy lane's
    assert html.count('class="point fail"') == failed
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    kept, bins = drawn_ops(big)
    assert len(data["ops"]) == len(kept) < len(big.ops)
    shown = [b for b in bins if not b.worker.startswith("watch-") or b.outcome is not Outcome.OK]
    assert len(data["op_bins"]) == len(shown)


def test_large_run_trace_has_counters_for_the_busy_lane(big: ReportModel) -> None:
    """The busy lane's ok upserts become rate and latency counters; failures stay slices."""
    events = format_trace(big)["traceEvents"]
    counters = [e for e in events if e.get("cat") == "op.ok.rate"]
    assert counters
    assert all(e["ph"] == "C" for e in counters)
    hammer_ok = [e for e in events if e.get("cat") == "op.ok" and e["args"]["op_id"] >= 10_000]
    assert not hammer_ok
