"""Detector: peers that panicked (the delete-under-writes race of v1.18.3, docs/scenarios.md).

Qdrant's panic hook logs, on the peer that panicked::

    ERROR qdrant::startup: Panic occurred in file
        lib/collection/src/shards/shard_holder/mod.rs at line 423: called
        `Option::unwrap()` on a `None` value            (one line in the log)

and a request whose task panicked is answered 500 (``Service internal error: task 5655
panicked with message "called `Option::unwrap()` on a `None` value"``), which the peer also
logs as ``ERROR qdrant::actix::helpers: Error processing request: ...``. Each of the three is a
:class:`~lagrace.analysis.findings.Panic` (``source`` ``log``, ``request_log``, ``answer``);
the ``Panic backtrace:`` line before the panic line adds nothing and is not one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from lagrace.analysis.findings import Panic, TimelineEntry
from lagrace.analysis.inputs import AnalysisInput
from lagrace.analysis.signatures import log_at_ns, log_message
from lagrace.analysis.timeline import format_offset
from lagrace.events import OBS_LOG
from lagrace.history import History

PANIC_LINE: Final = re.compile(
    r"Panic occurred in file (?P<file>\S+) at line (?P<line>\d+): (?P<message>.*)$"
)
TASK_PANICKED: Final = re.compile(
    r"task (?P<task>\d+) panicked(?: with message \"(?P<message>.*)\")?"
)
SOURCE_LOG: Final = "log"
SOURCE_REQUEST_LOG: Final = "request_log"
SOURCE_ANSWER: Final = "answer"


def _task(match: re.Match[str]) -> int:
    return int(match["task"])


def find_panics(history: History, inp: AnalysisInput) -> tuple[Panic, ...]:
    """Every panic line, ``task N panicked`` log line and 500 ``task N panicked`` answer, by
    time (ties in history order)."""
    found: list[tuple[int, int, Panic]] = []
    for event in history.observations(OBS_LOG):
        message = log_message(event)
        peer = event.peer_id if event.peer_id is not None else inp.peer_of(event.node)
        at = log_at_ns(event)
        line = PANIC_LINE.search(message)
        if line is not None:
            panic = Panic(
                node=event.node,
                peer_id=peer,
                at_ns=at,
                source=SOURCE_LOG,
                message=line["message"],
                location=f"{line['file']}:{line['line']}",
            )
            found.append((at, event.index, panic))
            continue
        task = TASK_PANICKED.search(message)
        if task is not None:
            panic = Panic(
                node=event.node,
                peer_id=peer,
                at_ns=at,
                source=SOURCE_REQUEST_LOG,
                message=task["message"] or message,
                task=_task(task),
            )
            found.append((at, event.index, panic))
    for op in history.operations():
        done = op.complete
        if done is None or done.status is None or done.status < 500 or not done.error:
            continue
        task = TASK_PANICKED.search(done.error)
        if task is None:
            continue
        panic = Panic(
            node=done.node,
            peer_id=done.peer_id if done.peer_id is not None else inp.peer_of(done.node),
            at_ns=done.t_ns,
            source=SOURCE_ANSWER,
            message=task["message"] or done.error,
            task=_task(task),
            op_id=op.invoke.op_id,
        )
        found.append((done.t_ns, done.index, panic))
    found.sort(key=lambda x: (x[0], x[1]))
    return tuple(p for _, _, p in found)


def panic_timeline(panics: Sequence[Panic]) -> tuple[TimelineEntry, ...]:
    """One ``panic`` entry per node and source, at its first panic, with the count (the ERROR
    lines themselves are on the timeline already; the answers are among the write failures)."""
    out: list[TimelineEntry] = []
    firsts: dict[tuple[int | None, str], Panic] = {}
    counts: dict[tuple[int | None, str], int] = {}
    for p in panics:
        key = (p.node, p.source)
        firsts.setdefault(key, p)
        counts[key] = counts.get(key, 0) + 1
    for key, p in firsts.items():
        n = counts[key]
        times = f" ({n}x)" if n > 1 else ""
        if p.source == SOURCE_LOG:
            text = f"peer panicked at {p.location}{times}: {p.message}"
        elif p.source == SOURCE_REQUEST_LOG:
            text = f"a request's task panicked{times}: {p.message}"
        else:
            text = f"answered 500 'task {p.task} panicked'{times}: {p.message}"
        out.append(TimelineEntry(p.at_ns, p.node, p.peer_id, "panic", text))
    return tuple(out)


def panic_reasons(panics: Sequence[Panic]) -> tuple[str, ...]:
    """One line per panic location and per kind of panicked answer, for the verdict."""
    reasons: list[str] = []
    by_location: dict[str | None, list[Panic]] = {}
    for p in panics:
        if p.source == SOURCE_LOG:
            by_location.setdefault(p.location, []).append(p)
    for location, mine in by_location.items():
        nodes = ", ".join(str(n) for n in sorted({p.node for p in mine if p.node is not None}))
        reasons.append(
            f"peer panic at {location} logged {len(mine)}x on node {nodes or '?'}, first at "
            f"{format_offset(mine[0].at_ns)}: {mine[0].message}"
        )
    answers = [p for p in panics if p.source == SOURCE_ANSWER]
    if answers:
        nodes = ", ".join(str(n) for n in sorted({p.node for p in answers if p.node is not None}))
        reasons.append(
            f"{len(answers)} call(s) answered 500 'task N panicked' by node {nodes or '?'}, "
            f"first at {format_offset(answers[0].at_ns)}"
        )
    if not reasons and panics:
        reasons.append(
            f"{len(panics)} request task(s) panicked (logged), first at "
            f"{format_offset(panics[0].at_ns)}"
        )
    return tuple(reasons)
