"""Tests for lagrace.report.rundir: reading a run directory, writing the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lagrace.errors import HistoryError, RunDirError
from lagrace.report import render_report
from lagrace.report.rundir import load_model


def test_renders_every_output_into_report(race_dir: Path, tmp_path: Path) -> None:
    """By default the report goes to RUN_DIR/report with html, trace, summary and PNGs."""
    run = shutil.copytree(race_dir, tmp_path / "run")
    files = render_report(run)
    assert files.out_dir == run / "report"
    names = sorted(p.name for p in files.out_dir.iterdir())
    assert names == [
        "index.html", "lag.png", "latency.png", "summary.md", "throughput.png", "trace.json",
    ]  # fmt: skip
    assert json.loads(files.trace.read_text())["traceEvents"]
    assert files.notes == ()


def test_out_dir_and_no_png(race_dir: Path, tmp_path: Path) -> None:
    """--out writes elsewhere (creating it); png=False skips the plots."""
    files = render_report(race_dir, tmp_path / "a" / "b", png=False)
    assert files.pngs == ()
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == [
        "index.html",
        "summary.md",
        "trace.json",
    ]
    assert not (race_dir / "report").exists()


def test_partial_run_renders_and_says_so(partial_dir: Path, tmp_path: Path) -> None:
    """No findings.json and a torn tail: everything is still written, the notes say why."""
    files = render_report(partial_dir, tmp_path / "out")
    assert files.html.exists()
    assert len(files.pngs) == 3
    assert any("no findings.json" in n for n in files.notes)
    assert "no findings.json" in files.summary.read_text()


def test_missing_run_dir(tmp_path: Path) -> None:
    """A path that does not exist is a RunDirError."""
    with pytest.raises(RunDirError, match="not a directory"):
        render_report(tmp_path / "nope")


def test_directory_without_history(tmp_path: Path) -> None:
    """A directory without history.jsonl is not a run directory."""
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(RunDirError, match=r"no history\.jsonl"):
        render_report(tmp_path)


def test_corrupt_history_is_an_error(race_dir: Path, tmp_path: Path) -> None:
    """Corruption before the last line is not a torn tail: HistoryError names the line."""
    run = shutil.copytree(race_dir, tmp_path / "run")
    lines = (run / "history.jsonl").read_text().splitlines(keepends=True)
    lines[3] = "{broken\n"
    (run / "history.jsonl").write_text("".join(lines))
    with pytest.raises(HistoryError, match=":4: corrupt"):
        render_report(run)


@pytest.mark.parametrize(
    ("name", "content", "note"),
    [
        ("config.json", "[1, 2]", "config.json is not a JSON object"),
        ("config.json", "{nope", "config.json is unreadable"),
        ("findings.json", '{"reasons": []}', "findings.json does not have the findings shape"),
        ("findings.json", '{"verdict": "maybe"}', "findings.json does not have the findings shape"),
    ],
)
def test_bad_side_files_become_notes(
    race_dir: Path, tmp_path: Path, name: str, content: str, note: str
) -> None:
    """An unreadable config.json or findings.json is noted and the report renders without it."""
    run = shutil.copytree(race_dir, tmp_path / "run")
    (run / name).write_text(content)
    model = load_model(run)
    assert any(n.startswith(note) for n in model.notes)
    assert render_report(run, png=False).html.exists()


def test_unwritable_output_is_a_run_dir_error(race_dir: Path, tmp_path: Path) -> None:
    """An output path that cannot be created raises RunDirError, not OSError."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunDirError, match="cannot create"):
        render_report(race_dir, blocker / "out", png=False)


def test_summary_comes_from_the_renderer_when_it_exists(race_dir: Path, tmp_path: Path) -> None:
    """A run with findings: summary.md is render.markdown's format_summary_markdown."""
    files = render_report(race_dir, tmp_path / "out", png=False)
    assert files.summary_source == "lagrace.render.markdown"
    assert "existing_collection" in files.summary.read_text()
