"""The lined-up timeline: what happened, on every node, on the one run clock.

Entries (``TimelineEntry.kind``):

* ``slow_down`` — the ``test_slow_down`` proposal sent and answered; per node, the
  ``TestSlowDown`` sleep started and finished (server log time);
* ``create`` / ``delete`` — each ``create_collection`` / ``delete_collection`` sent and
  answered, naming its collection (``args.collection``; ``?`` in histories without typed fields);
* ``visible`` — a new collection first seen on a node: the earlier of its first
  ``collection_cluster`` snapshot with ``visible: true`` and its ``Creating collection`` log line;
* ``state`` — replica state changes in one node's view: one entry per changed snapshot, replicas
  with the same transition grouped (``new_1: s0/p7, s1/p7 Initializing -> Active``); a
  collection's first snapshot on a node is its baseline, not a change;
* ``signature`` / ``warn`` / ``error`` — WARN lines that are user errors at apply time or
  ``Failed to update shard`` (``signature`` when a detector signature matched), ERROR lines, and any
  line a custom signature matched; identical lines of one node become one entry with a count;
* ``disruption`` — the first disruption of an existing collection's replica;
* ``write_fail`` — the first failed or unknown write of each worker;
* ``outage`` — a node first refusing connections, and answering again;
* ``phase`` / ``mark`` — driver marks.

Sorted by time, ties by history index. ``AnalysisInput.max_entries`` caps the length: the least
important entries (state changes, then plain WARNs, then visibility) are dropped, latest first,
and one ``more`` entry at the end says how many and of which kinds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final

from lagrace.analysis import logtexts
from lagrace.analysis.disruptions import collection_of, replica_rows
from lagrace.analysis.findings import (
    Disruption,
    Outage,
    SignatureHit,
    TimelineEntry,
    WriteSummary,
)
from lagrace.analysis.inputs import AnalysisInput
from lagrace.analysis.signatures import log_at_ns, log_message
from lagrace.analysis.writes import failed_at_ns, first_failure_per_worker
from lagrace.events import OBS_COLLECTION_CLUSTER, OBS_LOG, Complete, Invoke, Mark, OpArgs
from lagrace.history import History
from lagrace.timebase import NS_PER_MS

TEST_SLOW_DOWN: Final = "test_slow_down"
PREFLIGHT_WORKER: Final = "preflight"  # its calls only read (and probe for `staging`)
CREATE_COLLECTION: Final = "create_collection"
DELETE_COLLECTION: Final = "delete_collection"

# op -> timeline kind of its entries
_OPERATION_KINDS: Final = {
    TEST_SLOW_DOWN: "slow_down",
    CREATE_COLLECTION: "create",
    DELETE_COLLECTION: "delete",
}
# Lower = dropped first when the timeline is too long.
_PRIORITY: Final[dict[str, int]] = {
    "state": 0,
    "warn": 1,
    "visible": 2,
    "delete": 3,
    "write_fail": 4,
}
_NO_INDEX: Final = 1 << 62


def format_offset(t_ns: int) -> str:
    """A run-axis instant as ``+12.345 s`` (milliseconds, rounded)."""
    sign = "-" if t_ns < 0 else "+"
    total_ms = (abs(t_ns) + NS_PER_MS // 2) // NS_PER_MS
    return f"{sign}{total_ms // 1000}.{total_ms % 1000:03d} s"


def created_collections(history: History) -> tuple[str, ...]:
    """Collections named by ``create_collection`` invokes, in first-sent order."""
    names = (
        e.args.collection
        for e in history.events
        if isinstance(e, Invoke) and e.op == CREATE_COLLECTION
    )
    return tuple(dict.fromkeys(n for n in names if n is not None))


def _what(op: str, args: OpArgs) -> str:
    """``slow-down``, ``create new_1``, ``delete new_1``."""
    if op == TEST_SLOW_DOWN:
        return "slow-down"
    verb = "create" if op == CREATE_COLLECTION else "delete"
    return f"{verb} {args.collection or '?'}"


def _sent(op: str, args: OpArgs) -> str:
    """``slow-down proposed (peer 7, 5 s)``, ``create new_1 sent``."""
    if op != TEST_SLOW_DOWN:
        return f"{_what(op, args)} sent"
    if args.duration_s is None:
        return "slow-down proposed"  # a history without typed fields
    who = "every peer" if args.target_peer is None else f"peer {args.target_peer}"
    return f"slow-down proposed ({who}, {args.duration_s:g} s)"


def _outcome_text(event: Complete) -> str:
    parts = [event.outcome.value]
    if event.status is not None:
        parts.append(str(event.status))
    text = " ".join(parts)
    return f"{text}: {event.error}" if event.error else text


@dataclass(frozen=True, slots=True)
class _Item:
    entry: TimelineEntry
    order: int  # history index, or _NO_INDEX


def _entry(  # noqa: PLR0917  # mirrors TimelineEntry's positional fields plus the index
    at_ns: int, node: int | None, peer: int | None, kind: str, text: str, index: int | None
) -> _Item:
    return _Item(
        TimelineEntry(at_ns=at_ns, node=node, peer_id=peer, kind=kind, text=text, index=index),
        _NO_INDEX if index is None else index,
    )


def _operations(history: History, inp: AnalysisInput) -> list[_Item]:
    items: list[_Item] = []
    what: dict[int, str] = {}
    for event in history.events:
        if not isinstance(event, Invoke | Complete) or event.op not in _OPERATION_KINDS:
            continue
        if event.worker == PREFLIGHT_WORKER:
            continue  # the staging probe of a v1.16.x build is a read, not a slow-down
        peer = event.peer_id if event.peer_id is not None else inp.peer_of(event.node)
        kind = _OPERATION_KINDS[event.op]
        if isinstance(event, Invoke):
            what[event.op_id] = _what(event.op, event.args)
            text = _sent(event.op, event.args)
        else:
            verb = "acknowledged" if event.outcome.value == "ok" else "answered"
            text = f"{what.get(event.op_id, _what(event.op, OpArgs()))} {verb}"
            text += f" ({_outcome_text(event)})"
        items.append(_entry(event.t_ns, event.node, peer, kind, text, event.index))
    return items


def _is_warn_of_interest(level: str, message: str) -> bool:
    if level == "ERROR":
        return True
    return level == "WARN" and (
        message.startswith(logtexts.USER_ERROR_PREFIX)
        or logtexts.FAILED_UPDATE_SHARD.search(message) is not None
    )


def _logs(
    history: History, inp: AnalysisInput, signatures: Iterable[SignatureHit], new: set[str]
) -> list[_Item]:
    items: list[_Item] = []
    sig_lines = {(h.node, h.message) for h in signatures}
    # (node, message) -> [first entry, count, last at]
    repeated: dict[tuple[int | None, str], list[int]] = {}
    first_items: dict[tuple[int | None, str], _Item] = {}
    for event in history.observations(OBS_LOG):
        message, at = log_message(event), log_at_ns(event)
        level = event.data.get("level")
        level = level if isinstance(level, str) else ""
        peer = event.peer_id if event.peer_id is not None else inp.peer_of(event.node)
        sleeping = logtexts.SLOW_DOWN_SLEEPING.search(message)
        if sleeping is not None:
            items.append(
                _entry(
                    at,
                    event.node,
                    peer,
                    "slow_down",
                    f"slow-down started: sleeping {sleeping['ms']} ms",
                    event.index,
                )
            )
            continue
        if logtexts.SLOW_DOWN_FINISHED.search(message) is not None:
            items.append(
                _entry(at, event.node, peer, "slow_down", "slow-down finished", event.index)
            )
            continue
        creating = logtexts.CREATING_COLLECTION.search(message)
        if creating is not None and creating["collection"] in new:
            items.append(
                _entry(
                    at,
                    event.node,
                    peer,
                    "visible",
                    f"{creating['collection']} created here (log)",
                    event.index,
                )
            )
            continue
        is_sig = (event.node, message) in sig_lines
        if not is_sig and not _is_warn_of_interest(level, message):
            continue
        key = (event.node, message)
        if key in repeated:
            repeated[key][0] += 1
            repeated[key][1] = max(repeated[key][1], at)
            continue
        repeated[key] = [1, at]
        kind = "signature" if is_sig else ("error" if level == "ERROR" else "warn")
        first_items[key] = _entry(at, event.node, peer, kind, message, event.index)
    for key, item in first_items.items():
        count, last = repeated[key]
        if count > 1:
            text = f"{item.entry.text} [x{count}, last at {format_offset(last)}]"
            items.append(_Item(replace(item.entry, text=text), item.order))
        else:
            items.append(item)
    return items


def _views(history: History, inp: AnalysisInput, new: set[str]) -> list[_Item]:
    items: list[_Item] = []
    watched = set(inp.existing_collections) | new
    previous: dict[tuple[str, int | None], dict[tuple[int, int], str]] = {}
    for event in history.observations(OBS_COLLECTION_CLUSTER):
        name = collection_of(event)
        if name is None or name not in watched:
            continue
        rows = replica_rows(event.data)
        if rows is None:
            continue
        peer = event.peer_id if event.peer_id is not None else inp.peer_of(event.node)
        now = {(s, p): st for s, p, st in rows}
        before = previous.get((name, event.node))
        previous[(name, event.node)] = now
        if before is None:
            if name in new:
                states = ", ".join(f"{n} {st}" for st, n in _state_counts(now.values()))
                items.append(
                    _entry(
                        event.t_ns,
                        event.node,
                        peer,
                        "visible",
                        f"{name} visible ({states})",
                        event.index,
                    )
                )
            continue
        transitions: dict[tuple[str, str], list[str]] = {}
        for s, p in sorted(set(before) | set(now)):
            old, new_state = before.get((s, p), "(none)"), now.get((s, p), "(gone)")
            if old != new_state:
                transitions.setdefault((old, new_state), []).append(f"s{s}/p{p}")
        changes = [f"{', '.join(rs)} {old} -> {st}" for (old, st), rs in transitions.items()]
        if changes:
            items.append(
                _entry(
                    event.t_ns,
                    event.node,
                    peer,
                    "state",
                    f"{name}: " + "; ".join(changes),
                    event.index,
                )
            )
    return items


def _state_counts(states: Iterable[str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return sorted(counts.items())


def _first_visible_only(items: list[_Item]) -> list[_Item]:
    """Keep the earliest ``visible`` entry per (node, collection); the rest of the items as is."""
    best: dict[tuple[int | None, str], _Item] = {}
    others: list[_Item] = []
    for item in items:
        if item.entry.kind != "visible":
            others.append(item)
            continue
        name = item.entry.text.split(" ", 1)[0]
        key = (item.entry.node, name)
        if key not in best or (item.entry.at_ns, item.order) < (
            best[key].entry.at_ns,
            best[key].order,
        ):
            best[key] = item
    return others + list(best.values())


def _marks(history: History, inp: AnalysisInput) -> list[_Item]:
    items: list[_Item] = []
    for mark in history.events:
        if not isinstance(mark, Mark):
            continue
        if mark.name == "phase":
            items.append(
                _entry(
                    mark.t_ns,
                    None,
                    None,
                    "phase",
                    f"phase {mark.data.get('phase', '?')}",
                    mark.index,
                )
            )
        elif mark.name == "run_end":
            items.append(
                _entry(
                    mark.t_ns,
                    None,
                    None,
                    "mark",
                    f"run end: {mark.data.get('reason', '?')}",
                    mark.index,
                )
            )
        elif mark.name == "run_start":
            node = inp.target
            items.append(
                _entry(mark.t_ns, None, None, "mark", f"run start (target node {node})", mark.index)
            )
        else:
            items.append(_entry(mark.t_ns, None, None, "mark", mark.name, mark.index))
    return items


def _first_disruption(disruptions: Iterable[Disruption]) -> list[_Item]:
    first = min(disruptions, key=lambda d: (d.first_ns, d.observer_node or 0), default=None)
    if first is None:
        return []
    text = (
        f"first disruption: {first.collection} shard {first.shard} replica {first.replica_peer} "
        f"Active -> {first.state} in node {first.observer_node}'s view"
    )
    return [
        _entry(first.first_ns, first.observer_node, first.observer_peer, "disruption", text, None)
    ]


def _write_failures(writes: WriteSummary, inp: AnalysisInput) -> list[_Item]:
    items = []
    for f in first_failure_per_worker(writes):
        status = f" {f.status}" if f.status is not None else ""
        error = f": {f.error}" if f.error else ""
        text = f"first failed write of {f.worker} ({f.outcome}{status}{error})"
        items.append(_entry(failed_at_ns(f), f.node, inp.peer_of(f.node), "write_fail", text, None))
    return items


def _outages(outages: Iterable[Outage]) -> list[_Item]:
    items = []
    for o in outages:
        items.append(
            _entry(
                o.first_refused_ns,
                o.node,
                o.peer_id,
                "outage",
                f"node {o.node} refuses connections ({o.refused} call(s) refused): a peer down",
                None,
            )
        )
        if o.until_ns is not None:
            items.append(
                _entry(
                    o.until_ns, o.node, o.peer_id, "outage", f"node {o.node} answers again", None
                )
            )
    return items


def _sort_key(item: _Item) -> tuple[int, int]:
    return (item.entry.at_ns, item.order)


def _cap(items: list[_Item], max_entries: int) -> list[TimelineEntry]:
    if len(items) <= max_entries:
        return [i.entry for i in items]
    keep_n = max(max_entries - 1, 0)
    ranked = sorted(
        range(len(items)),
        key=lambda k: (
            _PRIORITY.get(items[k].entry.kind, 9),
            -items[k].entry.at_ns,
            -items[k].order,
        ),
    )
    dropped = set(ranked[: len(items) - keep_n])
    kinds: dict[str, int] = {}
    for k in sorted(dropped):
        kinds[items[k].entry.kind] = kinds.get(items[k].entry.kind, 0) + 1
    kept = [items[k].entry for k in range(len(items)) if k not in dropped]
    what = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
    more = TimelineEntry(
        at_ns=items[-1].entry.at_ns,
        node=None,
        peer_id=None,
        kind="more",
        text=f"... {len(dropped)} more entries not shown ({what})",
    )
    return [*kept, more]


def build_timeline(
    history: History,
    inp: AnalysisInput,
    *,
    signatures: Iterable[SignatureHit] = (),
    disruptions: Iterable[Disruption] = (),
    writes: WriteSummary | None = None,
    outages: Iterable[Outage] = (),
    max_entries: int | None = None,
) -> tuple[TimelineEntry, ...]:
    """The lined-up timeline (module doc), at most ``max_entries`` (default from ``inp``) long."""
    new = set(inp.new_collections) | set(created_collections(history))
    items = [
        *_operations(history, inp),
        *_logs(history, inp, signatures, new),
        *_views(history, inp, new),
        *_marks(history, inp),
        *_first_disruption(disruptions),
        *(_write_failures(writes, inp) if writes is not None else ()),
        *_outages(outages),
    ]
    items = sorted(_first_visible_only(items), key=_sort_key)
    limit = inp.max_timeline_entries if max_entries is None else max_entries
    return tuple(_cap(items, limit))
