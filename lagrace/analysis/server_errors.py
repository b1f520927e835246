"""Detector: writes to the existing collection answered HTTP 500, per node.

A 500 is Qdrant's ``ServiceError`` (notes §1): an internal failure, not a refusal. Under the
delete-under-writes race of v1.18.3 the writes in flight when the delete is applied are
answered ``500 Service internal error: task N panicked ...``; under the lock pile-up of v1.16.x
writes answer 500 once a deactivation wait times out (notes §4.6-A). The writes come from
:func:`lagrace.analysis.writes.summarise_writes` (the existing collection's upserts); this
groups their 500s per node. It never decides the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lagrace.analysis.findings import ServerErrorWrites, TimelineEntry, WriteSummary
from lagrace.analysis.inputs import AnalysisInput
from lagrace.analysis.panics import TASK_PANICKED
from lagrace.analysis.timeline import format_offset
from lagrace.analysis.writes import failed_at_ns

SERVER_ERROR: Final = 500


def find_server_error_writes(
    writes: WriteSummary, inp: AnalysisInput
) -> tuple[ServerErrorWrites, ...]:
    """The writes answered 500, one entry per node, ordered by their first."""
    by_node: dict[int | None, list[tuple[int, str | None]]] = {}
    for f in writes.failures:
        if f.status == SERVER_ERROR:
            by_node.setdefault(f.node, []).append((failed_at_ns(f), f.error))
    out = []
    for node, answers in by_node.items():
        answers.sort(key=lambda a: a[0])
        out.append(
            ServerErrorWrites(
                node=node,
                peer_id=inp.peer_of(node),
                count=len(answers),
                first_ns=answers[0][0],
                last_ns=answers[-1][0],
                panicked=sum(1 for _, e in answers if e and TASK_PANICKED.search(e)),
                first_error=answers[0][1],
            )
        )
    out.sort(key=lambda s: (s.first_ns, s.node or 0))
    return tuple(out)


def server_error_timeline(groups: Sequence[ServerErrorWrites]) -> tuple[TimelineEntry, ...]:
    """One ``write_500`` entry per node, at its first 500."""
    out = []
    for g in groups:
        panicked = f", {g.panicked} 'task N panicked'" if g.panicked else ""
        until = f" until {format_offset(g.last_ns)}" if g.count > 1 else ""
        out.append(
            TimelineEntry(
                g.first_ns,
                g.node,
                g.peer_id,
                "write_500",
                f"{g.count} write(s) answered 500{panicked}{until}: {g.first_error or '?'}",
            )
        )
    return tuple(out)


def server_error_reasons(groups: Sequence[ServerErrorWrites]) -> tuple[str, ...]:
    """One line for the verdict's reasons (never deciding)."""
    if not groups:
        return ()
    total = sum(g.count for g in groups)
    nodes = ", ".join(str(g.node) for g in groups if g.node is not None) or "?"
    first = min(g.first_ns for g in groups)
    return (
        f"{total} write(s) to the existing collection answered 500 by node {nodes}, first at "
        f"{format_offset(first)} (reported; not a reproduction by itself)",
    )
