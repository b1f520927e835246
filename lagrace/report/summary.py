"""``summary.md`` of the report: the run's own summary when it has findings, else a minimal one.

:func:`summary_markdown` writes :func:`lagrace.render.markdown.format_summary_markdown` (the
summary ``lagrace run`` wrote) for a run with findings, and :func:`format_minimal_summary`, which
also covers runs without findings (a run cut short), otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from lagrace.render.markdown import format_summary_markdown
from lagrace.report.model import ReportModel

RENDERER_MODULE: Final = "lagrace.render.markdown"


def _ts(ns: int | None) -> str:
    return "—" if ns is None else f"{ns / 1e9:.3f} s"


def format_minimal_summary(model: ReportModel) -> str:
    """A short Markdown summary: verdict, reasons, signature counts, disruptions, notes."""
    findings = model.findings
    verdict = findings.verdict.label if findings is not None else "no findings"
    lines = [
        f"# lagrace {model.scenario} run {model.run_id}: {verdict}",
        "",
        f"status: {model.status} · span {_ts(model.start_ns)} to {_ts(model.end_ns)} · "
        f"target node {model.target_node if model.target_node is not None else '?'}",
        "",
    ]
    if model.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in model.notes), ""]
    for w in model.windows:
        lines.append(
            f"- slow-down of node {w.node}: {_ts(w.start_ns)} to {_ts(w.end_ns)} ({w.source})"
        )
    if model.windows:
        lines.append("")
    if findings is None:
        lines.append("No findings.json: the timeline in index.html shows what was recorded.")
        return "\n".join(lines) + "\n"
    lines += ["## Reasons", "", *(f"- {r}" for r in findings.reasons or ("(none)",)), ""]
    counts = Counter(h.signature for h in findings.signatures)
    if counts:
        lines += ["## Signatures", "", "| signature | count |", "|---|---|"]
        lines += [f"| {sig} | {n} |" for sig, n in sorted(counts.items())] + [""]
    if findings.disruptions:
        lines += [
            "## Disruptions",
            "",
            "| collection | shard | replica | seen by | states | from | back Active |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {d.collection} | {d.shard} | {d.replica_peer} | node {d.observer_node} | "
            f"{' → '.join(d.states)} | {_ts(d.first_ns)} | "
            f"{_ts(d.back_active_ns) if d.back_active_ns is not None else 'never'} |"
            for d in findings.disruptions
        ] + [""]
    writes = findings.writes
    lines.append(
        f"writes: {writes.total} total, {writes.ok} ok, {writes.fail} fail, {writes.info} unknown"
    )
    return "\n".join(lines) + "\n"


def summary_markdown(model: ReportModel, config: Mapping[str, Any]) -> tuple[str, str]:
    """(Markdown, the module that wrote it); ``config`` is the run's config.json object."""
    if model.findings is not None:
        return format_summary_markdown(model.findings, config), RENDERER_MODULE
    return format_minimal_summary(model), __name__
