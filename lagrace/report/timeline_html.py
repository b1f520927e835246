"""``index.html``: the verdict, the findings and the zoomable timeline, as one self-contained page.

Pure: :func:`format_report_html` turns a :class:`~lagrace.report.model.ReportModel` into a
string. The timeline is inline SVG drawn here (so the page shows its lanes even without
script); :mod:`lagrace.report.timeline_assets` holds the inline CSS and the script that
re-places elements on zoom/pan and shows hover texts. The model is also embedded as JSON in
``<script type="application/json" id="report-data">``.

Stable hooks for tests and people: ``.lane[data-lane="peer-2"]``,
``.lane[data-lane="worker-hammer-0"]``,
``.window`` (slow-down), ``.band[data-state][data-collection][data-node]`` (``.band.replica``
per replica of the existing collection, ``.band.summary`` worst state of a created one,
``.band.absent`` not visible),
``.marker.warn`` / ``.error`` / ``.log`` / ``.probe`` / ``.create.sent|ack|visible``,
``.point.ok|fail|info`` (upserts), ``.op`` (other operations), ``.bin.ok|fail|info`` (a busy
lane's operations aggregated per period, :func:`~lagrace.report.model.split_dense`), ``.phase``,
``#verdict``,
``#disruptions``, ``#signatures``. Every string from the run is HTML-escaped.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from html import escape
from typing import Any, Final

from lagrace.analysis.findings import Findings
from lagrace.events import Outcome
from lagrace.report.model import (
    ABSENT,
    Band,
    CollectionRow,
    Lane,
    OpBin,
    ReportModel,
    drawn_ops,
    is_watcher,
    lane_bins,
    lane_kept_failures,
    peer_lane_key,
    split_dense,
    summary_bands,
    worker_lane_key,
)
from lagrace.report.timeline_assets import CSS, JS, OTHER_STATE_COLOUR, STATE_COLOURS
from lagrace.timebase import format_rfc3339

NOMINAL_WIDTH: Final = 1400  # initial placement before the script measures the page
LABEL_WIDTH: Final = 210
RIGHT_PAD: Final = 14
AXIS_HEIGHT: Final = 26
LANE_GAP: Final = 8
HEADER_STRIP: Final = 18  # peer lanes: markers above the replica rows
ROW_GAP: Final = 3
UPSERT_LANE: Final = 96
REPLICA_STRIPE: Final = 4  # px per replica of the existing collection
SUMMARY_ROW: Final = 12  # px of a created collection's worst-state band
PLAIN_LANE: Final = 24
PHASE_LABEL: Final = 12  # phase names under the lanes, on two alternating lines
_MAX_JS_INT: Final = 2**53


def _a(**attrs: object) -> str:
    """Escaped attributes; ``data_x`` becomes ``data-x``, ``cls`` becomes ``class``."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = "class" if key == "cls" else key.replace("_", "-")
        parts.append(f'{name}="{escape(str(value), quote=True)}"')
    return " ".join(parts)


def _el(tag: str, text: str | None = None, /, **attrs: object) -> str:
    """One SVG/HTML element; ``text`` (escaped) makes it non-empty."""
    if text is None:
        return f"<{tag} {_a(**attrs)}/>"
    return f"<{tag} {_a(**attrs)}>{escape(text)}</{tag}>"


def _span(sc: _Scale, start_ns: int, end_ns: int) -> dict[str, object]:
    """Data and initial x/width attributes of an element spanning [start, end]."""
    return {
        "data_t0": _s(start_ns),
        "data_t1": _s(end_ns),
        "x": sc.x(start_ns),
        "width": max(1.0, sc.x(end_ns) - sc.x(start_ns)),
    }


def _s(ns: int) -> str:
    """Nanoseconds on the run axis as seconds for data attributes (µs precision)."""
    return f"{ns / 1e9:.6f}"


def _ts(ns: int | None) -> str:
    """Human seconds with ms precision."""
    return "—" if ns is None else f"{ns / 1e9:.3f} s"


def _ms(ns: int | None) -> str:
    return "—" if ns is None else f"{ns / 1e6:.1f} ms"


@dataclass(frozen=True, slots=True)
class _Scale:
    start_ns: int
    end_ns: int

    def x(self, ns: int) -> float:
        span = NOMINAL_WIDTH - LABEL_WIDTH - RIGHT_PAD
        return round(LABEL_WIDTH + (ns - self.start_ns) / (self.end_ns - self.start_ns) * span, 2)


def _state_fill(state: str) -> str:
    return STATE_COLOURS.get(state, OTHER_STATE_COLOUR)


def _safe_json(value: Any) -> Any:
    """Integers JavaScript cannot hold exactly (peer ids are u64) become strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) >= _MAX_JS_INT else value
    if isinstance(value, dict):
        return {k: _safe_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe_json(v) for v in value]
    return value


def embed_json(obj: Any) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(_safe_json(obj), separators=(",", ":"), ensure_ascii=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# ---------------------------------------------------------------------------- header, findings


def _header(model: ReportModel) -> str:
    findings = model.findings
    verdict = findings.verdict.value if findings is not None else "none"
    label = findings.verdict.label if findings is not None else "no findings"
    anchor = format_rfc3339(model.anchor_unix_ns, 3) if model.anchor_unix_ns is not None else "?"
    meta = [
        ("run", model.run_id),
        ("scenario", model.scenario),
        ("status", model.status),
        ("origin", anchor),
        ("span", f"{_ts(model.start_ns)} to {_ts(model.end_ns)}"),
        ("target", f"node {model.target_node}" if model.target_node is not None else "?"),
        ("existing collection", model.existing_collection or "?"),
    ]
    if findings is not None and findings.cluster:
        meta.append(("cluster", findings.cluster))
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in model.notes)
    return (
        f"<header><h1>lagrace report — {escape(model.scenario)} "
        f'<span class="meta">{escape(model.run_id)}</span></h1>'
        f'<div><span id="verdict" {_a(cls="verdict", data_verdict=verdict)}>{escape(label)}</span>'
        f"</div>"
        f'<div class="meta">{"".join(f"<span>{escape(k)}: {escape(v)}</span>" for k, v in meta)}'
        f'</div><div id="notes">{notes}</div>'
        f'<div id="js-errors" class="note" style="display:none"></div></header>'
    )


def _table(table_id: str, head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{table_id}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


_LAG_HEAD: Final = ("peer", "max gap", "max age", "send fail", "slept", "stalled")
_DISRUPTION_HEAD: Final = (
    "collection",
    "shard",
    "replica",
    "seen by",
    "states",
    "from",
    "back Active",
    "for",
)


def _findings(findings: Findings | None) -> str:
    if findings is None:
        return (
            '<section id="findings"><h2>Findings</h2><p>No findings: the run directory has no '
            "usable findings.json (see the notes above). The timeline shows what was recorded."
            "</p></section>"
        )
    reasons = "".join(f"<li>{escape(r)}</li>" for r in findings.reasons) or "<li>(none)</li>"
    counts = Counter(h.signature for h in findings.signatures)
    sig_rows = [
        (
            escape(sig),
            f'<span class="num">{n}</span>',
            escape(
                ", ".join(sorted({str(h.node) for h in findings.signatures if h.signature == sig}))
            ),
            escape(_ts(min(h.at_ns for h in findings.signatures if h.signature == sig))),
        )
        for sig, n in sorted(counts.items())
    ]
    dis_rows = [
        (
            escape(d.collection),
            str(d.shard),
            str(d.replica_peer),
            escape(f"node {d.observer_node}" if d.observer_node is not None else "?"),
            escape(" → ".join((*d.states, "Active" if d.back_active_ns is not None else "…"))),
            escape(_ts(d.first_ns)),
            escape(_ts(d.back_active_ns) if d.back_active_ns is not None else "never"),
            escape(_ms(d.duration_ns)),
        )
        for d in findings.disruptions
    ]
    lag_rows = [
        (
            escape(f"node {p.node}"),
            str(p.max_commit_gap),
            f"{p.max_last_update_age_ms:.0f} ms",
            str(p.max_send_failures),
            escape(f"{_ts(p.slept_from_ns)} to {_ts(p.slept_until_ns)}"),
            "yes" if p.stalled else "no",
        )
        for p in findings.lag
    ]
    w = findings.writes
    return (
        '<section id="findings"><h2>Findings</h2><div class="findings">'
        f'<div><h2>Reasons</h2><ul id="reasons">{reasons}</ul>'
        f"<p>lag took hold: {'yes' if findings.lag_took_hold else 'no'} · converged: "
        f"{'yes' if findings.converged else 'no'} · first disruption: "
        f"{escape(_ts(findings.first_disruption_ns))}</p>"
        f'<p id="writes">writes to the existing collection: {w.total} total, {w.ok} ok, '
        f"{w.fail} fail, {w.info} unknown</p></div>"
        f"<div><h2>Signatures</h2>"
        f"{_table('signatures', ('signature', 'count', 'nodes', 'first'), sig_rows)}</div>"
        f"<div><h2>Lag</h2>"
        f"{_table('lag', _LAG_HEAD, lag_rows)}</div>"
        f"<div><h2>Disruptions</h2>{_table('disruptions', _DISRUPTION_HEAD, dis_rows)}</div>"
        "</div></section>"
    )


def _legend() -> str:
    items = [(f"background:{c}", s) for s, c in STATE_COLOURS.items()]
    items += [
        (f"background:{OTHER_STATE_COLOUR}", "other state"),
        ("background:repeating-linear-gradient(45deg,#ccc 0 2px,#fff 2px 5px)", "not visible"),
        ("background:#ffd54f", "slow-down"),
        ("background:#ff9800", "WARN"),
        ("background:#2e7d32", "ok"),
        ("background:#d62728", "fail"),
        ("background:#7b1fa2", "unknown"),
    ]
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="{style}"></i>{escape(text)}</span>' for style, text in items)
        + "</div>"
    )


def _controls() -> str:
    return (
        '<div class="controls">'
        '<button id="zoom-in" type="button" title="zoom in">+</button>'
        '<button id="zoom-out" type="button" title="zoom out">&minus;</button>'
        '<button id="zoom-reset" type="button">reset</button>'
        '<button id="zoom-race" type="button">fit slow-down</button>'
        '<span id="view-range"></span>'
        f"{_legend()}</div>"
    )


# ---------------------------------------------------------------------------- timeline lanes


def _lane_height(model: ReportModel, lane: Lane) -> int:
    if lane.kind == "peer":
        rows = [r for r in model.rows if r.node == lane.node]
        return HEADER_STRIP + sum(_row_height(model, r) + ROW_GAP for r in rows) + 4
    if any(p.op == "upsert" and p.worker == lane.worker for p in model.ops):
        return UPSERT_LANE
    return PLAIN_LANE


def _per_replica(model: ReportModel, row: CollectionRow) -> bool:
    """The existing collection gets a stripe per replica; created ones one summary band."""
    return row.collection == model.existing_collection and bool(row.replicas)


def _row_height(model: ReportModel, row: CollectionRow) -> int:
    return REPLICA_STRIPE * len(row.replicas) if _per_replica(model, row) else SUMMARY_ROW


def _peer_lane(
    model: ReportModel, lane: Lane, sc: _Scale, height: int
) -> tuple[list[str], list[str]]:
    """(labels for the label column, elements for the plot) of one peer lane."""
    out: list[str] = []
    for w in model.windows:
        if w.node != lane.node:
            continue
        end = "" if w.finished_seen else " (end from the duration)"
        tip = (
            f"slow-down of node {w.node} (peer {w.peer_id}): {_ts(w.start_ns)} → "
            f"{_ts(w.end_ns)}{end}\n"
            + ("from the TestSlowDown log lines" if w.source == "log" else
               "derived from the test_slow_down operation (no TestSlowDown log lines)")
        )  # fmt: skip
        out.append(
            _el(
                "rect",
                cls=f"window {w.source}",
                data_node=w.node,
                data_source=w.source,
                **_span(sc, w.start_ns, w.end_ns),
                y=0,
                height=height,
                data_tip=tip,
            )
        )
    y = HEADER_STRIP
    labels: list[str] = []
    for row in (r for r in model.rows if r.node == lane.node):
        h = _row_height(model, row)
        labels.append(
            _el(
                "text",
                _short(row.collection),
                cls="row-label",
                x=LABEL_WIDTH - 6,
                y=y + h / 2 + 3,
                text_anchor="end",
            )
        )
        mine = [b for b in model.bands if b.node == lane.node and b.collection == row.collection]
        detailed = _per_replica(model, row)
        out += [
            _band(sc, row, b, y=y, h=h, detailed=detailed)
            for b in (mine if detailed else summary_bands(mine))
        ]
        y += h + ROW_GAP
    my = HEADER_STRIP / 2
    for c in model.creates:
        for node, at in c.visible:
            if node != lane.node:
                continue
            tip = (
                f"{c.collection} visible on node {node} at {_ts(at)} "
                f"({_ms(at - c.sent_ns)} after it was sent)"
            )
            out.append(
                _marker(
                    "marker create visible",
                    at,
                    my,
                    "M0,-6L5,3L-5,3Z",
                    tip,
                    collection=c.collection,
                )
            )
    for p in model.probe_errors:
        if p.node != lane.node:
            continue
        cls = "marker probe recovered" if p.recovered else "marker probe"
        tip = f"probe {p.probe} of node {p.node}: {p.text}"
        out.append(_marker(cls, p.t_ns, my, "M-4,-4L4,4M4,-4L-4,4", tip))
    for m in model.logs:
        if m.node != lane.node:
            continue
        tip = f"node {m.node} {m.level} {m.target}: {m.message}"
        shape = "M0,-6L5,0L0,6L-5,0Z" if m.kind != "log" else "M-1.5,-6h3v12h-3Z"
        out.append(_marker(f"marker {m.kind}", m.at_ns, my, shape, tip))
    return labels, out


def _band(sc: _Scale, row: CollectionRow, b: Band, *, y: int, h: int, detailed: bool) -> str:
    """One state period: a replica's stripe, or the whole row (summary or not visible)."""
    top, height = float(y), float(h)
    if b.state == ABSENT:
        who = "collection not visible (404)"
    elif b.shard is not None and b.replica_peer is not None:
        top = y + row.replicas.index((b.shard, b.replica_peer)) * REPLICA_STRIPE
        height = REPLICA_STRIPE
        who = f"shard {b.shard} · replica on peer {b.replica_peer}: {b.state}"
    else:
        who = f"{b.state} ({b.detail})"
    tip = (
        f"{b.collection} — {who}\nseen by node {b.node}: "
        f"{_ts(b.start_ns)} → {_ts(b.end_ns)} ({_ms(b.end_ns - b.start_ns)})"
    )
    kind = "replica" if detailed and b.shard is not None else "summary"
    return _el(
        "rect",
        cls="band absent" if b.state == ABSENT else f"band {kind} s-{b.state}",
        fill=None if b.state == ABSENT else _state_fill(b.state),
        data_state=b.state,
        data_collection=b.collection,
        data_node=b.node,
        data_shard=b.shard,
        data_replica=b.replica_peer,
        **_span(sc, b.start_ns, b.end_ns),
        y=round(top, 2),
        height=round(height, 2),
        data_tip=tip,
    )


def _short(name: str, limit: int = 30) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _marker(cls: str, at: int, y: float, d: str, tip: str, *, collection: str | None = None) -> str:
    """A path drawn around (0, 0), placed at (time, ``y``) by a transform."""
    return _el(
        "path",
        cls=cls,
        d=d,
        data_collection=collection,
        data_t0=_s(at),
        data_y=y,
        transform=f"translate(0,{y})",
        data_tip=tip,
    )


def _latency_y(latency_ns: int, top_ns: int, height: int) -> float:
    lo, hi = math.log10(1e6), math.log10(max(top_ns, 10_000_000))
    frac = (math.log10(max(latency_ns, 1_000_000)) - lo) / (hi - lo)
    return round(height - 6 - frac * (height - 12), 2)


def _bin(b: OpBin, sc: _Scale, top: int, height: int) -> str:
    """An aggregated bin: a bar over its period from the min to the max latency (failures
    that never completed at the top), its count, median and commonest errors in the tip."""
    tip = (
        f"{b.count} {b.op} {b.outcome.value}, sent {_ts(b.start_ns)} → {_ts(b.end_ns)}\n"
        f"latency min {_ms(b.min_ns)}, median {_ms(b.p50_ns)}, max {_ms(b.max_ns)}"
        + "".join(f"\n{n} x {text}" for text, n in b.errors)
    )
    if b.op == "upsert":
        low = b.min_ns if b.min_ns is not None else top
        y0, y1 = _latency_y(b.max_ns or top, top, height), _latency_y(low, top, height)
    else:
        y0, y1 = height / 2 - 2, height / 2 + 2
    return _el(
        "rect",
        cls=f"bin {b.outcome.value}",
        data_op=b.op,
        data_outcome=b.outcome.value,
        data_count=b.count,
        data_p50_ms=None if b.p50_ns is None else f"{b.p50_ns / 1e6:.3f}",
        **_span(sc, b.start_ns, b.end_ns),
        y=round(y0 - 1, 2),
        height=round(max(2.0, y1 - y0 + 2), 2),
        data_tip=tip,
    )


def _worker_lane(
    model: ReportModel, lane: Lane, sc: _Scale, height: int
) -> tuple[list[str], list[str]]:
    """(labels for the label column, elements for the plot) of one worker lane."""
    out: list[str] = []
    every = [p for p in model.ops if p.worker == lane.worker]
    upserts = [p for p in every if p.op == "upsert"]
    top = max((p.latency_ns or 0 for p in upserts), default=0)
    points, bins = split_dense(
        every,
        model.start_ns,
        model.end_ns,
        run_ops=len(model.ops),
        bins=lane_bins(model),
        keep=lane_kept_failures(model),
    )
    watcher = is_watcher(lane.worker or "")
    out += [_bin(b, sc, top, height) for b in bins if not watcher or b.outcome is not Outcome.OK]
    labels: list[str] = []
    if upserts:
        for ms in (1, 10, 100, 1000, 10000):
            if ms * 1_000_000 > max(top, 10_000_000) * 1.01:
                break
            y = _latency_y(ms * 1_000_000, top, height)
            text = f"{ms} ms" if ms < 1000 else f"{ms // 1000} s"
            labels.append(
                _el("text", text, cls="ytick", x=LABEL_WIDTH - 6, y=y + 3, text_anchor="end")
            )
    creates = {c.op_id: c for c in model.creates}
    for p in points:
        if is_watcher(p.worker) and p.outcome is Outcome.OK:
            continue
        tip = (
            f"{p.op} #{p.op_id} → node {p.node}: {p.outcome.value}"
            + (f" ({p.args.collection})" if p.args.collection else "")
            + (f" (HTTP {p.status})" if p.status is not None else "")
            + f"\nsent {_ts(p.invoked_ns)}, latency {_ms(p.latency_ns)}"
            + (f"\nerror: {p.error}" if p.error else "")
            + (f"\nrequest: {p.request}" if p.request else "")
        )
        end = p.completed_ns if p.completed_ns is not None else model.end_ns
        if p.op == "upsert":
            y = _latency_y(p.latency_ns if p.latency_ns is not None else top, top, height)
            latency = None if p.latency_ns is None else f"{p.latency_ns / 1e6:.3f}"
            out.append(
                _el(
                    "circle",
                    cls=f"point {p.outcome.value}",
                    r=2.6,
                    cx=sc.x(p.invoked_ns),
                    cy=y,
                    data_t0=_s(p.invoked_ns),
                    data_op=p.op_id,
                    data_outcome=p.outcome.value,
                    data_latency_ms=latency,
                    data_tip=tip,
                )
            )
            continue
        y = height / 2
        out.append(
            _el(
                "line",
                cls=f"op {p.outcome.value}",
                data_op=p.op_id,
                data_name=p.op,
                x1=sc.x(p.invoked_ns),
                x2=sc.x(end),
                y1=y,
                y2=y,
                data_t0=_s(p.invoked_ns),
                data_t1=_s(end),
                data_tip=tip,
            )
        )
        if (c := creates.get(p.op_id)) is not None:
            sent = f"create {c.collection} sent to node {c.node} at {_ts(c.sent_ns)}"
            out.append(
                _marker(
                    "marker create sent",
                    c.sent_ns,
                    y,
                    "M-4,-5L4,0L-4,5Z",
                    sent,
                    collection=c.collection,
                )
            )
            if c.ack_ns is not None:
                ack = (
                    f"create {c.collection} acknowledged: {c.outcome.value}"
                    f"{f' (HTTP {c.status})' if c.status is not None else ''} at {_ts(c.ack_ns)}"
                    f" after {_ms(c.ack_ns - c.sent_ns)}"
                    + (f"\nerror: {c.error}" if c.error else "")
                    + "\nvisible: "
                    + (", ".join(f"node {n} {_ts(t)}" for n, t in c.visible) or "nowhere")
                )
                out.append(
                    _marker(
                        f"marker create ack {c.outcome.value}",
                        c.ack_ns,
                        y,
                        "M-4,-4h8v8h-8Z",
                        ack,
                        collection=c.collection,
                    )
                )
    return labels, out


def _timeline(model: ReportModel) -> tuple[str, int]:
    sc = _Scale(model.start_ns, model.end_ns)
    plot_w = NOMINAL_WIDTH - LABEL_WIDTH - RIGHT_PAD
    y = AXIS_HEIGHT
    lanes_svg: list[str] = []
    labels_svg: list[str] = []
    for lane in model.lanes:
        h = _lane_height(model, lane)
        draw = _peer_lane if lane.kind == "peer" else _worker_lane
        inner_labels, content = draw(model, lane, sc, h)
        label = lane.label + (" (target)" if lane.target else "")
        label_cls = "lane-label target" if lane.target else "lane-label"
        title = _el("text", label, cls=label_cls, x=8, y=14)
        labels_svg.append(
            f"<g {_a(transform=f'translate(0,{y})')}>{title}{''.join(inner_labels)}</g>"
        )
        lane_attrs = _a(
            cls="lane",
            data_lane=lane.key,
            data_kind=lane.kind,
            data_node=lane.node,
            data_worker=lane.worker,
            data_target="1" if lane.target else None,
            transform=f"translate(0,{y})",
        )
        background = _el("rect", cls="lane-bg", x=LABEL_WIDTH, y=0, width=plot_w, height=h)
        lanes_svg.append(f"<g {lane_attrs}>{background}{''.join(content)}</g>")
        y += h + LANE_GAP
    total = y + 4 + 2 * PHASE_LABEL
    phase_line = _el("line", cls="phase", x1=0, x2=0, y1=AXIS_HEIGHT - 4, y2=y)
    phases = "".join(
        f"<g {_a(cls='phase-mark', data_t0=_s(p.t_ns), data_y=0)} "
        f'transform="translate({sc.x(p.t_ns)},0)">{phase_line}'
        f"{_el('text', p.name, cls='phase-label', x=3, y=y + PHASE_LABEL * (1 + i % 2))}</g>"
        for i, p in enumerate(model.phases)
    )
    svg = (
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" '
        f"{_a(viewBox=f'0 0 {NOMINAL_WIDTH} {total}', height=total)}>"
        "<defs>"
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f4f6"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#c3c8cf" stroke-width="2"/></pattern>'
        f'<clipPath id="plot-clip"><rect id="plot-clip-rect" '
        f"{_a(x=LABEL_WIDTH, y=0, width=plot_w, height=total)}/></clipPath></defs>"
        f'<g id="axis"></g>'
        f'<g id="labels">{"".join(labels_svg)}</g>'
        f'<g id="plot" clip-path="url(#plot-clip)">{"".join(lanes_svg)}{phases}</g>'
        f'<line id="cursor" {_a(x1=0, x2=0, y1=AXIS_HEIGHT - 4, y2=total, visibility="hidden")}/>'
        "</svg>"
    )
    return svg, total


def _focus(model: ReportModel) -> list[float] | None:
    """The view of the "fit slow-down" button: the windows plus the disruptions, padded."""
    starts = [w.start_ns for w in model.windows]
    ends = [w.end_ns for w in model.windows]
    if model.findings is not None:
        for d in model.findings.disruptions:
            starts.append(d.first_ns)
            ends.append(d.back_active_ns if d.back_active_ns is not None else d.first_ns)
    if not starts:
        return None
    a, b = min(starts), max(ends)
    pad = max((b - a) // 10, 200_000_000)
    return [(a - pad) / 1e9, (b + pad) / 1e9]


def report_data(model: ReportModel, height: int) -> dict[str, Any]:
    """The JSON embedded in the page: the whole model plus extent and layout."""
    data = asdict(model)
    kept, bins = drawn_ops(model)
    data["ops"] = [asdict(p) for p in kept]  # dense lanes: the ok ones are in op_bins
    # as on the page: the watchers' ok polls are not drawn (they are in trace.json)
    data["op_bins"] = [
        asdict(b) for b in bins if not is_watcher(b.worker) or b.outcome is not Outcome.OK
    ]
    data["extent"] = {"start_s": model.start_ns / 1e9, "end_s": model.end_ns / 1e9}
    data["layout"] = {"label_width": LABEL_WIDTH, "right_pad": RIGHT_PAD, "height": height}
    data["focus"] = _focus(model)
    data["lane_keys"] = {
        "peers": [peer_lane_key(lane.node) for lane in model.lanes if lane.kind == "peer"],
        "workers": [worker_lane_key(lane.worker or "") for lane in model.lanes if lane.worker],
    }
    return data


def format_report_html(model: ReportModel) -> str:
    """The whole self-contained ``index.html``."""
    svg, height = _timeline(model)
    title = f"lagrace report — {model.scenario} {model.run_id}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        '<body data-ready="0">'
        f"{_header(model)}{_findings(model.findings)}{_controls()}"
        f'<div id="timeline-wrap">{svg}</div><div id="tip"></div>'
        f'<script type="application/json" id="report-data">{embed_json(report_data(model, height))}'
        f"</script><script>{JS}</script></body></html>\n"
    )
