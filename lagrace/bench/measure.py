"""Each measured entry's timings, per peer, from the bench's history. Pure.

An entry is a call the bench's workload made (worker ``bench-<slot>``): a no-op
(``test_slow_down`` of duration 0), a create or a delete. For each one:

* **answer**: the proposer's answer (invoke to completion on the one clock);
* its **index** in the Raft log: from the logs where they name it (``Creating collection C``
  on any peer; a no-op's ``TestSlowDown: sleeping for 0ms`` line on its target, when exactly
  one lies in the range below), else from polling: the entry is above the highest commit any
  peer showed before it was sent (``floor``) and at most the proposer's applied index read right
  after the answer (``applied_after``); when ``applied_after == floor + 1`` that is exact,
  otherwise the upper bound is used (times are then late by the entries in between, never
  early) and the entry is counted as inexact;
* per peer, **applied**: when the peer's apply progress passed the index (``GET /cluster``
  window; log line time where given); **apply**: how long the entry took on the peer (from
  polling: commit passed → applied passed, which at concurrency 1 on an idle cluster is the
  apply itself and otherwise includes the wait behind earlier entries; from the log:
  ``Applying`` → ``Successfully applied``); **ready** (creates and deletes): the collection
  visible on the peer with every local replica ``Active`` (a delete: gone), from the bench's
  per-peer polls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lagrace.bench.applylog import LOG_RESOLUTION_NS, PeerLog
from lagrace.bench.progress import ProgressSample, Window, crossing
from lagrace.events import Outcome
from lagrace.history import History

WORKER_PREFIX: Final = "bench-"
MARK_MEASURE: Final = "bench_measure"
MARK_ENTRY: Final = "bench_entry"
MARK_READY: Final = "bench_ready"
KINDS: Final = {
    "test_slow_down": "noop",
    "create_collection": "create",
    "delete_collection": "delete",
}
METRICS: Final = ("answer", "applied_poll", "applied_log", "apply_poll", "apply_log", "ready")


@dataclass(frozen=True, slots=True)
class Proposal:
    """One call of the workload and what the bench noted about it."""

    op_id: int
    kind: str  # noop | create | delete
    collection: str | None
    via: int
    sent_ns: int
    answered_ns: int | None
    ok: bool
    warmup: bool
    floor: int | None = None  # highest commit any peer showed before the send
    applied_after: int | None = None  # the proposer's applied index right after the answer
    ready: Mapping[int, Window] = field(default_factory=dict)  # node -> ready window


@dataclass(frozen=True, slots=True)
class PeerTiming:
    """What one peer showed of one entry (absolute times on the run clock)."""

    node: int
    applied: Window | None = None
    committed: Window | None = None
    applied_log_ns: int | None = None
    apply_log_ns: int | None = None
    ready: Window | None = None


@dataclass(frozen=True, slots=True)
class EntryTiming:
    """One entry: its proposal, index and what every peer showed."""

    proposal: Proposal
    index: int | None
    index_exact: bool
    index_source: str | None  # "log" | "poll" | None
    peers: Mapping[int, PeerTiming]


@dataclass(frozen=True, slots=True)
class Sample:
    """One latency sample: ``value_ns`` ± ``resolution_ns``, of ``metric`` on ``node``."""

    kind: str
    metric: str
    node: int
    value_ns: int
    resolution_ns: int
    op_id: int
    index: int | None
    sent_ns: int


def proposals_from_history(history: History) -> list[Proposal]:
    """The workload's calls with the bench's notes (``bench_entry``/``bench_ready`` marks)."""
    measure = history.first_mark(MARK_MEASURE)
    from_ns = measure.t_ns if measure is not None else 0
    notes: dict[int, dict[str, Any]] = {}
    ready: dict[int, dict[int, Window]] = {}
    for mark in history.marks(MARK_ENTRY):
        notes[int(mark.data["op_id"])] = mark.data
    for mark in history.marks(MARK_READY):
        window = Window(int(mark.data["lo_ns"]), int(mark.data["hi_ns"]))
        ready.setdefault(int(mark.data["op_id"]), {})[int(mark.data["node"])] = window
    out: list[Proposal] = []
    for op in history.operations():
        inv = op.invoke
        kind = KINDS.get(inv.op)
        if kind is None or not inv.worker.startswith(WORKER_PREFIX) or inv.node is None:
            continue
        note = notes.get(inv.op_id, {})
        out.append(
            Proposal(
                op_id=inv.op_id,
                kind=kind,
                collection=inv.args.collection,
                via=inv.node,
                sent_ns=inv.t_ns,
                answered_ns=None if op.complete is None else op.complete.t_ns,
                ok=op.outcome is Outcome.OK,
                warmup=inv.t_ns < from_ns,
                floor=note.get("floor"),
                applied_after=note.get("applied_after"),
                ready=ready.get(inv.op_id, {}),
            )
        )
    return out


def _index(
    p: Proposal, logs: Mapping[int, PeerLog], target: int
) -> tuple[int | None, bool, str | None]:
    if p.kind in ("create", "delete") and p.collection is not None:
        for log in logs.values():
            found = log.index_of(p.kind, p.collection)
            if found is not None:
                return found, True, "log"
    low = (p.floor or 0) + 1
    high = p.applied_after
    if p.kind == "noop" and target in logs and high is not None:
        candidates = [
            e.index
            for e in logs[target].entries.values()
            if e.slow_down_ms == 0 and low <= e.index <= high
        ]
        if len(candidates) == 1:
            return candidates[0], True, "log"
    if high is None:
        return None, False, None
    return high, p.floor is not None and high == low, "poll"


def entry_timings(
    proposals: Sequence[Proposal],
    samples: Mapping[int, Sequence[ProgressSample]],
    logs: Mapping[int, PeerLog],
    *,
    nodes: Sequence[int],
    target: int,
) -> list[EntryTiming]:
    """Every successful measured proposal's index and per-peer timings."""
    out: list[EntryTiming] = []
    for p in proposals:
        if p.warmup or not p.ok:
            continue
        index, exact, source = _index(p, logs, target)
        peers: dict[int, PeerTiming] = {}
        for node in nodes:
            series = samples.get(node, ())
            log = logs.get(node)
            logged = None if log is None or index is None else log.entries.get(index)
            peers[node] = PeerTiming(
                node=node,
                applied=None if index is None else crossing(series, index, field="applied"),
                committed=None if index is None else crossing(series, index, field="commit"),
                applied_log_ns=None if logged is None else logged.applied_ns,
                apply_log_ns=None if logged is None else logged.apply_ns,
                ready=p.ready.get(node),
            )
        out.append(EntryTiming(p, index, exact, source, peers))
    return out


def samples_of(entries: Sequence[EntryTiming]) -> list[Sample]:
    """Every latency sample of the entries (one per metric and peer where measured)."""
    out: list[Sample] = []
    for e in entries:
        p = e.proposal

        def add(metric: str, node: int, value: int, resolution: int, e: EntryTiming = e) -> None:
            p = e.proposal
            out.append(
                Sample(p.kind, metric, node, max(0, value), resolution, p.op_id, e.index, p.sent_ns)
            )

        if p.answered_ns is not None:
            add("answer", p.via, p.answered_ns - p.sent_ns, 0)
        for node, t in e.peers.items():
            if t.applied is not None:
                add("applied_poll", node, t.applied.mid_ns - p.sent_ns, t.applied.half_ns)
                if t.committed is not None:
                    add(
                        "apply_poll",
                        node,
                        t.applied.mid_ns - t.committed.mid_ns,
                        t.applied.half_ns + t.committed.half_ns,
                    )
            if t.applied_log_ns is not None:
                add("applied_log", node, t.applied_log_ns - p.sent_ns, LOG_RESOLUTION_NS)
            if t.apply_log_ns is not None:
                add("apply_log", node, t.apply_log_ns, LOG_RESOLUTION_NS)
            if t.ready is not None:
                add("ready", node, t.ready.mid_ns - p.sent_ns, t.ready.half_ns)
    return out
