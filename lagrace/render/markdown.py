"""``summary.md``: the verdict, the findings and the lined-up timeline, for people (pure).

:func:`format_summary_markdown` takes the :class:`Findings` and ``meta``, the run's
``config.json`` object (docs/run-directory.md); every ``meta`` key is optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from lagrace.analysis.findings import Findings
from lagrace.analysis.timeline import format_offset
from lagrace.render.terminal import format_timeline

MAX_TABLE_ROWS: Final = 50


def cell(value: object) -> str:
    """A Markdown table cell: ``-`` for None, pipes escaped, newlines flattened."""
    if value is None:
        return "-"
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code; backticks inside are replaced (Markdown cannot escape them in code spans)."""
    return "`" + text.replace("`", "'") + "`"


def _offset(t_ns: int | None) -> str:
    return "-" if t_ns is None else format_offset(t_ns)


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], limit: int = MAX_TABLE_ROWS
) -> list[str]:
    rows = list(rows)
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        out.append(f"\n... {len(rows) - limit} more rows not shown (see findings.json)")
    return out


def node_peers_from_meta(meta: Mapping[str, Any]) -> dict[int, int]:
    """node -> peer id from ``meta["nodes"]`` (config.json)."""
    out: dict[int, int] = {}
    for entry in meta.get("nodes") or ():
        if isinstance(entry, Mapping):
            node, peer = entry.get("node"), entry.get("peer_id")
            if isinstance(node, int) and isinstance(peer, int):
                out[node] = peer
    return out


def _header(findings: Findings, meta: Mapping[str, Any]) -> list[str]:
    run_id = meta.get("run_id", "?")
    scenario = meta.get("scenario", "?")
    lines = [f"# lagrace run {run_id} ({scenario})", ""]
    v = findings.verdict
    lines.append(f"**Verdict: {v.label}** (exit code {int(v.exit_code)})")
    lines.append("")
    facts = []
    for key, label in (
        ("seed", "seed"),
        ("status", "status"),
        ("started", "started"),
        ("ended", "ended"),
    ):
        if meta.get(key) is not None:
            facts.append(f"{label} `{meta[key]}`")
    target = meta.get("target")
    if isinstance(target, Mapping):
        facts.append(f"target node {target.get('node', '?')} (peer {target.get('peer_id', '?')})")
    versions = meta.get("versions")
    if isinstance(versions, Mapping) and isinstance(versions.get("qdrant"), Mapping):
        shown = ", ".join(f"node {n}: {ver}" for n, ver in versions["qdrant"].items())
        facts.append(f"qdrant {shown}")
    if facts:
        lines += ["; ".join(facts), ""]
    if findings.cluster:
        lines += [f"Cluster: {findings.cluster}", ""]
    return lines


def format_summary_markdown(findings: Findings, meta: Mapping[str, Any]) -> str:
    """The whole ``summary.md``."""
    lines = _header(findings, meta)
    lines += ["## Reasons", ""] + [f"- {r}" for r in findings.reasons] + [""]

    lines += ["## Signatures", ""]
    if findings.signatures:
        lines += _table(
            ("signature", "node", "peer", "at", "replica", "shard", "collection", "message"),
            (
                (
                    h.signature,
                    h.node,
                    h.peer_id,
                    _offset(h.at_ns),
                    h.replica_peer,
                    h.shard,
                    h.collection,
                    _code(h.message),
                )
                for h in findings.signatures
            ),
        )
    else:
        lines.append("No signature line on any peer.")
    lines.append("")

    lines += ["## Replica disruptions (existing collection)", ""]
    if findings.disruptions:
        lines += _table(
            (
                "collection",
                "shard",
                "replica",
                "observer node",
                "states",
                "first",
                "back Active",
                "for",
            ),
            (
                (
                    d.collection,
                    d.shard,
                    d.replica_peer,
                    d.observer_node,
                    " → ".join(d.states),
                    _offset(d.first_ns),
                    _offset(d.back_active_ns) if d.back_active_ns is not None else "never",
                    "-" if d.duration_ns is None else f"{d.duration_ns / 1e9:.3f} s",
                )
                for d in findings.disruptions
            ),
        )
    else:
        lines.append("No replica of the existing collection left Active.")
    lines.append("")

    w = findings.writes
    lines += ["## Writes to the existing collection", ""]
    lines.append(f"{w.total} writes: {w.ok} ok, {w.fail} failed, {w.info} unknown outcome.")
    if w.failures:
        lines += [
            "",
            *_table(
                ("op", "worker", "node", "sent", "done", "outcome", "status", "error"),
                (
                    (
                        f.op_id,
                        f.worker,
                        f.node,
                        _offset(f.invoked_ns),
                        _offset(f.completed_ns),
                        f.outcome,
                        f.status,
                        f.error,
                    )
                    for f in w.failures
                ),
            ),
        ]
    lines.append("")

    lines += ["## Lag", ""]
    lines.append(
        f"Lag took hold: **{'yes' if findings.lag_took_hold else 'no'}**. "
        f"Converged: **{'yes' if findings.converged else 'no'}**."
    )
    if findings.lag:
        lines += [
            "",
            *_table(
                (
                    "node",
                    "peer",
                    "stalled",
                    "slept from",
                    "slept until",
                    "max commit gap",
                    "max last_update age",
                    "max send failures",
                ),
                (
                    (
                        p.node,
                        p.peer_id,
                        "yes" if p.stalled else "no",
                        _offset(p.slept_from_ns),
                        _offset(p.slept_until_ns),
                        p.max_commit_gap,
                        f"{p.max_last_update_age_ms:.0f} ms",
                        p.max_send_failures,
                    )
                    for p in findings.lag
                ),
            ),
        ]
    lines.append("")

    lines += ["## Timeline", ""]
    if findings.timeline:
        lines += [
            "```text",
            format_timeline(findings, node_peers_from_meta(meta)).rstrip("\n"),
            "```",
        ]
    else:
        lines.append("(empty)")
    first = findings.first_disruption_ns
    if first is not None:
        lines += ["", f"First disruption at {format_offset(first)}."]
    return "\n".join(lines) + "\n"
