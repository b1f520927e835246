"""Peer log files: Qdrant's line format and the EnvFilter-like level filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from lagrace.clock import ManualClock
from lagrace.logline import parse_log_line
from lagrace.sim.logfile import PeerLog, parse_level_filter


def test_filter_parsing_default_and_targets() -> None:
    """``INFO,target=debug`` gives a default and a per-target rank."""
    default, targets = parse_level_filter("INFO,storage::content_manager::staging=debug")
    assert default == 2
    assert targets == {"storage::content_manager::staging": 1}
    with pytest.raises(ValueError, match="unknown log level"):
        parse_level_filter("LOUD")


def test_lines_parse_and_filter_applies(tmp_path: Path) -> None:
    """Written lines parse back; a raised level drops debug lines except for its target."""
    log = PeerLog(tmp_path / "p.log", ManualClock())
    log.write("DEBUG", "storage::content_manager::consensus_manager", "Applying committed entry")
    log.set_filter("INFO,storage::content_manager::staging=debug")
    log.write("DEBUG", "storage::content_manager::consensus_manager", "dropped")
    log.write("DEBUG", "storage::content_manager::staging", "TestSlowDown: kept")
    log.write("WARN", "qdrant::consensus", "kept too")
    log.close()
    parsed = [parse_log_line(line) for line in (tmp_path / "p.log").read_text().splitlines()]
    assert [p.message for p in parsed if p] == [
        "Applying committed entry",
        "TestSlowDown: kept",
        "kept too",
    ]
