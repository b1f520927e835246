"""Tests of the log tailer: partial lines, truncation, placement on the run axis."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lagrace.clock import ManualClock
from lagrace.logline import format_log_line
from lagrace.race.tailer import LogTail, start_offset, tail_log
from lagrace.recorder import Recorder
from lagrace.timebase import NS_PER_S


def test_partial_lines_wait_for_their_newline(tmp_path: Path) -> None:
    """A line is only returned once it is complete."""
    log = tmp_path / "p.log"
    log.write_text("one\ntw")
    tail = LogTail(log, node=1, peer_id=None)
    assert tail.read_new_lines() == ["one"]
    with log.open("a") as fh:
        fh.write("o\nthree\n")
    assert tail.read_new_lines() == ["two", "three"]


def test_truncation_starts_over_and_absence_is_quiet(tmp_path: Path) -> None:
    """A truncated file is read again from the start; a missing one yields nothing."""
    log = tmp_path / "p.log"
    tail = LogTail(log, node=1, peer_id=None)
    assert tail.read_new_lines() == []
    log.write_text("a long first line\n")
    assert tail.read_new_lines() == ["a long first line"]
    log.write_text("b\n")
    assert tail.read_new_lines() == ["b"]


def test_start_offset_skips_old_lines(tmp_path: Path) -> None:
    """A real cluster's log is read from the run's start, not from its beginning."""
    log = tmp_path / "p.log"
    log.write_text("old\n")
    assert start_offset(log, from_beginning=False) == 4
    assert start_offset(log, from_beginning=True) == 0
    assert start_offset(tmp_path / "none.log", from_beginning=False) == 0


async def test_tail_records_parsed_lines_on_the_run_axis(tmp_path: Path) -> None:
    """Qdrant-format lines become log observations at their server time; all are kept raw."""
    clock = ManualClock(anchor_unix_ns=100 * NS_PER_S)
    recorder = Recorder(clock)
    log, raw = tmp_path / "p.log", tmp_path / "raw.log"
    line = format_log_line(102 * NS_PER_S, "WARN", "qdrant::consensus", "boom")
    log.write_text(f"banner\n{line}\n")
    stop = asyncio.Event()
    task = asyncio.create_task(tail_log(LogTail(log, 2, 22), recorder, raw, stop, poll_s=0.01))
    await asyncio.sleep(0.05)
    stop.set()
    await task
    (obs,) = recorder.history().observations("log")
    assert obs.node == 2
    assert obs.data["at_ns"] == 2 * NS_PER_S
    assert obs.data["message"] == "boom"
    assert obs.data["lineno"] == 2
    assert raw.read_text().splitlines() == ["banner", line]
