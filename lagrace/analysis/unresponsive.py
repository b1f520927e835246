"""Detector: peers that stopped answering (every call to them timed out, hung or was cut off).

A stretch starts when a call to node K is sent that never gets an HTTP answer (outcome ``info``
with no status, or never completed), and ends at K's next answer of any status to any call
(watchers poll ``GET /cluster`` every 100 ms, so a peer that answers anything ends it at once).
Only stretches of at least :data:`MIN_SILENCE_NS` count. Refused connections are not silence:
nothing listened, which is an outage (:mod:`lagrace.analysis.outages`). A peer frozen by the
lock pile-up still answers ``GET /cluster`` (a freeze, :mod:`lagrace.analysis.chain`), so it is
not unresponsive; a peer whose HTTP server is stuck or gone after a panic is. Never decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lagrace.analysis.findings import TimelineEntry, Unresponsive
from lagrace.analysis.inputs import AnalysisInput
from lagrace.analysis.outages import is_refused
from lagrace.analysis.timeline import format_offset
from lagrace.events import Outcome
from lagrace.history import History
from lagrace.timebase import NS_PER_S

MIN_SILENCE_NS: Final = 5 * NS_PER_S


def find_unresponsive(
    history: History, inp: AnalysisInput, *, min_silence_ns: int = MIN_SILENCE_NS
) -> tuple[Unresponsive, ...]:
    """Every stretch of at least ``min_silence_ns`` in which a node answered nothing."""
    end_ns = history.events[-1].t_ns if history.events else 0
    # per node: (time, 0 = answer / 1 = unanswered send) — answers sort first at equal times
    points: dict[int, list[tuple[int, int]]] = {}
    for op in history.operations():
        node = op.invoke.node
        if node is None:
            continue
        done = op.complete
        if done is not None and done.status is not None:
            points.setdefault(node, []).append((done.t_ns, 0))
        elif done is None or (done.outcome is Outcome.INFO and not is_refused(done)):
            points.setdefault(node, []).append((op.invoke.t_ns, 1))
    out: list[Unresponsive] = []
    for node, pts in points.items():
        pts.sort()
        start: int | None = None
        unanswered = 0
        for t, kind in pts:
            if kind == 1:
                start = t if start is None else start
                unanswered += 1
                continue
            if start is not None and t - start >= min_silence_ns:
                out.append(Unresponsive(node, inp.peer_of(node), start, t, unanswered))
            start, unanswered = None, 0
        if start is not None and end_ns - start >= min_silence_ns:
            out.append(Unresponsive(node, inp.peer_of(node), start, None, unanswered))
    out.sort(key=lambda u: (u.from_ns, u.node))
    return tuple(out)


def unresponsive_timeline(stretches: Sequence[Unresponsive]) -> tuple[TimelineEntry, ...]:
    """``silent`` entries: where each stretch starts and, if it does, ends."""
    out = []
    for u in stretches:
        out.append(
            TimelineEntry(u.from_ns, u.node, u.peer_id, "silent", "stopped answering any call")
        )
        if u.until_ns is not None:
            secs = (u.until_ns - u.from_ns) / NS_PER_S
            out.append(
                TimelineEntry(
                    u.until_ns,
                    u.node,
                    u.peer_id,
                    "silent",
                    f"answered again after {secs:.1f} s ({u.unanswered} call(s) unanswered)",
                )
            )
    return tuple(out)


def unresponsive_reasons(stretches: Sequence[Unresponsive]) -> tuple[str, ...]:
    """One line per stretch for the verdict's reasons (never deciding)."""
    reasons = []
    for u in stretches:
        back = (
            f"answered again at {format_offset(u.until_ns)}"
            if u.until_ns is not None
            else "never answered again"
        )
        reasons.append(
            f"node {u.node} stopped answering at {format_offset(u.from_ns)} "
            f"({u.unanswered} call(s) unanswered), {back}"
        )
    return tuple(reasons)
