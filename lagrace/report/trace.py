"""``trace.json``: the run as a Chrome trace-event file for Perfetto UI and chrome://tracing.

Pure: :func:`format_trace` turns a :class:`~lagrace.report.model.ReportModel` into the JSON
object format ``{"traceEvents": [...], "displayTimeUnit": "ms"}``. Timestamps (``ts``) and
durations (``dur``) are microseconds on the run axis (``t_ns / 1000``); events are sorted by
``ts``, metadata first.

* one process per peer (``pid`` = node number) with a ``consensus`` thread (slow-down windows as
  complete events, selected log lines, probe errors and create visibility as instants, the
  commit gap as a counter) and one thread per collection whose slices are the replica-state
  periods that peer saw (``Active``, or the non-Active replicas and their states);
* one ``workers`` process (``pid`` :data:`WORKERS_PID`): a thread per worker with every
  operation as a complete event (overlapping operations of one worker go to extra threads
  ``<worker> #k`` so slices nest), and the driver's phase marks as global instants; in a
  busy lane of a large run (:func:`~lagrace.report.model.split_dense`) the ``ok`` operations
  are two counters per bin instead (``<worker> <op> ok/s`` and its latency min/median/max),
  every other operation stays a slice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

from lagrace.report.model import (
    ABSENT,
    Band,
    OpPoint,
    ReportModel,
    lane_bins,
    lane_kept_failures,
    split_dense,
    summary_bands,
)

WORKERS_PID: Final = 1000
UNKNOWN_PEER_PID: Final = 999
CONSENSUS_TID: Final = 1
FIRST_COLLECTION_TID: Final = 10
PHASES_TID: Final = 0
TraceEvent = dict[str, Any]


def _us(ns: int) -> float:
    return round(ns / 1000, 3)


def _pid(node: int | None) -> int:
    return node if node is not None else UNKNOWN_PEER_PID


def _assign_tracks(ops: Sequence[OpPoint], end_ns: int) -> list[tuple[OpPoint, int]]:
    """Greedy interval colouring: overlapping operations of one worker go to sub-tracks."""
    ends: list[int] = []
    out: list[tuple[OpPoint, int]] = []
    for op in sorted(ops, key=lambda p: (p.invoked_ns, p.op_id)):
        finish = op.completed_ns if op.completed_ns is not None else end_ns
        for k, busy_until in enumerate(ends):
            if busy_until <= op.invoked_ns:
                ends[k] = finish
                out.append((op, k))
                break
        else:
            ends.append(finish)
            out.append((op, len(ends) - 1))
    return out


def _meta(pid: int, tid: int | None, name: str, value: str | int) -> TraceEvent:
    arg = "sort_index" if name.endswith("sort_index") else "name"
    event: TraceEvent = {"name": name, "ph": "M", "ts": 0, "pid": pid, "tid": tid or 0}
    event["args"] = {arg: value}
    return event


def format_trace(model: ReportModel) -> dict[str, Any]:
    """The trace-event JSON object for ``model``."""
    meta: list[TraceEvent] = []
    events: list[TraceEvent] = []
    peers = [lane for lane in model.lanes if lane.kind == "peer"]
    for rank, lane in enumerate(peers):
        pid = _pid(lane.node)
        title = f"node {lane.node}" + (f" (peer {lane.peer_id})" if lane.peer_id else "")
        meta += [
            _meta(pid, None, "process_name", title + (" target" if lane.target else "")),
            _meta(pid, None, "process_sort_index", rank),
            _meta(pid, CONSENSUS_TID, "thread_name", "consensus"),
            _meta(pid, CONSENSUS_TID, "thread_sort_index", 0),
        ]
    for w in model.windows:
        events.append({
            "name": f"slow-down {w.duration_ms} ms" if w.duration_ms is not None else "slow-down",
            "cat": "slow_down", "ph": "X", "ts": _us(w.start_ns),
            "dur": _us(w.end_ns - w.start_ns), "pid": _pid(w.node), "tid": CONSENSUS_TID,
            "args": {"peer_id": w.peer_id, "source": w.source, "finished_seen": w.finished_seen},
        })  # fmt: skip
    for m in model.logs:
        events.append({
            "name": f"{m.level}: {m.message[:90]}", "cat": f"log.{m.kind}", "ph": "i", "s": "t",
            "ts": _us(m.at_ns), "pid": _pid(m.node), "tid": CONSENSUS_TID,
            "args": {"level": m.level, "target": m.target, "message": m.message},
        })  # fmt: skip
    for p in model.probe_errors:
        events.append({
            "name": f"probe {p.probe}: {p.text[:60]}", "cat": "probe", "ph": "i", "s": "t",
            "ts": _us(p.t_ns), "pid": _pid(p.node), "tid": CONSENSUS_TID,
            "args": {"probe": p.probe, "text": p.text, "recovered": p.recovered},
        })  # fmt: skip
    for c in model.creates:
        for node, at in c.visible:
            events.append({
                "name": f"visible: {c.collection}", "cat": "create", "ph": "i", "s": "t",
                "ts": _us(at), "pid": _pid(node), "tid": CONSENSUS_TID,
                "args": {"collection": c.collection, "after_sent_ms": (at - c.sent_ns) / 1e6},
            })  # fmt: skip
    for point in model.lag:
        events.append({
            "name": "commit gap", "cat": "lag", "ph": "C", "ts": _us(point.t_ns),
            "pid": _pid(point.node), "tid": CONSENSUS_TID, "args": {"gap": point.gap},
        })  # fmt: skip

    grouped: dict[tuple[int | None, str], list[Band]] = defaultdict(list)
    for band in model.bands:
        grouped[(band.node, band.collection)].append(band)
    tids: dict[int, int] = defaultdict(lambda: FIRST_COLLECTION_TID)
    for row in model.rows:
        pid = _pid(row.node)
        tid = tids[pid]
        tids[pid] += 1
        meta += [
            _meta(pid, tid, "thread_name", row.collection),
            _meta(pid, tid, "thread_sort_index", tid),
        ]
        for band in summary_bands(grouped[(row.node, row.collection)]):
            name = "not visible" if band.state == ABSENT else band.state
            events.append({
                "name": name, "cat": "replica_state", "ph": "X", "ts": _us(band.start_ns),
                "dur": _us(band.end_ns - band.start_ns), "pid": pid, "tid": tid,
                "args": {"collection": row.collection, "observer_node": row.node,
                         "replicas": band.detail},
            })  # fmt: skip

    meta += [
        _meta(WORKERS_PID, None, "process_name", "workers"),
        _meta(WORKERS_PID, None, "process_sort_index", len(peers)),
        _meta(WORKERS_PID, PHASES_TID, "thread_name", "driver"),
        _meta(WORKERS_PID, PHASES_TID, "thread_sort_index", 0),
    ]
    for phase in model.phases:
        events.append({
            "name": phase.name, "cat": "phase", "ph": "i", "s": "g", "ts": _us(phase.t_ns),
            "pid": WORKERS_PID, "tid": PHASES_TID,
        })  # fmt: skip
    workers = [lane.worker for lane in model.lanes if lane.worker is not None]
    count, keep = lane_bins(model), lane_kept_failures(model)
    for rank, worker in enumerate(workers, start=1):
        ops, bins = split_dense(
            [p for p in model.ops if p.worker == worker],
            model.start_ns,
            model.end_ns,
            run_ops=len(model.ops),
            bins=count,
            keep=keep,
        )
        base = rank * 100
        used: set[int] = set()
        for b in bins:  # a busy lane: counters per bin, not a slice per operation
            name = f"{worker} {b.op} {b.outcome.value}"
            rate = round(b.count * 1e9 / max(1, b.end_ns - b.start_ns), 1)
            events.append({
                "name": f"{name}/s", "cat": f"op.{b.outcome.value}.rate", "ph": "C",
                "ts": _us(b.start_ns), "pid": WORKERS_PID, "tid": base,
                "args": {b.outcome.value: rate},
            })  # fmt: skip
            if b.min_ns is not None and b.p50_ns is not None and b.max_ns is not None:
                events.append({
                    "name": f"{name} latency ms", "cat": f"op.{b.outcome.value}.latency",
                    "ph": "C", "ts": _us(b.start_ns), "pid": WORKERS_PID, "tid": base,
                    "args": {
                        "min": round(b.min_ns / 1e6, 3),
                        "median": round(b.p50_ns / 1e6, 3),
                        "max": round(b.max_ns / 1e6, 3),
                    },
                })  # fmt: skip
        for op, k in _assign_tracks(ops, model.end_ns):
            tid = base + k
            if tid not in used:
                used.add(tid)
                meta += [
                    _meta(WORKERS_PID, tid, "thread_name", worker if k == 0 else f"{worker} #{k}"),
                    _meta(WORKERS_PID, tid, "thread_sort_index", tid),
                ]
            finish = op.completed_ns if op.completed_ns is not None else model.end_ns
            args: dict[str, Any] = {"op_id": op.op_id, "node": op.node, "outcome": op.outcome.value}
            if op.completed_ns is None:
                args["completed"] = False
            for key in ("status", "error", "request", "response"):
                if (value := getattr(op, key)) not in (None, ""):
                    args[key] = value
            events.append({
                "name": op.op, "cat": f"op.{op.outcome.value}", "ph": "X",
                "ts": _us(op.invoked_ns), "dur": _us(max(0, finish - op.invoked_ns)),
                "pid": WORKERS_PID, "tid": tid, "args": args,
            })  # fmt: skip

    events.sort(key=lambda e: (e["ts"], e["pid"], e["tid"]))
    first = min([0.0, *(e["ts"] for e in events)])
    for event in meta:
        event["ts"] = first
    return {
        "traceEvents": meta + events,
        "displayTimeUnit": "ms",
        "otherData": {
            "run_id": model.run_id,
            "scenario": model.scenario,
            "status": model.status,
            "time_axis": "microseconds since the run origin (lagrace run clock)",
        },
    }
