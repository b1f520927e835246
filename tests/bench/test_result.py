"""bench.json from a literal history; compare prints ratios; stored results are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lagrace.bench.config import BenchConfig
from lagrace.bench.histogram import LatencyHistogram
from lagrace.bench.result import (
    FORMAT,
    analyse,
    compare_results,
    format_compare,
    format_result,
    load_result,
    result_json,
)
from lagrace.bench.stats import DriverFacts
from lagrace.errors import RunDirError
from tests.bench.histories import BenchHistory


def _result(apply_ms: float) -> dict[str, object]:
    h = BenchHistory()
    for node in (1, 2):
        h.progress(0, node, 10, 0, None)
    h.measure(50)
    sent = h.send_noop(60)
    h.applied_lines(2, 11, 100, 100 + apply_ms)
    h.applied_lines(1, 11, 100, 100 + apply_ms)
    h.progress(101, 1, 11, 1, 90)
    h.progress(111, 2, 11, 1, 100)
    h.answer(sent, 101 + apply_ms, floor=10, applied_after=11)
    h.progress(102 + apply_ms, 1, 11, 0, 95 + apply_ms)
    h.progress(102 + apply_ms, 2, 11, 0, 95 + apply_ms)
    cfg = BenchConfig()
    analysis = analyse(h.history(), cfg, [1, 2])
    facts = DriverFacts(LatencyHistogram.of([100_000]).summary(None), None, 0.01, {}, None, 50.0)
    return result_json(analysis, cfg, meta={"run_id": "abc"}, driver=facts, origin_ns=0)


def test_result_json_has_every_metric_with_its_resolution() -> None:
    """Per kind and metric: resolution, overall and per-peer summaries, encoded histograms."""
    result = _result(50.0)
    assert result["format"] == FORMAT
    noop = result["results"]["noop"]  # type: ignore[index]  # JSON-shaped
    assert set(noop) == {"answer", "applied_poll", "applied_log", "apply_poll", "apply_log"}
    assert noop["apply_log"]["peers"]["2"]["p50_ms"] == pytest.approx(50.0, rel=1e-3)
    assert noop["apply_log"]["resolution_ms"] == 0.001
    assert LatencyHistogram.decode(noop["apply_log"]["hdr"]["overall"]).count == 2
    assert result["entries"]["index_exact"] == 1  # type: ignore[index]  # JSON-shaped
    assert "apply_log" in format_result(result)


def test_compare_prints_ratios_b_over_a(tmp_path: Path) -> None:
    """Two stored results, side by side: B/A of every statistic both have."""
    for name, ms in (("a", 50.0), ("b", 100.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bench.json").write_text(json.dumps(_result(ms)))
    rows = compare_results(load_result(tmp_path / "a"), load_result(tmp_path / "b"))
    row = next(r for r in rows if (r.metric, r.scope, r.stat) == ("apply_log", "2", "p50_ms"))
    assert row.ratio == pytest.approx(2.0, rel=2e-3)
    text = format_compare(rows, "A-run", "B-run")
    assert text.splitlines()[:2] == ["A = A-run", "B = B-run"]


def test_load_result_refuses_what_is_not_a_bench(tmp_path: Path) -> None:
    """A missing file, non-JSON or another format: one clear RunDirError."""
    with pytest.raises(RunDirError, match="cannot read"):
        load_result(tmp_path)
    (tmp_path / "bench.json").write_text("{")
    with pytest.raises(RunDirError, match="is not JSON"):
        load_result(tmp_path)
    (tmp_path / "bench.json").write_text('{"format": "other"}')
    with pytest.raises(RunDirError, match="not a lagrace bench result"):
        load_result(tmp_path)
