"""Tests of Qdrant's log line format: parse what Qdrant writes, write what Qdrant would."""

from __future__ import annotations

from lagrace.logline import format_log_line, parse_log_line

WARN = (
    "2023-09-30T10:31:01.445755Z  WARN storage::content_manager::consensus_manager: "
    "Failed to apply collection meta operation entry with user error: Wrong input: "
    "Replica 7 of shard 2 has state Some(Dead), but expected Some(Active)"
)


def test_parse_warn_line() -> None:
    """The seed's WARN parses into level, target and message."""
    line = parse_log_line(WARN + "\n")
    assert line is not None
    assert line.level == "WARN"
    assert line.target == "storage::content_manager::consensus_manager"
    assert line.message.endswith("expected Some(Active)")


def test_parse_skips_banner_and_strips_colour() -> None:
    """Banner lines are not log lines; ANSI colour codes are ignored."""
    assert parse_log_line("  _                 _    ") is None
    assert parse_log_line("Access web UI at http://localhost:6333/dashboard") is None
    coloured = "\x1b[2m2024-01-01T00:00:00.000001Z\x1b[0m \x1b[32m INFO\x1b[0m qdrant: hello"
    line = parse_log_line(coloured)
    assert line is not None
    assert (line.level, line.target, line.message) == ("INFO", "qdrant", "hello")


def test_format_matches_qdrant_alignment_and_roundtrips() -> None:
    """Levels are right-aligned to five characters and the line parses back."""
    text = format_log_line(1_696_069_861_445_755_000, "WARN", "qdrant::consensus", "x: y")
    assert text == "2023-09-30T10:31:01.445755Z  WARN qdrant::consensus: x: y"
    parsed = parse_log_line(text)
    assert parsed is not None
    assert parsed.message == "x: y"
    assert format_log_line(0, "DEBUG", "a", "b").startswith(
        "1970-01-01T00:00:00.000000Z DEBUG a: b"
    )
