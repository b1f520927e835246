"""Tests for lagrace.report.summary: the report's summary.md."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_renderer_is_used_when_present(race_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """format_summary_markdown(findings, config) of lagrace.render.markdown wins when it exists."""
    calls: list[tuple[object, object]] = []

    def fake(findings: object, config: object) -> str:
        calls.append((findings, config))
        return "from the renderer\n"

    monkeypatch.setattr(summary, "_renderer", lambda: fake)
    text, source = summary_markdown(load_model(race_dir), {"run_id": "a1b2c3"})
    assert (text, source) == ("from the renderer\n", summary.RENDERER_MODULE)
    assert calls
    assert calls[0][1] == {"run_id": "a1b2c3"}


def test_fallback_without_findings_even_with_a_renderer(
    partial_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderer needs findings; without them the minimal summary is written."""
    monkeypatch.setattr(summary, "_renderer", lambda: lambda f, c: "unused")
    text, source = summary_markdown(load_model(partial_dir), {})
    assert source == summary.__name__
    assert "No findings.json" in text
