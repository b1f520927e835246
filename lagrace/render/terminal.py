"""The verdict and the lined-up timeline as plain text for the terminal (pure; the CLI prints).

:func:`format_timeline` lines up one entry per line in fixed-width columns::

    +12.345 s  node 2 (peer 7401…)  WARN     Cannot deactivate the last active replica 7401 ...

:func:`styled_timeline` is the same text with ``rich`` styles for a TTY.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from rich.text import Text

from lagrace.analysis import logtexts
from lagrace.analysis.findings import Findings, TimelineEntry
from lagrace.analysis.timeline import format_offset

LABELS: Final[dict[str, str]] = {
    "slow_down": "SLOW",
    "create": "CREATE",
    "delete": "DELETE",
    "visible": "VISIBLE",
    "state": "STATE",
    "signature": "WARN",
    "warn": "WARN",
    "error": "ERROR",
    "disruption": "DISRUPT",
    "write_fail": "WRITE",
    "outage": "DOWN",
    "stall": "STALL",
    "freeze": "FREEZE",
    "coordinator": "COORD",
    "panic": "PANIC",
    "write_500": "WRITE500",
    "silent": "SILENT",
    "phase": "PHASE",
    "mark": "MARK",
    "more": "...",
}
STYLES: Final[dict[str, str]] = {
    "signature": "bold red",
    "disruption": "bold red",
    "error": "red",
    "warn": "yellow",
    "write_fail": "yellow",
    "outage": "bold yellow",
    "stall": "bold magenta",
    "freeze": "bold magenta",
    "coordinator": "yellow",
    "panic": "bold red",
    "write_500": "yellow",
    "silent": "bold yellow",
    "slow_down": "cyan",
    "create": "green",
    "delete": "green",
    "visible": "green",
    "phase": "bold",
    "mark": "bold",
    "state": "magenta",
    "more": "dim",
}
_WHO_WIDTH: Final = 20
_LABEL_WIDTH: Final = 7


def short_peer(peer: int) -> str:
    """A peer id shortened for a column: up to 6 digits as is, else the first 4 and ``…``."""
    text = str(peer)
    return text if len(text) <= 6 else f"{text[:4]}…"


def who(node: int | None, peer: int | None, node_peers: Mapping[int, int]) -> str:
    """``node 2 (peer 7401…)``, ``node 2``, ``peer 7401…`` or ``-`` for cluster-wide entries."""
    if peer is None and node is not None:
        peer = node_peers.get(node)
    if node is not None and peer is not None:
        return f"node {node} (peer {short_peer(peer)})"
    if node is not None:
        return f"node {node}"
    if peer is not None:
        return f"peer {short_peer(peer)}"
    return "-"


def display_text(entry: TimelineEntry) -> str:
    """The entry's text without the long user-error prefix of WARN lines."""
    text = entry.text
    if text.startswith(logtexts.USER_ERROR_PREFIX):
        text = text.removeprefix(logtexts.USER_ERROR_PREFIX).removeprefix("Wrong input: ")
    return text


def format_timeline_line(
    entry: TimelineEntry, node_peers: Mapping[int, int] | None = None, origin_ns: int = 0
) -> str:
    """One fixed-width timeline line (``node_peers`` fills peers the entry lacks)."""
    offset = format_offset(entry.at_ns - origin_ns)
    label = LABELS.get(entry.kind, entry.kind.upper())
    column = who(entry.node, entry.peer_id, node_peers or {})
    return f"{offset:>11}  {column:<{_WHO_WIDTH}}  {label:<{_LABEL_WIDTH}}  {display_text(entry)}"


def format_timeline(
    findings: Findings, node_peers: Mapping[int, int] | None = None, origin_ns: int = 0
) -> str:
    """The whole timeline, one line per entry (offsets from ``origin_ns``, the run origin),
    under a header line naming the cluster raced when the run knows it."""
    header = f"cluster: {findings.cluster}\n" if findings.cluster else ""
    if not findings.timeline:
        return header + "(empty timeline)\n"
    return header + "".join(
        format_timeline_line(e, node_peers, origin_ns) + "\n" for e in findings.timeline
    )


def styled_timeline(
    findings: Findings, node_peers: Mapping[int, int] | None = None, origin_ns: int = 0
) -> Text:
    """:func:`format_timeline` with a style per entry kind, for ``rich`` on a TTY."""
    out = Text()
    for entry in findings.timeline:
        line = format_timeline_line(entry, node_peers, origin_ns)
        out.append(line + "\n", style=STYLES.get(entry.kind, ""))
    return out


def _counts(findings: Findings) -> list[str]:
    lines = []
    by_sig: dict[str, set[int | None]] = {}
    for hit in findings.signatures:
        by_sig.setdefault(hit.signature, set()).add(hit.node)
    for name, nodes in by_sig.items():
        n = sum(h.signature == name for h in findings.signatures)
        shown = ", ".join(str(x) for x in sorted(x for x in nodes if x is not None))
        lines.append(f"signature    {name}: {n}x on node {shown or '?'}")
    if not by_sig:
        lines.append("signatures   none")
    if findings.disruptions:
        first = findings.first_disruption_ns
        at = format_offset(first) if first is not None else "?"
        lines.append(f"disruptions  {len(findings.disruptions)} (first at {at})")
    else:
        lines.append("disruptions  none")
    w = findings.writes
    lines.append(f"writes       {w.total} total: {w.ok} ok, {w.fail} fail, {w.info} unknown")
    stalled = [p for p in findings.lag if p.stalled]
    where = ", ".join(f"node {p.node}" for p in stalled)
    lag_text = f"took hold ({where})" if findings.lag_took_hold else "never took hold"
    lines.append(f"lag          {lag_text}")
    lines.append(f"converged    {'yes' if findings.converged else 'no'}")
    return lines


def format_verdict(findings: Findings) -> str:
    """The verdict, its exit code, the reasons and one line per detector."""
    v = findings.verdict
    lines = [f"verdict: {v.label} (exit {int(v.exit_code)})"]
    lines += [f"  - {reason}" for reason in findings.reasons]
    lines += [f"  {line}" for line in _counts(findings)]
    return "\n".join(lines) + "\n"
