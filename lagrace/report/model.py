"""What the report shows, extracted from a run's history: lanes, windows, bands, points, marks.

Pure: :func:`build_model` takes the already-read history, config and findings and returns a
frozen :class:`ReportModel` that the HTML timeline, the PNG plots and the Perfetto trace all
draw from. Every instant is run-clock nanoseconds (``*_ns``), the axis of :mod:`lagrace.clock`.

Where things come from (docs/run-directory.md):

* lanes: one per peer (``config.json`` ``nodes``, the ``run_start`` mark, any node seen) and
  one per worker (every ``invoke``);
* slow-down windows: the ``TestSlowDown: sleeping for {ms}ms on peer {id}`` /
  ``finished sleeping`` log lines of the stalled peer, or, when a peer has none, derived from
  the ``test_slow_down`` operations' typed ``target_peer`` and ``duration_s``;
* replica bands: ``collection_cluster`` observations, one period per snapshot, per replica;
* creates: ``create_collection`` operations (their ``args.collection``) plus the first
  ``visible`` snapshot per peer;
* lag: ``cluster`` observations, commit gap against the largest commit seen at that time.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from lagrace.analysis.findings import Findings
from lagrace.analysis.timeline import PREFLIGHT_WORKER
from lagrace.events import (
    NO_ARGS,
    OBS_CLUSTER,
    OBS_COLLECTION_CLUSTER,
    OBS_LOG,
    OBS_PROBE_ERROR,
    Complete,
    Invoke,
    Mark,
    Observe,
    OpArgs,
    Outcome,
)
from lagrace.history import History

ABSENT: Final = "absent"  # band state while an observer does not have the collection

_SLEEPING = re.compile(r"TestSlowDown: sleeping for (\d+)\s*ms on peer (\d+)")
_FINISHED = re.compile(r"TestSlowDown: finished sleeping on peer (\d+)")
# INFO/DEBUG lines worth a marker next to the WARNs (notes §4.2, §4.4, §4.5).
_SELECTED = re.compile(
    r"TestSlowDown|Creating collection|Deleting collection|Set shard replica state|"
    r"Changing shard|Deactivating peer|Consensus stopped"
)
_WORKER_ORDER: Final = ("setup", "lag", "burst", "hammer", "watch-cluster", "watch-coll", "cleanup")

LogKind = Literal["warn", "error", "log"]


@dataclass(frozen=True, slots=True)
class Lane:
    """One horizontal lane of the timeline: a peer (node) or a worker."""

    key: str  # "peer-2" or "worker-hammer-0": stable ids for the HTML and tests
    kind: Literal["peer", "worker"]
    label: str
    node: int | None = None
    peer_id: int | None = None
    worker: str | None = None
    target: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A slow-down window: ``node``'s consensus thread slept from ``start_ns`` to ``end_ns``."""

    node: int | None
    peer_id: int | None
    start_ns: int
    end_ns: int
    source: Literal["log", "derived"]
    duration_ms: int | None = None
    finished_seen: bool = True  # False: no "finished sleeping" line, end derived from the ms


@dataclass(frozen=True, slots=True)
class Band:
    """One replica state held over a period, as ``node`` (the observer) saw it."""

    node: int | None
    collection: str
    shard: int | None  # None for an ``absent`` band covering the whole collection row
    replica_peer: int | None
    state: str
    start_ns: int
    end_ns: int
    detail: str = ""  # summary bands: the non-Active replicas and their states


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """The rows of one collection under one observer: a stripe per replica (shard, peer)."""

    node: int | None
    collection: str
    replicas: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class OpPoint:
    """One operation: invocation, completion (if any) and outcome."""

    op_id: int
    worker: str
    op: str
    node: int | None
    invoked_ns: int
    completed_ns: int | None
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    request: str = ""  # for people only; ``args`` is what the operation asked for
    response: str | None = None
    args: OpArgs = NO_ARGS

    @property
    def latency_ns(self) -> int | None:
        """Completion minus invocation (``None`` if it never completed)."""
        return None if self.completed_ns is None else self.completed_ns - self.invoked_ns


@dataclass(frozen=True, slots=True)
class OpBin:
    """The operations ``op`` with one ``outcome`` of one dense worker lane sent in
    [``start_ns``, ``end_ns``): how many, their latency (min, median, max of those that
    completed; ``None`` when none did) and, for failures, the commonest error texts."""

    worker: str
    op: str
    start_ns: int
    end_ns: int
    count: int
    min_ns: int | None
    p50_ns: int | None
    max_ns: int | None
    outcome: Outcome = Outcome.OK
    errors: tuple[tuple[str, int], ...] = ()  # (error text, count), commonest first, at most 3


DENSE_RUN_OPS: Final = 1000  # a run with more operations draws its busy lanes aggregated
BUSY_LANE_OPS: Final = 60  # ... a lane with more operations than this is busy
LANE_BINS: Final = 120  # at most this many bins across the run per aggregated lane ...
RUN_BINS: Final = 1200  # ... and about this many over all of them (at least MIN_LANE_BINS)
MIN_LANE_BINS: Final = 24
KEPT_FAILURES: Final = 50  # an aggregated lane still draws its first failures one by one ...
RUN_KEPT_FAILURES: Final = 400  # ... about this many over all of them (at least 10 a lane)


def _busy_lanes(model: ReportModel) -> int:
    per_worker = Counter(p.worker for p in model.ops)
    return max(1, sum(1 for n in per_worker.values() if n > BUSY_LANE_OPS))


def lane_bins(model: ReportModel) -> int:
    """Bins per aggregated lane: :data:`LANE_BINS`, fewer when many lanes are busy, so the
    page and the trace stay about the same size however many hammer workers ran."""
    return max(MIN_LANE_BINS, min(LANE_BINS, RUN_BINS // _busy_lanes(model)))


def lane_kept_failures(model: ReportModel) -> int:
    """Failures an aggregated lane draws one by one: :data:`KEPT_FAILURES`, fewer when many
    lanes are busy (:data:`RUN_KEPT_FAILURES` over all of them, at least 10 a lane)."""
    return max(10, min(KEPT_FAILURES, RUN_KEPT_FAILURES // _busy_lanes(model)))


def split_dense(
    points: Sequence[OpPoint],
    start_ns: int,
    end_ns: int,
    *,
    run_ops: int,
    bins: int = LANE_BINS,
    keep: int = KEPT_FAILURES,
) -> tuple[list[OpPoint], list[OpBin]]:
    """One worker lane's operations as drawn: all of them in a run of at most
    :data:`DENSE_RUN_OPS` operations (``run_ops``) or a lane of at most
    :data:`BUSY_LANE_OPS`; else the lane's first ``keep`` operations that were
    not ``ok`` one by one (what a reader looks for first), and everything else aggregated into
    ``bins`` bins across the run per op and outcome (failures with their commonest errors)."""
    if run_ops <= DENSE_RUN_OPS or len(points) <= BUSY_LANE_OPS:
        return list(points), []
    kept: list[OpPoint] = []
    groups: dict[tuple[int, str, Outcome], list[OpPoint]] = {}
    width = max(1, -(-(end_ns - start_ns) // bins))
    for p in points:
        if p.outcome is not Outcome.OK and len(kept) < keep:
            kept.append(p)  # the first failures of a lane are drawn one by one
            continue
        k = min(bins - 1, max(0, (p.invoked_ns - start_ns) // width))
        groups.setdefault((k, p.op, p.outcome), []).append(p)
    worker = points[0].worker
    out: list[OpBin] = []
    for (k, op, outcome), members in sorted(groups.items(), key=lambda item: item[0]):
        latencies = sorted(p.latency_ns for p in members if p.latency_ns is not None)
        errors = Counter(p.error for p in members if p.error)
        out.append(
            OpBin(
                worker=worker,
                op=op,
                start_ns=start_ns + k * width,
                end_ns=min(end_ns, start_ns + (k + 1) * width),
                count=len(members),
                min_ns=latencies[0] if latencies else None,
                p50_ns=latencies[(len(latencies) - 1) // 2] if latencies else None,
                max_ns=latencies[-1] if latencies else None,
                outcome=outcome,
                errors=tuple(errors.most_common(3)),
            )
        )
    return kept, out


def drawn_ops(model: ReportModel) -> tuple[list[OpPoint], list[OpBin]]:
    """Every worker lane's operations as drawn (:func:`split_dense`), in lane order."""
    kept: list[OpPoint] = []
    bins: list[OpBin] = []
    by_worker: dict[str, list[OpPoint]] = {}
    for p in model.ops:
        by_worker.setdefault(p.worker, []).append(p)
    count, keep = lane_bins(model), lane_kept_failures(model)
    for lane in model.lanes:
        if lane.worker is not None and lane.worker in by_worker:
            k, b = split_dense(
                by_worker[lane.worker],
                model.start_ns,
                model.end_ns,
                run_ops=len(model.ops),
                bins=count,
                keep=keep,
            )
            kept += k
            bins += b
    return kept, bins


@dataclass(frozen=True, slots=True)
class CreateMark:
    """A collection create: sent, acknowledged, and when each peer first saw it."""

    collection: str
    op_id: int
    worker: str
    node: int | None
    sent_ns: int
    ack_ns: int | None
    outcome: Outcome
    status: int | None
    error: str | None
    visible: tuple[tuple[int, int], ...]  # (observer node, first visible t_ns)


@dataclass(frozen=True, slots=True)
class LogMark:
    """A server log line worth a marker (WARN/ERROR, or a selected INFO/DEBUG line)."""

    node: int | None
    peer_id: int | None
    at_ns: int
    level: str
    target: str
    message: str
    kind: LogKind


@dataclass(frozen=True, slots=True)
class LagPoint:
    """``node``'s commit gap at ``t_ns``: the largest commit seen minus its own."""

    t_ns: int
    node: int
    gap: int
    commit: int
    pending: int


@dataclass(frozen=True, slots=True)
class PhaseMark:
    """A ``phase`` (or other named) mark of the driver."""

    name: str
    t_ns: int


@dataclass(frozen=True, slots=True)
class ProbeError:
    """A watcher's probe of ``node`` failed (``recovered`` when it answered again)."""

    node: int | None
    t_ns: int
    probe: str
    text: str
    recovered: bool


@dataclass(frozen=True, slots=True)
class ReportModel:
    """Everything the report draws; built by :func:`build_model`."""

    run_id: str
    scenario: str
    status: str
    anchor_unix_ns: int | None
    target_node: int | None
    existing_collection: str | None
    start_ns: int
    end_ns: int
    lanes: tuple[Lane, ...]
    windows: tuple[Window, ...]
    rows: tuple[CollectionRow, ...]
    bands: tuple[Band, ...]
    ops: tuple[OpPoint, ...]
    creates: tuple[CreateMark, ...]
    logs: tuple[LogMark, ...]
    lag: tuple[LagPoint, ...]
    phases: tuple[PhaseMark, ...]
    probe_errors: tuple[ProbeError, ...]
    findings: Findings | None
    notes: tuple[str, ...]

    def lane(self, key: str) -> Lane | None:
        """The lane called ``key``."""
        return next((lane for lane in self.lanes if lane.key == key), None)

    def upserts(self) -> list[OpPoint]:
        """The upsert operations, in invoke order."""
        return [p for p in self.ops if p.op == "upsert"]


def peer_lane_key(node: int | None) -> str:
    """``peer-<node>`` (``peer-unknown`` without a node)."""
    return f"peer-{node}" if node is not None else "peer-unknown"


def worker_lane_key(worker: str) -> str:
    """``worker-<name>``."""
    return f"worker-{worker}"


def is_watcher(worker: str) -> bool:
    """Pollers (``watch-*``): their many ``ok`` probes are not drawn."""
    return worker.startswith("watch-")


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _nodes(config: Mapping[str, Any], history: History) -> dict[int, int | None]:
    """node -> peer id, from config.json, the run_start mark and every event."""
    nodes: dict[int, int | None] = {}

    def add(node: Any, peer: Any) -> None:
        n = _as_int(node)
        if n is None:
            return
        p = _as_int(peer)
        if nodes.get(n) is None:
            nodes[n] = p

    for entry in config.get("nodes") or ():
        if isinstance(entry, Mapping):
            add(entry.get("node"), entry.get("peer_id"))
    start = history.first_mark("run_start")
    if start is not None:
        for entry in start.data.get("nodes") or ():
            if isinstance(entry, Mapping):
                add(entry.get("node"), entry.get("peer_id"))
    for event in history:
        if isinstance(event, Invoke | Complete | Observe):
            add(event.node, event.peer_id)
    return dict(sorted(nodes.items()))


def _worker_sort_key(worker: str) -> tuple[int, str]:
    for rank, prefix in enumerate(_WORKER_ORDER):
        if worker == prefix or worker.startswith(f"{prefix}-"):
            return rank, worker
    return len(_WORKER_ORDER), worker


def _log_at(event: Observe) -> int:
    at = _as_int(event.data.get("at_ns"))
    return at if at is not None else event.t_ns


def _windows(
    logs: Sequence[Observe],
    slow_ops: Sequence[OpPoint],
    peer_node: Mapping[int, int],
    default_peer: int | None,
) -> list[Window]:
    open_: dict[int, list[tuple[Observe, int]]] = {}
    windows: list[Window] = []
    for event in logs:
        message = str(event.data.get("message", ""))
        if m := _SLEEPING.search(message):
            open_.setdefault(int(m.group(2)), []).append((event, int(m.group(1))))
        elif (m := _FINISHED.search(message)) and open_.get(peer := int(m.group(1))):
            begin, ms = open_[peer].pop(0)
            start = _log_at(begin)
            windows.append(
                Window(
                    node=peer_node.get(peer, begin.node),
                    peer_id=peer,
                    start_ns=start,
                    end_ns=max(start, _log_at(event)),
                    source="log",
                    duration_ms=ms,
                )
            )
    for peer, pending in open_.items():
        for begin, ms in pending:
            start = _log_at(begin)
            windows.append(
                Window(
                    node=peer_node.get(peer, begin.node),
                    peer_id=peer,
                    start_ns=start,
                    end_ns=start + ms * 1_000_000,
                    source="log",
                    duration_ms=ms,
                    finished_seen=False,
                )
            )
    logged_peers = {w.peer_id for w in windows}
    for op in slow_ops:
        if op.outcome is Outcome.FAIL:
            continue  # did not take effect
        sleepers: list[int | None]
        if op.args.target_peer is not None:
            sleepers = [op.args.target_peer]
        elif op.args.duration_s is not None and peer_node:
            sleepers = list(peer_node)  # no peer_id: every peer sleeps (notes §2.7)
        else:
            sleepers = [default_peer]  # a history without typed fields: assume the target
        # Qdrant's default duration is 1 s (notes §2.7).
        seconds = op.args.duration_s if op.args.duration_s is not None else 1.0
        start = op.completed_ns if op.outcome is Outcome.OK and op.completed_ns else op.invoked_ns
        windows += [
            Window(
                node=peer_node.get(slept) if slept is not None else None,
                peer_id=slept,
                start_ns=start,
                end_ns=start + int(seconds * 1e9),
                source="derived",
                duration_ms=int(seconds * 1000),
                finished_seen=False,
            )
            for slept in sleepers
            if slept not in logged_peers
        ]
    return sorted(windows, key=lambda w: (w.start_ns, w.node or 0))


def _ops(history: History) -> list[OpPoint]:
    points = []
    for operation in history.operations():
        inv, comp = operation.invoke, operation.complete
        points.append(
            OpPoint(
                op_id=inv.op_id,
                worker=inv.worker,
                op=inv.op,
                node=inv.node,
                invoked_ns=inv.t_ns,
                completed_ns=None if comp is None else comp.t_ns,
                outcome=operation.outcome,
                status=None if comp is None else comp.status,
                error=None if comp is None else comp.error,
                request=inv.request,
                response=None if comp is None else comp.response,
                args=inv.args,
            )
        )
    return points


def _replica_bands(
    node: int | None, collection: str, events: Sequence[Observe], end_ns: int
) -> tuple[CollectionRow, list[Band]]:
    """One observer's snapshots of one collection as per-replica state periods."""
    replicas: set[tuple[int, int]] = set()
    open_: dict[tuple[int | None, int | None], tuple[str, int]] = {}
    bands: list[Band] = []

    def close(key: tuple[int | None, int | None], at: int) -> None:
        state, since = open_.pop(key)
        bands.append(Band(node, collection, key[0], key[1], state, since, max(since, at)))

    for event in events:
        now: dict[tuple[int | None, int | None], str] = {}
        if event.data.get("visible") is False:
            now[(None, None)] = ABSENT
        else:
            for entry in event.data.get("replicas") or ():
                if isinstance(entry, Sequence) and len(entry) >= 3:
                    shard, peer = _as_int(entry[0]), _as_int(entry[1])
                    if shard is not None and peer is not None:
                        replicas.add((shard, peer))
                        now[(shard, peer)] = str(entry[2])
        for key in [k for k in open_ if now.get(k) != open_[k][0]]:
            close(key, event.t_ns)
        for key, state in now.items():
            if key not in open_:
                open_[key] = (state, event.t_ns)
    for key in list(open_):
        close(key, end_ns)
    return CollectionRow(node, collection, tuple(sorted(replicas))), bands


def _bands(
    snapshots: Sequence[Observe], end_ns: int, collection_order: Sequence[str]
) -> tuple[list[CollectionRow], list[Band]]:
    series: dict[tuple[int | None, str], list[Observe]] = {}
    for event in snapshots:
        collection = event.data.get("collection")
        if isinstance(collection, str):
            series.setdefault((event.node, collection), []).append(event)
    order = {name: i for i, name in enumerate(collection_order)}
    rows: list[CollectionRow] = []
    bands: list[Band] = []
    for node, collection in sorted(
        series, key=lambda k: (k[0] or 0, order.get(k[1], len(order)), k[1])
    ):
        row, row_bands = _replica_bands(node, collection, series[(node, collection)], end_ns)
        rows.append(row)
        bands += row_bands
    bands.sort(key=lambda b: (b.start_ns, b.node or 0, b.collection, b.shard or 0))
    return rows, bands


_SEVERITY: Final = {"Dead": 4, "Partial": 3, "Initializing": 1, "Active": 0}


def _severity(state: str) -> int:
    return _SEVERITY.get(state, 2)


def summary_bands(bands: Sequence[Band]) -> list[Band]:
    """One observer's per-replica bands of one collection merged into worst-state periods.

    The state of a period is the worst replica state in it (Dead > Partial > other >
    Initializing > Active, or ``absent``); ``detail`` lists the replicas that are not Active.
    """
    if not bands:
        return []
    node, collection = bands[0].node, bands[0].collection
    cuts = sorted({b.start_ns for b in bands} | {b.end_ns for b in bands})
    out: list[Band] = []
    for a, b in itertools.pairwise(cuts):
        live = [x for x in bands if x.start_ns <= a and x.end_ns >= b]
        if not live:
            continue
        if any(x.state == ABSENT for x in live):
            state, detail = ABSENT, "not visible (404)"
        else:
            off = sorted(
                (x.shard or 0, x.replica_peer or 0, x.state) for x in live if x.state != "Active"
            )
            state = max((x.state for x in live), key=_severity)
            detail = "; ".join(f"shard {s} peer {p}: {st}" for s, p, st in off) or "all Active"
        last = out[-1] if out else None
        if last is not None and last.end_ns == a and (last.state, last.detail) == (state, detail):
            out[-1] = Band(node, collection, None, None, state, last.start_ns, b, detail)
        else:
            out.append(Band(node, collection, None, None, state, a, b, detail))
    return out


def _creates(ops: Sequence[OpPoint], snapshots: Sequence[Observe]) -> list[CreateMark]:
    first_visible: dict[str, dict[int, int]] = {}
    for event in snapshots:
        name = event.data.get("collection")
        if isinstance(name, str) and event.data.get("visible") is not False and event.node:
            first_visible.setdefault(name, {}).setdefault(event.node, event.t_ns)
    marks = []
    for op in ops:
        if op.op != "create_collection":
            continue
        name = op.args.collection or "?"  # "?": a history without typed fields
        visible = first_visible.get(name, {})
        marks.append(
            CreateMark(
                collection=name,
                op_id=op.op_id,
                worker=op.worker,
                node=op.node,
                sent_ns=op.invoked_ns,
                ack_ns=op.completed_ns,
                outcome=op.outcome,
                status=op.status,
                error=op.error,
                visible=tuple(sorted(visible.items())),
            )
        )
    return marks


def _lag(cluster: Sequence[Observe]) -> list[LagPoint]:
    latest: dict[int, tuple[int, int]] = {}
    points: list[LagPoint] = []
    for event in cluster:
        commit = _as_int(event.data.get("commit"))
        if event.node is None or commit is None:
            continue
        latest[event.node] = (commit, _as_int(event.data.get("pending_operations")) or 0)
        top = max(c for c, _ in latest.values())
        for node, (c, pending) in sorted(latest.items()):
            points.append(LagPoint(event.t_ns, node, top - c, c, pending))
    return points


def _log_marks(logs: Sequence[Observe]) -> list[LogMark]:
    marks = []
    for event in logs:
        level = str(event.data.get("level", ""))
        message = str(event.data.get("message", ""))
        if level == "WARN":
            kind: LogKind = "warn"
        elif level == "ERROR":
            kind = "error"
        elif _SELECTED.search(message):
            kind = "log"
        else:
            continue
        marks.append(
            LogMark(
                node=event.node,
                peer_id=event.peer_id,
                at_ns=_log_at(event),
                level=level,
                target=str(event.data.get("target", "")),
                message=message,
                kind=kind,
            )
        )
    return sorted(marks, key=lambda m: m.at_ns)


def _probe_errors(events: Sequence[Observe]) -> list[ProbeError]:
    out = []
    for event in events:
        data = event.data
        probe = str(data.get("probe", "?"))
        if data.get("collection"):
            probe = f"{probe} {data['collection']}"
        recovered = bool(data.get("recovered", False))
        text = "recovered" if recovered else str(data.get("error", ""))
        out.append(ProbeError(event.node, event.t_ns, probe, text, recovered))
    return out


def build_model(
    history: History,
    config: Mapping[str, Any],
    findings: Findings | None,
    notes: Sequence[str] = (),
) -> ReportModel:
    """Extract everything the report draws from one run (pure)."""
    start_mark = history.first_mark("run_start")
    start_data: Mapping[str, Any] = start_mark.data if start_mark is not None else {}
    nodes = _nodes(config, history)
    target = config.get("target") if isinstance(config.get("target"), Mapping) else {}
    assert isinstance(target, Mapping)
    target_node = _as_int(target.get("node")) or _as_int(start_data.get("target_node"))
    target_peer = _as_int(target.get("peer_id")) or _as_int(start_data.get("target_peer"))
    if target_peer is None and target_node is not None:
        target_peer = nodes.get(target_node)
    existing = start_data.get("existing_collection")
    existing = existing if isinstance(existing, str) else None
    new_collections = [c for c in start_data.get("new_collections") or () if isinstance(c, str)]
    known = ([existing] if existing else []) + new_collections

    ops = _ops(history)
    logs = history.observations(OBS_LOG)
    snapshots = history.observations(OBS_COLLECTION_CLUSTER)
    peer_node = {peer: node for node, peer in nodes.items() if peer is not None}
    log_marks = _log_marks(logs)

    times = [0, history.end_ns]
    times += [m.at_ns for m in log_marks]
    start_ns = min(times)
    slow_downs = [p for p in ops if p.op == "test_slow_down" and p.worker != PREFLIGHT_WORKER]
    windows = _windows(logs, slow_downs, peer_node, target_peer)
    end_ns = max([*times, *(w.end_ns for w in windows)])
    seen_order = list(known)
    for event in snapshots:
        name = event.data.get("collection")
        if isinstance(name, str) and name not in seen_order:
            seen_order.append(name)
    rows, bands = _bands(snapshots, end_ns, seen_order)

    lanes = [
        Lane(
            key=peer_lane_key(node),
            kind="peer",
            label=f"node {node}" + (f" · peer {peer}" if peer is not None else ""),
            node=node,
            peer_id=peer,
            target=node == target_node,
        )
        for node, peer in nodes.items()
    ]
    workers = sorted({p.worker for p in ops}, key=_worker_sort_key)
    lanes += [Lane(key=worker_lane_key(w), kind="worker", label=w, worker=w) for w in workers]

    status = config.get("status")
    return ReportModel(
        run_id=str(config.get("run_id") or start_data.get("run_id") or "?"),
        scenario=str(config.get("scenario") or start_data.get("scenario") or "?"),
        status=str(status) if status else "unknown",
        anchor_unix_ns=_as_int(config.get("anchor_unix_ns")),
        target_node=target_node,
        existing_collection=existing,
        start_ns=start_ns,
        end_ns=max(end_ns, start_ns + 1),
        lanes=tuple(lanes),
        windows=tuple(windows),
        rows=tuple(rows),
        bands=tuple(bands),
        ops=tuple(ops),
        creates=tuple(_creates(ops, snapshots)),
        logs=tuple(log_marks),
        lag=tuple(_lag(history.observations(OBS_CLUSTER))),
        phases=tuple(
            PhaseMark(str(m.data.get("phase", m.name)) if m.name == "phase" else m.name, m.t_ns)
            for m in history.events
            if isinstance(m, Mark) and m.name in ("phase", "converged", "run_end")
        ),
        probe_errors=tuple(_probe_errors(history.observations(OBS_PROBE_ERROR))),
        findings=findings,
        notes=tuple(notes),
    )


def throughput(
    points: Sequence[OpPoint], start_ns: int, end_ns: int, bin_ns: int
) -> tuple[list[float], dict[Outcome, list[float]]]:
    """Completions per second in bins of ``bin_ns`` by outcome: (bin starts in s, rates)."""
    count = max(1, -(-(end_ns - start_ns) // bin_ns))
    rates = {outcome: [0.0] * count for outcome in Outcome}
    for point in points:
        at = point.completed_ns if point.completed_ns is not None else point.invoked_ns
        i = min(count - 1, max(0, (at - start_ns) // bin_ns))
        rates[point.outcome][i] += 1e9 / bin_ns
    return [(start_ns + i * bin_ns) / 1e9 for i in range(count)], rates
