"""Detector (f): the causal chain of the lock pile-up (notes §4.8), in order, with times.

The race on Qdrant up to v1.16.x is a cycle on one peer's table of contents (ToC): a
strong-ordering write that entered the peer holds a ToC read guard while the ordering leader
fans it back out to that same peer; the peer's apply loop, applying ``CreateCollection``,
queues the ToC write lock behind it; the leader's fan-out needs a new read guard, which waits
behind the queued writer. Nothing moves until Qdrant's internal gRPC calls time out. What a
driver can see of it, each read here from the history alone:

* **apply stall** (:class:`ApplyStall`): a peer whose apply loop stays inside one entry
  (``Applying committed entry with index N`` with neither ``Successfully applied ... Index: N``
  nor the user-error WARN that takes its place for a refused entry) for
  at least :data:`STALL_MIN_NS`, not counting the sleep of a ``test_slow_down`` (that is the lag,
  not a stall); without DEBUG apply lines, a peer whose ``GET /cluster`` commit stays put while
  the leader's advances, outside its slow-down;
* **request freeze** (:class:`RequestFreeze`): that peer's calls that need its ToC
  (:data:`TOC_OPS`: upserts, collection reads, ``/telemetry``) hang for at least
  :data:`FREEZE_MIN_NS` while its
  ``GET /cluster`` still answers;
* **coordinator failures** (:class:`CoordinatorFailure`): ``Failed to update shard C:S on peer
  P ... Timeout expired``, ``Failed to apply update with Strong ordering via leader peer P``,
  ``Deactivating peer P``, ``Notify peer failure: P``.

:func:`narrate` tells the chain in order (wake, create applied, stall, timeouts, replicas
Dead, recovery) and names the mechanism only when its evidence is there: a stall on a
``Creating``/``Deleting collection`` entry *and* coordinators' timeouts towards that peer.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from lagrace.analysis import logtexts
from lagrace.analysis.findings import (
    ApplyStall,
    CoordinatorFailure,
    Disruption,
    PeerLag,
    RequestFreeze,
    TimelineEntry,
)
from lagrace.analysis.inputs import AnalysisInput
from lagrace.analysis.signatures import log_at_ns, log_message
from lagrace.events import OBS_CLUSTER, OBS_LOG
from lagrace.history import History, Operation
from lagrace.timebase import NS_PER_S

STALL_MIN_NS: Final = 3 * NS_PER_S  # an entry applied this slowly is a stall, not a slow apply
FREEZE_MIN_NS: Final = 4 * NS_PER_S  # a call needing the ToC that hangs this long is frozen
# Calls whose hang shows a frozen table of contents: they need a ToC read guard and nothing
# else slow. Meta operations (create, delete, cluster operations, slow-downs) are left out: they
# wait for consensus by design (a create waits ~20 s for a lagging peer, notes §5).
TOC_OPS: Final = frozenset(
    {
        "upsert",
        "collection_cluster",
        "collection_info",
        "get_collection",
        "collection_exists",
        "list_collections",
        "count_points",
        "telemetry",
    }
)
_META_ENTRY: Final = re.compile(r"^(Creating|Deleting) collection (?P<collection>\S+)")

KIND_UPDATE_FAILED: Final = "update_failed"
KIND_FORWARD_FAILED: Final = "forward_failed"
KIND_DEACTIVATING: Final = "deactivating"
KIND_NOTIFY: Final = "notify"


def _fmt_s(ns: int) -> str:
    return f"+{ns / NS_PER_S:.1f} s"


def _dur(ns: int) -> str:
    return f"{ns / NS_PER_S:.1f} s"


# -- apply stalls -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    index: int
    from_ns: int
    operation: str = ""
    slow_down: bool = False


def _log_stalls(history: History, inp: AnalysisInput, end_ns: int) -> list[ApplyStall]:
    open_by_node: dict[int | None, _Open] = {}
    peers: dict[int | None, int | None] = {}
    stalls: list[ApplyStall] = []

    def close(node: int | None, entry: _Open, until: int | None) -> None:
        stop = end_ns if until is None else until
        if entry.slow_down or stop - entry.from_ns < STALL_MIN_NS:
            return
        stalls.append(
            ApplyStall(
                node=node,
                peer_id=peers.get(node) or inp.peer_of(node),
                entry=entry.index,
                operation=entry.operation,
                from_ns=entry.from_ns,
                until_ns=until,
                source="log",
            )
        )

    for event in history.observations(OBS_LOG):
        message = log_message(event)
        at = log_at_ns(event)
        node = event.node
        peers.setdefault(node, event.peer_id)
        applying = logtexts.APPLYING_ENTRY.search(message)
        if applying is not None:
            previous = open_by_node.pop(node, None)
            if previous is not None:  # an Applying without its Successfully: it ended here
                close(node, previous, at)
            open_by_node[node] = _Open(int(applying.group("index")), at)
            continue
        current = open_by_node.get(node)
        if current is None:
            continue
        applied = logtexts.APPLIED_ENTRY.search(message)
        if applied is not None:
            if int(applied.group("index")) == current.index:
                del open_by_node[node]
                close(node, current, at)
            continue
        if message.startswith(logtexts.USER_ERROR_PREFIX):
            # an entry refused with a user error is applied all the same, with this WARN in
            # place of its "Successfully applied" line (notes §4.2)
            del open_by_node[node]
            close(node, current, at)
            continue
        if logtexts.SLOW_DOWN_SLEEPING.search(message):
            current.slow_down = True
        elif not current.operation and _META_ENTRY.search(message):
            current.operation = message
    for node, entry in open_by_node.items():
        close(node, entry, None)
    return stalls


def _cluster_stalls(
    history: History, inp: AnalysisInput, lag: Sequence[PeerLag], end_ns: int
) -> list[ApplyStall]:
    """Commit frozen on one node while the highest commit seen advances, outside its sleep."""
    snapshots = history.observations(OBS_CLUSTER)
    if not snapshots:
        return []
    sleeps = {p.node: (p.slept_from_ns, p.slept_until_ns) for p in lag}
    commits: dict[int | None, tuple[int, int]] = {}  # node -> (commit, since_ns)
    top = 0
    top_at: list[tuple[int, int]] = []  # (t_ns, highest commit seen so far)
    stalls: list[ApplyStall] = []
    peers: dict[int | None, int | None] = {}

    def settle(node: int | None, commit: int, since: int, until: int | None) -> None:
        stop = end_ns if until is None else until
        passed = next((t for t, c in top_at if since < t <= stop and c > commit), None)
        if passed is None:
            return  # nobody got ahead of it: an idle cluster, not a stall
        since = passed  # behind from the moment another peer's commit passed its own
        slept_from, slept_until = sleeps.get(node, (None, None))
        if slept_from is not None and slept_from <= stop:
            woke = end_ns if slept_until is None else slept_until
            since = max(since, woke)  # the slow-down's sleep is the lag, not a stall
        if stop - since < STALL_MIN_NS:
            return
        stalls.append(
            ApplyStall(
                node=node,
                peer_id=peers.get(node) or inp.peer_of(node),
                entry=None,
                operation=f"commit {commit}",
                from_ns=since,
                until_ns=until,
                source="cluster",
            )
        )

    for obs in snapshots:
        commit = obs.data.get("commit")
        if not isinstance(commit, int) or isinstance(commit, bool):
            continue
        peers.setdefault(obs.node, obs.peer_id)
        if commit > top:
            top = commit
            top_at.append((obs.t_ns, top))
        previous = commits.get(obs.node)
        if previous is None or previous[0] != commit:
            if previous is not None:
                settle(obs.node, previous[0], previous[1], obs.t_ns)
            commits[obs.node] = (commit, obs.t_ns)
    for node, (commit, since) in commits.items():
        settle(node, commit, since, None)
    return stalls


def find_apply_stalls(
    history: History, inp: AnalysisInput, lag: Sequence[PeerLag] = ()
) -> tuple[ApplyStall, ...]:
    """Every apply stall, from the apply lines where the logs have them, else from ``/cluster``."""
    end = history.end_ns
    from_logs = _log_stalls(history, inp, end)
    logged_nodes = {
        o.node
        for o in history.observations(OBS_LOG)
        if logtexts.APPLYING_ENTRY.search(log_message(o))
    }
    from_cluster = [
        s for s in _cluster_stalls(history, inp, lag, end) if s.node not in logged_nodes
    ]
    return tuple(sorted([*from_logs, *from_cluster], key=lambda s: (s.from_ns, s.node or 0)))


# -- request freezes --------------------------------------------------------------------------


def _span(op: Operation, end_ns: int) -> tuple[int, int]:
    until = op.complete.t_ns if op.complete is not None else end_ns
    return op.invoke.t_ns, until


def find_request_freezes(history: History, inp: AnalysisInput) -> tuple[RequestFreeze, ...]:
    """Per node: stretches in which calls needing its ToC hung while ``GET /cluster`` answered."""
    end = history.end_ns
    hung: dict[int, list[tuple[int, int]]] = {}
    cluster_ok: dict[int, list[int]] = {}
    peers: dict[int, int | None] = {}
    for op in history.operations():
        node = op.invoke.node
        if node is None:
            continue
        peers.setdefault(node, op.invoke.peer_id)
        start, stop = _span(op, end)
        if op.invoke.op == "cluster":
            if op.complete is not None and op.complete.status == 200:
                cluster_ok.setdefault(node, []).append(stop)
        elif op.invoke.op in TOC_OPS and stop - start >= FREEZE_MIN_NS:
            hung.setdefault(node, []).append((start, stop))
    freezes: list[RequestFreeze] = []
    for node, spans in sorted(hung.items()):
        merged: list[list[int]] = []
        counts: list[int] = []
        for start, stop in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
                counts[-1] += 1
            else:
                merged.append([start, stop])
                counts.append(1)
        for (start, stop), count in zip(merged, counts, strict=True):
            answered = sum(
                1 for t in cluster_ok.get(node, ()) if start + FREEZE_MIN_NS <= t <= stop
            )
            if answered == 0:
                continue  # the whole node was unreachable or slow: not a ToC freeze
            freezes.append(
                RequestFreeze(
                    node=node,
                    peer_id=peers.get(node) or inp.peer_of(node),
                    from_ns=start,
                    until_ns=None if stop >= end else stop,
                    hung_calls=count,
                    cluster_answers=answered,
                )
            )
    return tuple(freezes)


# -- coordinator failures ---------------------------------------------------------------------


def _int_group(match: re.Match[str], name: str) -> int | None:
    value = match.groupdict().get(name)
    return int(value) if value is not None and value.isdigit() else None


def find_coordinator_failures(history: History) -> tuple[CoordinatorFailure, ...]:
    """Every coordinator-side failure line of the pile-up, in log order."""
    found: list[CoordinatorFailure] = []
    patterns = (
        (KIND_UPDATE_FAILED, logtexts.FAILED_UPDATE_SHARD),
        (KIND_FORWARD_FAILED, logtexts.FORWARD_FAILED),
        (KIND_DEACTIVATING, logtexts.DEACTIVATING_PEER),
        (KIND_NOTIFY, logtexts.NOTIFY_PEER_FAILURE),
    )
    for event in history.observations(OBS_LOG):
        message = log_message(event)
        for kind, pattern in patterns:
            match = pattern.search(message)
            if match is None:
                continue
            found.append(
                CoordinatorFailure(
                    node=event.node,
                    peer_id=event.peer_id,
                    at_ns=log_at_ns(event),
                    kind=kind,
                    about_peer=_int_group(match, "peer"),
                    collection=match.groupdict().get("collection"),
                    shard=_int_group(match, "shard"),
                    timed_out=bool(logtexts.TIMED_OUT.search(message)),
                )
            )
            break
    return tuple(found)


# -- the story --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chain:
    """The chain as found: its steps in order and whether the mechanism's evidence is there."""

    steps: tuple[str, ...]
    mechanism: str | None  # set only when a meta-entry stall and coordinator timeouts are seen
    frozen_at_end: tuple[str, ...]  # one sentence per peer still frozen when the run ended


MECHANISM_NAME: Final = "table-of-contents lock pile-up (Qdrant up to v1.16.x, notes §4.8)"


def _who(node: int | None, peer: int | None) -> str:
    if node is None:
        return f"peer {peer}" if peer is not None else "a peer"
    return f"node {node}" + (f" (peer {peer})" if peer is not None else "")


def _peer_text(inp: AnalysisInput, peer: int | None) -> str:
    node = inp.node_of(peer)
    return _who(node, peer) if node is not None else f"peer {peer}"


def narrate(
    inp: AnalysisInput,
    *,
    lag: Sequence[PeerLag],
    stalls: Sequence[ApplyStall],
    freezes: Sequence[RequestFreeze],
    failures: Sequence[CoordinatorFailure],
    disruptions: Sequence[Disruption],
    meta_entries: Iterable[tuple[int | None, int, str]] = (),
    grpc_timeout_ms: int | None = None,
) -> Chain:
    """The chain's steps in time order; ``meta_entries`` are (node, at_ns, "Creating ...")."""
    steps: list[tuple[int, str]] = []
    for p in lag:
        if p.slept_until_ns is not None:
            steps.append((p.slept_until_ns, f"{_who(p.node, p.peer_id)} woke from its slow-down"))
    meta_in_stall = [
        (node, at, text)
        for node, at, text in meta_entries
        if any(
            s.node == node
            and s.from_ns - STALL_MIN_NS <= at <= (s.until_ns if s.until_ns is not None else at)
            for s in stalls
        )
    ]
    for node, at, text in meta_in_stall:
        if not any(s.node == node and s.operation == text for s in stalls):
            steps.append((at, f"{_who(node, inp.peer_of(node))} began applying: {text}"))
    for s in stalls:
        what = f" on entry {s.entry}" if s.entry is not None else ""
        op = f" ({s.operation})" if s.operation else ""
        how = (
            f"for {_dur(s.until_ns - s.from_ns)}"
            if s.until_ns is not None
            else "and never moved on before the run ended"
        )
        steps.append(
            (s.from_ns, f"{_who(s.node, s.peer_id)}'s consensus apply stalled{what}{op} {how}")
        )
    for f in freezes:
        how = (
            f"for {_dur(f.until_ns - f.from_ns)}"
            if f.until_ns is not None
            else "until the end of the run"
        )
        steps.append(
            (
                f.from_ns,
                f"{_who(f.node, f.peer_id)}'s collection requests hung {how} "
                f"({f.hung_calls} call(s)) while its GET /cluster still answered",
            )
        )
    timeouts = [f for f in failures if f.timed_out and f.kind == KIND_UPDATE_FAILED]
    if timeouts:
        first = min(timeouts, key=lambda f: f.at_ns)
        about = sorted({f.about_peer for f in timeouts if f.about_peer is not None})
        steps.append(
            (
                first.at_ns,
                f"internal gRPC updates timed out: {len(timeouts)} 'Failed to update shard ... "
                f"Timeout expired' on {_who(first.node, first.peer_id)} and others, towards "
                + ", ".join(_peer_text(inp, p) for p in about),
            )
        )
    forwards = [f for f in failures if f.kind == KIND_FORWARD_FAILED]
    if forwards:
        first = min(forwards, key=lambda f: f.at_ns)
        steps.append(
            (
                first.at_ns,
                f"forwards to the ordering leader failed ({len(forwards)}x, first on "
                f"{_who(first.node, first.peer_id)} via {_peer_text(inp, first.about_peer)})",
            )
        )
    deactivations = [f for f in failures if f.kind == KIND_DEACTIVATING]
    if deactivations:
        first = min(deactivations, key=lambda f: f.at_ns)
        steps.append(
            (
                first.at_ns,
                f"coordinators proposed replicas Dead ({len(deactivations)} 'Deactivating peer', "
                f"first {_who(first.node, first.peer_id)} about "
                f"{_peer_text(inp, first.about_peer)})",
            )
        )
    if disruptions:
        first_dead = min(disruptions, key=lambda d: d.first_ns)
        replicas = {(d.collection, d.shard, d.replica_peer) for d in disruptions}
        steps.append(
            (
                first_dead.first_ns,
                f"replicas of the existing collection left Active ({len(replicas)} replica(s), "
                f"first {first_dead.collection} shard {first_dead.shard} replica "
                f"{first_dead.replica_peer} -> {first_dead.state})",
            )
        )
        backs = [d.back_active_ns for d in disruptions]
        if all(b is not None for b in backs):
            last = max(b for b in backs if b is not None)
            steps.append((last, "every disrupted replica was Active again (recovery)"))
    steps.sort(key=lambda s: s[0])
    meta_stall = any(_META_ENTRY.search(s.operation) for s in stalls) or bool(meta_in_stall)
    stalled_peers = {s.peer_id for s in stalls} | {f.peer_id for f in freezes}
    cycle = any(f.about_peer in stalled_peers for f in timeouts)
    mechanism = MECHANISM_NAME if meta_stall and cycle else None
    frozen: list[str] = []
    bound = (
        f"3 x ({grpc_timeout_ms} ms + 2 s) = {3 * (grpc_timeout_ms + 2000) / 1000:.0f} s"
        if grpc_timeout_ms is not None
        else "3 x (grpc_timeout_ms + 2 s): about 3 min with Qdrant's default 60 s, about 21 s "
        "with 5000 ms"
    )
    for s in stalls:
        if s.until_ns is None:
            frozen.append(
                f"{_who(s.node, s.peer_id)} was still frozen when the run ended, its apply on "
                f"{'entry ' + str(s.entry) if s.entry is not None else s.operation} since "
                f"{_fmt_s(s.from_ns)}; Qdrant's internal timeouts release it after up to {bound}"
            )
    if not (stalls or freezes or failures):
        steps = []  # nothing of the chain: the other reasons tell what happened
    return Chain(
        steps=tuple(f"{_fmt_s(at)} {text}" for at, text in steps),
        mechanism=mechanism,
        frozen_at_end=tuple(frozen),
    )


def meta_entries(history: History) -> tuple[tuple[int | None, int, str], ...]:
    """Every ``Creating collection`` / ``Deleting collection`` line: (node, at_ns, message)."""
    out: list[tuple[int | None, int, str]] = []
    for event in history.observations(OBS_LOG):
        message = log_message(event)
        if _META_ENTRY.search(message):
            out.append((event.node, log_at_ns(event), message))
    return tuple(out)


def grpc_timeout_of(history: History) -> int | None:
    """The cluster's ``grpc_timeout_ms`` when the run knows it (the ``run_start`` mark)."""
    start = history.first_mark("run_start")
    value = start.data.get("grpc_timeout_ms") if start is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chain_timeline(
    stalls: Sequence[ApplyStall],
    freezes: Sequence[RequestFreeze],
    failures: Sequence[CoordinatorFailure],
) -> tuple[TimelineEntry, ...]:
    """Timeline entries of the chain: stalls and freezes (start and end), and the first
    ``Deactivating peer`` of each coordinator about each peer (the WARN/ERROR lines of the
    failed updates and forwards are on the timeline already as log lines)."""
    out: list[TimelineEntry] = []
    for s in stalls:
        what = f"entry {s.entry}" if s.entry is not None else s.operation
        op = f" ({s.operation})" if s.operation and s.entry is not None else ""
        out.append(
            TimelineEntry(s.from_ns, s.node, s.peer_id, "stall", f"apply stalled on {what}{op}")
        )
        if s.until_ns is not None:
            out.append(
                TimelineEntry(
                    s.until_ns,
                    s.node,
                    s.peer_id,
                    "stall",
                    f"apply moved on after {_dur(s.until_ns - s.from_ns)}",
                )
            )
    for f in freezes:
        out.append(
            TimelineEntry(
                f.from_ns,
                f.node,
                f.peer_id,
                "freeze",
                "collection requests hang; GET /cluster still answers",
            )
        )
        if f.until_ns is not None:
            out.append(
                TimelineEntry(
                    f.until_ns,
                    f.node,
                    f.peer_id,
                    "freeze",
                    f"requests answer again after {_dur(f.until_ns - f.from_ns)} "
                    f"({f.hung_calls} hung)",
                )
            )
    seen: set[tuple[int | None, int | None]] = set()
    for c in failures:
        if c.kind != KIND_DEACTIVATING or (c.node, c.about_peer) in seen:
            continue
        seen.add((c.node, c.about_peer))
        out.append(
            TimelineEntry(
                c.at_ns,
                c.node,
                c.peer_id,
                "coordinator",
                f"Deactivating peer {c.about_peer} (failed update of {c.collection}:{c.shard})",
            )
        )
    return tuple(out)
