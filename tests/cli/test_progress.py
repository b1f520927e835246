"""Tests of the live progress display: the pure line and the plain fallback's pacing."""

from __future__ import annotations

import io
import sys

import pytest

from lagrace.cli.progress import PlainDisplay, QuietDisplay, format_progress, make_progress_display
from lagrace.race.context import Progress


def _p(elapsed: float, failed: int = 0) -> Progress:
    return Progress("race", elapsed, 100.0 - elapsed, 50, 50 - failed, failed, "10 events")


def test_format_progress_names_phase_time_and_counts() -> None:
    """One line: phase, elapsed and remaining time, upserts sent/ok/failed, events."""
    line = format_progress(_p(12.34, failed=3))
    assert line.startswith("race")
    assert "12.3 s" in line
    assert "87.7 s left" in line
    assert "upserts 50 ok 47 failed 3" in line
    assert line.endswith("10 events")


def test_plain_display_prints_every_few_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a terminal, progress is a plain line every five seconds of run time."""
    with PlainDisplay() as display:
        for tenth in range(120):
            display.update(_p(tenth / 10))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3  # at 0 s, 5 s and 10 s
    assert "10.0 s" in lines[-1]


def test_quiet_and_non_tty_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    """--quiet shows nothing; a non-terminal stderr gets the plain display."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert isinstance(make_progress_display(quiet=True), QuietDisplay)
    assert isinstance(make_progress_display(quiet=False), PlainDisplay)
    with QuietDisplay() as quiet:
        quiet.update(_p(1.0))
    assert stderr.getvalue() == ""
