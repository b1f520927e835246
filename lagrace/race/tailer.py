"""Tailing a peer's log file: every new line kept raw, every Qdrant-format line recorded.

The tailer polls the file (log files of a local cluster are on local disk; polling every
50 ms keeps the driver portable and the order of lines exact). Each parsed line becomes an
``observe`` event of kind ``log`` whose ``at_ns`` is the server's own timestamp placed on the
run axis through the clock's wall anchor.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from lagrace.clock import wait_event
from lagrace.events import OBS_LOG
from lagrace.logline import parse_log_line
from lagrace.recorder import Recorder

POLL_S: Final = 0.05
READ_CHUNK: Final = 1 << 20


@dataclass(slots=True)
class LogTail:
    """The read position in one log file; ``offset`` where the run starts reading."""

    path: Path
    node: int
    peer_id: int | None
    offset: int = 0
    lineno: int = 0
    lines_read: int = 0
    _partial: bytes = field(default=b"", repr=False)

    def read_new_lines(self) -> list[str]:
        """Complete lines appended since the last call (handles truncation and absence)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.offset:  # truncated or replaced: start over
            self.offset, self._partial = 0, b""
        if size == self.offset:
            return []
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read(READ_CHUNK)
        self.offset += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        lines = [raw.decode("utf-8", errors="replace") for raw in complete]
        self.lines_read += len(lines)
        return lines


def start_offset(path: Path, from_beginning: bool) -> int:
    """Where to start reading: the end of an existing file, unless told to read it all."""
    if from_beginning:
        return 0
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def record_lines(tail: LogTail, lines: list[str], recorder: Recorder, raw: IO[str] | None) -> None:
    """Keep every raw line (when ``raw`` is given) and record each Qdrant-format line on the run
    axis."""
    anchor = recorder.clock.anchor
    for text in lines:
        tail.lineno += 1
        if raw is not None:
            raw.write(text + "\n")
        parsed = parse_log_line(text)
        if parsed is None:
            continue
        recorder.observe(
            OBS_LOG,
            node=tail.node,
            peer_id=tail.peer_id,
            data={
                "at_ns": anchor.to_run_ns(parsed.unix_ns),
                "level": parsed.level,
                "target": parsed.target,
                "message": parsed.message,
                "lineno": tail.lineno,
            },
        )
    if raw is not None:
        raw.flush()


async def tail_log(
    tail: LogTail,
    recorder: Recorder,
    raw_out: Path | None,
    stop: asyncio.Event,
    poll_s: float = POLL_S,
) -> None:
    """Follow ``tail.path`` every ``poll_s`` of the run clock until ``stop`` is set, then read
    what is left once more; raw lines are appended to ``raw_out`` (if given)."""
    opened = (
        contextlib.nullcontext(None) if raw_out is None else raw_out.open("a", encoding="utf-8")
    )
    with opened as raw:
        while not stop.is_set():
            record_lines(tail, tail.read_new_lines(), recorder, raw)
            await wait_event(recorder.clock, stop, poll_s)
        record_lines(tail, tail.read_new_lines(), recorder, raw)
