"""A peer's log file in Qdrant's text format (notes §6.5), line-buffered for live tailers.

The level filter takes Qdrant's ``log_level`` (``EnvFilter`` syntax, e.g.
``INFO,storage::content_manager::staging=debug``): a default level and per-target-prefix
overrides, the longest matching prefix winning. The default is ``DEBUG``: the driver reads the
apply and TestSlowDown debug lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from lagrace.clock import Clock
from lagrace.logline import LEVELS, Level, format_log_line

DEFAULT_FILTER = "DEBUG"


def parse_level_filter(spec: str) -> tuple[int, dict[str, int]]:
    """Parse ``LEVEL,target=level,...`` into a default rank and per-target ranks.

    Raises ``ValueError`` for an unknown level name.
    """
    default = LEVELS.index("INFO")
    targets: dict[str, int] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        target, sep, level = part.rpartition("=")
        rank = _rank(level)
        if sep:
            targets[target] = rank
        else:
            default = rank
    return default, targets


def _rank(name: str) -> int:
    upper = name.strip().upper()
    if upper == "WARNING":
        upper = "WARN"
    if upper == "OFF":
        return len(LEVELS)
    if upper not in LEVELS:
        raise ValueError(f"unknown log level {name!r}")
    return LEVELS.index(upper)


class PeerLog:
    """Writes one peer's log lines; the file is opened once and closed by :meth:`close`."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self._clock = clock
        self._file: TextIO = path.open("a", encoding="utf-8", buffering=1)
        self._default, self._targets = parse_level_filter(DEFAULT_FILTER)
        self.filter_spec = DEFAULT_FILTER

    def set_filter(self, spec: str) -> None:
        """Change the level filter (``POST /logger``); ``ValueError`` if it does not parse."""
        self._default, self._targets = parse_level_filter(spec)
        self.filter_spec = spec

    def enabled(self, level: Level, target: str) -> bool:
        """Would a line at ``level`` for ``target`` be written?"""
        best = ""
        rank = self._default
        for prefix, prefix_rank in self._targets.items():
            if target.startswith(prefix) and len(prefix) > len(best):
                best, rank = prefix, prefix_rank
        return LEVELS.index(level) >= rank

    def write(self, level: Level, target: str, message: str) -> None:
        """Write one line stamped with the clock's wall time, if the filter lets it through."""
        if self._file.closed or not self.enabled(level, target):
            return
        self._file.write(format_log_line(self._clock.wall_ns(), level, target, message) + "\n")

    def close(self) -> None:
        """Close the file (later writes are dropped)."""
        self._file.close()
