"""The terminal rendering of a fixed Findings: verdict block and fixed-width timeline."""

from __future__ import annotations

from lagrace.analysis import logtexts
from lagrace.analysis.findings import (
    Findings,
    PeerLag,
    SignatureHit,
    TimelineEntry,
    Verdict,
    WriteSummary,
)
from lagrace.render.terminal import (
    format_timeline,
    format_timeline_line,
    format_verdict,
    short_peer,
    styled_timeline,
    who,
)

PEER = 7401234567890123
MESSAGE = logtexts.format_last_active_replica(PEER, 0)

FINDINGS = Findings(
    verdict=Verdict.REPRODUCED,
    reasons=(
        "signature last_active_replica logged 2x on node 2, 3",
        "lag took hold on target node 2",
    ),
    signatures=(
        SignatureHit("last_active_replica", 2, PEER, 12_345_000_000, MESSAGE, PEER, 0, "existing"),
        SignatureHit("last_active_replica", 3, 55, 13_000_000_000, MESSAGE, PEER, 0, "existing"),
    ),
    writes=WriteSummary(total=10, ok=8, fail=1, info=1),
    lag=(PeerLag(2, PEER, 40, 5100.0, 3, 1_000_000_000, 6_000_000_000, stalled=True),),
    lag_took_hold=True,
    converged=False,
    timeline=(
        TimelineEntry(0, None, None, "phase", "phase race", 0),
        TimelineEntry(1_000_000_000, 1, None, "slow_down", "slow-down proposed", 1),
        TimelineEntry(12_345_000_000, 2, PEER, "signature", MESSAGE, 9),
        TimelineEntry(13_000_000_000, None, None, "more", "... 3 more entries not shown (state 3)"),
    ),
)


def test_format_verdict_key_lines() -> None:
    """The verdict line with its exit code, every reason, and one line per detector."""
    text = format_verdict(FINDINGS)
    lines = text.splitlines()
    assert lines[0] == "verdict: reproduced (exit 1)"
    assert "  - signature last_active_replica logged 2x on node 2, 3" in lines
    assert "  signature    last_active_replica: 2x on node 2, 3" in lines
    assert "  disruptions  none" in lines
    assert "  writes       10 total: 8 ok, 1 fail, 1 unknown" in lines
    assert "  lag          took hold (node 2)" in lines
    assert "  converged    no" in lines


def test_format_verdict_without_findings() -> None:
    """A run with nothing found says so."""
    text = format_verdict(
        Findings(verdict=Verdict.INCONCLUSIVE, reasons=("the run was interrupted",))
    )
    assert text.startswith("verdict: inconclusive (exit 2)\n  - the run was interrupted\n")
    assert "signatures   none" in text
    assert "lag          never took hold" in text


def test_timeline_lines_are_fixed_width() -> None:
    """Offset, who, label and text sit in fixed columns; the user-error prefix is dropped."""
    lines = format_timeline(FINDINGS, {1: 101}).splitlines()
    assert lines[2] == (
        "  +12.345 s  node 2 (peer 7401…)   WARN     "
        f"Cannot deactivate the last active replica {PEER} of shard 0"
    )
    assert lines[1] == "   +1.000 s  node 1 (peer 101)     SLOW     slow-down proposed"
    assert lines[0].startswith("   +0.000 s  -                     PHASE    phase race")
    assert lines[3].endswith("...      ... 3 more entries not shown (state 3)")
    assert [line[35:42].rstrip() for line in lines] == ["PHASE", "SLOW", "WARN", "..."]
    assert all(line[42:44] == "  " and line[44] != " " for line in lines)


def test_origin_shifts_offsets() -> None:
    """Offsets can be taken from another origin, e.g. the slow-down proposal."""
    line = format_timeline_line(FINDINGS.timeline[0], {}, origin_ns=1_000_000_000)
    assert line.startswith("   -1.000 s")


def test_who_and_short_peer() -> None:
    """Peers are shortened past 6 digits; the node map fills a missing peer."""
    assert short_peer(123456) == "123456"
    assert short_peer(1234567) == "1234…"
    assert who(1, None, {1: 9}) == "node 1 (peer 9)"
    assert who(1, None, {}) == "node 1"
    assert who(None, 7, {}) == "peer 7"
    assert who(None, None, {}) == "-"


def test_empty_timeline_and_styles() -> None:
    """An empty timeline is one line; the styled form carries the same text with styles."""
    assert format_timeline(Findings(Verdict.NOT_REPRODUCED, ()), {}) == "(empty timeline)\n"
    styled = styled_timeline(FINDINGS, {1: 101})
    assert styled.plain == format_timeline(FINDINGS, {1: 101})
    assert any(span.style == "bold red" for span in styled.spans)


def test_node_map_is_optional() -> None:
    """Without a node map, entries show the peer they carry or the node alone."""
    lines = format_timeline(FINDINGS).splitlines()
    assert lines[1].startswith("   +1.000 s  node 1" + " " * 16 + "SLOW")
    assert "node 2 (peer 7401…)" in lines[2]
