"""Qdrant's text log line format (notes §6.5), parsed and produced.

``2023-09-30T10:31:01.445755Z  WARN storage::content_manager::consensus_manager: Failed ...``:
an RFC 3339 UTC timestamp with microseconds, the level right-aligned to five characters, the
target (a Rust module path), ``": "`` and the message. Lines that do not match (the startup
banner, ANSI-coloured lines, JSON lines) are not log lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from lagrace.timebase import format_rfc3339, parse_rfc3339

Level = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
LEVELS: Final[tuple[Level, ...]] = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\s+"
    r"(?P<level>TRACE|DEBUG|INFO|WARN|ERROR)\s+"
    r"(?:(?P<spans>(?:[\w\-]+(?:\{[^}]*\})?:)+)\s)?"
    r"(?P<target>[\w:]+): (?P<message>.*)$"
)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One parsed server log line."""

    unix_ns: int
    level: Level
    target: str
    message: str


def parse_log_line(raw: str) -> LogLine | None:
    """Parse one line of Qdrant's text log; ``None`` if it is not a log line."""
    line = _ANSI.sub("", raw.rstrip("\r\n"))
    m = _LINE.match(line)
    if m is None:
        return None
    try:
        unix_ns = parse_rfc3339(m.group("ts"))
    except ValueError:
        return None
    level = m.group("level")
    assert level in LEVELS
    return LogLine(
        unix_ns=unix_ns, level=level, target=m.group("target"), message=m.group("message")
    )


def format_log_line(unix_ns: int, level: Level, target: str, message: str) -> str:
    """Render a line exactly as Qdrant's default ``tracing_subscriber::fmt`` does (no newline)."""
    return f"{format_rfc3339(unix_ns, digits=6)} {level:>5} {target}: {message}"
