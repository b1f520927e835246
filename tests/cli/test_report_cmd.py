"""Tests for ``lagrace report``, run in process through lagrace.cli.main."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lagrace.cli import main
from lagrace.exitcodes import ExitCode
from tests.report.fixtures import write_partial_run, write_race_run


def test_report_renders_into_the_run_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``lagrace report RUN_DIR`` writes RUN_DIR/report and says where; exit 0."""
    run = write_race_run(tmp_path / "run")
    assert main(["report", str(run)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f"report: {run / 'report' / 'index.html'}" in out
    assert "ui.perfetto.dev" in out
    assert sorted(p.name for p in (run / "report").iterdir()) == [
        "index.html", "lag.png", "latency.png", "summary.md", "throughput.png", "trace.json",
    ]  # fmt: skip


def test_report_out_and_no_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out and --no-png: no plots, nothing written into the run directory."""
    run = write_race_run(tmp_path / "run")
    out_dir = tmp_path / "elsewhere"
    assert main(["report", str(run), "--out", str(out_dir), "--no-png"]) == ExitCode.OK
    assert not list(out_dir.glob("*.png"))
    assert (out_dir / "index.html").exists()
    assert not (run / "report").exists()
    assert "plot:" not in capsys.readouterr().out


def test_partial_run_prints_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An interrupted run renders (exit 0) and the notes say what was missing."""
    run = write_partial_run(tmp_path / "run")
    assert main(["report", str(run), "--no-png"]) == ExitCode.OK
    assert "note: no findings.json" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["missing", "not_a_run", "corrupt"])
def test_bad_run_dir_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """A missing, non-run or corrupt directory prints one error line and exits 3."""
    target = tmp_path / "run"
    if kind == "not_a_run":
        target.mkdir()
    elif kind == "corrupt":
        write_race_run(target)
        history = target / "history.jsonl"
        history.write_text("{oops\n" + history.read_text())
    assert main(["report", str(target)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("lagrace: error: ")


def test_run_dir_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    """Without RUN_DIR it is a usage error (exit 3)."""
    assert main(["report"]) == ExitCode.ERROR
    assert "RUN_DIR" in capsys.readouterr().err


def test_copy_of_a_run_renders_offline(tmp_path: Path) -> None:
    """The run directory alone is enough: a moved copy renders the same page."""
    run = write_race_run(tmp_path / "run")
    moved = shutil.move(str(run), str(tmp_path / "moved"))
    assert main(["report", moved, "--no-png"]) == ExitCode.OK
    assert "existing_collection" in (Path(moved) / "report" / "index.html").read_text()
