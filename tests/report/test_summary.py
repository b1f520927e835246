"""Tests for lagrace.report.summary: the report's summary.md."""

from __future__ import annotations

from pathlib import Path

from lagrace.render.markdown import format_summary_markdown
from lagrace.report import summary
from lagrace.report.rundir import load_model
from lagrace.report.summary import format_minimal_summary, summary_markdown


def test_minimal_summary_of_the_race(race_dir: Path) -> None:
    """Verdict, reasons, signature counts, disruptions and writes."""
    text = format_minimal_summary(load_model(race_dir))
    assert text.startswith("# lagrace consensus-lag run a1b2c3: reproduced\n")
    assert "| dead_expected_active | 2 |" in text
    assert text.count("| existing_collection | 1 | 2002 |") == 3
    assert "slow-down of node 2: 5.030 s to 10.030 s (log)" in text
    assert "writes: 140 total, 132 ok, 6 fail, 2 unknown" in text


def test_minimal_summary_without_findings(partial_dir: Path) -> None:
    """A partial run: no verdict, the notes, and a pointer to the timeline."""
    text = format_minimal_summary(load_model(partial_dir))
    assert ": no findings" in text.splitlines()[0]
    assert "## Notes" in text
    assert "No findings.json" in text


def test_a_run_with_findings_gets_its_own_summary(race_dir: Path) -> None:
    """With findings, summary.md is what ``lagrace run`` writes (render.markdown), given the
    run's config."""
    model = load_model(race_dir)
    assert model.findings is not None
    config = {"run_id": "a1b2c3", "scenario": "consensus-lag"}
    text, source = summary_markdown(model, config)
    assert source == summary.RENDERER_MODULE == "lagrace.render.markdown"
    assert text == format_summary_markdown(model.findings, config)


def test_fallback_without_findings(partial_dir: Path) -> None:
    """Without findings (a run cut short) the minimal summary is written."""
    text, source = summary_markdown(load_model(partial_dir), {})
    assert source == summary.__name__
    assert "No findings.json" in text
