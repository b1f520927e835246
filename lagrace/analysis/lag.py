"""Detector (d): did the lag take hold, and did the cluster converge (notes §4.3, §4.4, §9.2)?

Per node, from ``cluster`` observations and the ``TestSlowDown`` log lines:

* **commit gap** — after every ``cluster`` observation (of any node), the leader's latest observed
  commit minus each node's latest observed commit; the largest value per node. The leader is the
  node whose latest snapshot says ``role: Leader`` with the highest term, else the peer its
  highest-term snapshot names as ``leader``. Snapshots are recorded only when they change, so a
  frozen peer keeps its last commit while the leader's grows: exactly the gap wanted.
* **last_update age** — the largest ``last_update_age_ms`` of the node's own snapshots.
* **send failures** — the largest ``send_failures`` count towards the node in any *other* node's
  snapshot. Keys are p2p URIs; they are mapped with ``AnalysisInput.peer_uris``; with no mapping,
  the largest count over all keys seen by the other nodes is attributed to the target only.
* **slept** — the first ``TestSlowDown: sleeping`` line and the last ``finished sleeping`` line
  after the last sleep (None while still asleep at the end).

A node "stalled" if it logged the sleep, or its age exceeded ``Thresholds.stall_age_ms``, or its
gap exceeded ``Thresholds.commit_gap``. The lag took hold if the target stalled (any node when
no target is known).

**Convergence**: the ``converged`` mark, or derived from the last observations before the
``cleanup`` phase (or the end) by the one judge the live race uses too
(:func:`lagrace.analysis.convergence.judge_convergence`): every node's last ``cluster`` snapshot
shows the same commit, zero pending operations and no stalled consensus thread, and for every
watched collection each node's last view shows all replicas Active (a new collection may instead
be invisible on every node: a create that never happened). Offline only, every node that slept
must have a snapshot after it woke.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lagrace.analysis import logtexts
from lagrace.analysis.convergence import judge_convergence
from lagrace.analysis.disruptions import collection_of
from lagrace.analysis.findings import PeerLag
from lagrace.analysis.inputs import AnalysisInput, normalise_uri
from lagrace.analysis.signatures import log_at_ns, log_message
from lagrace.events import OBS_CLUSTER, OBS_COLLECTION_CLUSTER, OBS_LOG, Event, Observe
from lagrace.history import History


@dataclass(frozen=True, slots=True)
class LagAssessment:
    """Per-node lag evidence and the judgement whether the lag took hold."""

    peers: tuple[PeerLag, ...]
    took_hold: bool
    reason: str
    lag_end_ns: int | None  # the last "finished sleeping" of any node (None: none, or still asleep)
    still_asleep: tuple[int | None, ...]  # nodes that logged a sleep without a later finish


@dataclass(frozen=True, slots=True)
class RunConvergence:
    """Whether a finished run's cluster converged, and how that was decided."""

    converged: bool
    reason: str


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _leader_node(latest: dict[int | None, Observe], inp: AnalysisInput) -> int | None:
    leaders = [
        (_int(o.data.get("term")) or 0, n)
        for n, o in latest.items()
        if o.data.get("role") == "Leader"
    ]
    if leaders:
        return max(leaders, key=lambda tn: (tn[0], tn[1] or 0))[1]
    named = [(_int(o.data.get("term")) or 0, _int(o.data.get("leader"))) for o in latest.values()]
    named = [(t, p) for t, p in named if p]
    if not named:
        return None
    peer = max(named)[1]
    node = inp.node_of(peer)
    if node is not None:
        return node
    return next((n for n, o in latest.items() if o.peer_id == peer), None)


@dataclass(slots=True)
class _Acc:
    peer_id: int | None = None
    max_gap: int = 0
    max_age_ms: float = 0.0
    max_send_failures: int = 0
    sleeps: tuple[int, ...] = ()
    finishes: tuple[int, ...] = ()


def assess_lag(history: History, inp: AnalysisInput) -> LagAssessment:
    """Per-node lag evidence (every known node, ordered by node) and whether the lag took hold."""
    accs: dict[int | None, _Acc] = {n: _Acc(peer_id=p) for n, p in inp.node_peers.items()}
    target = inp.target
    uri_peer = {normalise_uri(u): p for u, p in inp.peer_uris.items()}
    latest: dict[int | None, Observe] = {}

    def acc(node: int | None, peer: int | None) -> _Acc:
        a = accs.setdefault(node, _Acc(peer_id=peer))
        if a.peer_id is None:
            a.peer_id = peer
        return a

    for event in history.events:
        if not isinstance(event, Observe):
            continue
        if event.kind == OBS_LOG:
            message = log_message(event)
            if logtexts.SLOW_DOWN_SLEEPING.search(message):
                a = acc(event.node, event.peer_id)
                a.sleeps = (*a.sleeps, log_at_ns(event))
            elif logtexts.SLOW_DOWN_FINISHED.search(message):
                a = acc(event.node, event.peer_id)
                a.finishes = (*a.finishes, log_at_ns(event))
            continue
        if event.kind != OBS_CLUSTER:
            continue
        own = acc(event.node, event.peer_id)
        latest[event.node] = event
        age = _num(event.data.get("last_update_age_ms"))
        if age is not None:
            own.max_age_ms = max(own.max_age_ms, age)
        failures = event.data.get("send_failures") or {}
        if isinstance(failures, dict):
            for uri, raw in failures.items():
                count = _int(raw)
                if count is None:
                    continue
                peer = uri_peer.get(normalise_uri(str(uri)))
                node = inp.node_of(peer) if peer is not None else None
                if peer is None and not uri_peer:
                    node = target
                if node is None or node == event.node:
                    continue
                a = acc(node, peer)
                a.max_send_failures = max(a.max_send_failures, count)
        leader = _leader_node(latest, inp)
        if leader is None or leader not in latest:
            continue
        leader_commit = _int(latest[leader].data.get("commit"))
        if leader_commit is None:
            continue
        for node, obs in latest.items():
            commit = _int(obs.data.get("commit"))
            if commit is not None and node != leader:
                a = acc(node, obs.peer_id)
                a.max_gap = max(a.max_gap, leader_commit - commit)

    th = inp.thresholds
    peers: list[PeerLag] = []
    still_asleep: list[int | None] = []
    finish_times: list[int] = []
    for node in sorted(accs, key=lambda n: (n is None, n or 0)):
        a = accs[node]
        slept_from = min(a.sleeps, default=None)
        slept_until = None
        if a.sleeps:
            last_sleep = max(a.sleeps)
            slept_until = max((f for f in a.finishes if f >= last_sleep), default=None)
            if slept_until is None:
                still_asleep.append(node)
            else:
                finish_times.append(slept_until)
        stalled = bool(a.sleeps) or a.max_age_ms > th.stall_age_ms or a.max_gap > th.commit_gap
        peers.append(
            PeerLag(
                node=node,
                peer_id=a.peer_id,
                max_commit_gap=a.max_gap,
                max_last_update_age_ms=a.max_age_ms,
                max_send_failures=a.max_send_failures,
                slept_from_ns=slept_from,
                slept_until_ns=slept_until,
                stalled=stalled,
            )
        )
    took_hold, reason = _judge(peers, target, inp)
    return LagAssessment(
        peers=tuple(peers),
        took_hold=took_hold,
        reason=reason,
        lag_end_ns=max(finish_times, default=None) if not still_asleep else None,
        still_asleep=tuple(still_asleep),
    )


def _evidence(p: PeerLag, inp: AnalysisInput) -> str:
    th = inp.thresholds
    parts = []
    if p.slept_from_ns is not None:
        parts.append("logged TestSlowDown sleeping")
    if p.max_last_update_age_ms > th.stall_age_ms:
        parts.append(
            f"last_update age {p.max_last_update_age_ms:.0f} ms > {th.stall_age_ms:.0f} ms"
        )
    if p.max_commit_gap > th.commit_gap:
        parts.append(f"commit gap {p.max_commit_gap} > {th.commit_gap}")
    return ", ".join(parts)


def _judge(peers: list[PeerLag], target: int | None, inp: AnalysisInput) -> tuple[bool, str]:
    if target is not None:
        mine = next((p for p in peers if p.node == target), None)
        if mine is not None and mine.stalled:
            return True, f"lag took hold on target node {target}: {_evidence(mine, inp)}"
        return False, (
            f"lag never took hold on target node {target}: no TestSlowDown sleep logged, "
            f"last_update age never > {inp.thresholds.stall_age_ms:.0f} ms, "
            f"commit gap never > {inp.thresholds.commit_gap}"
        )
    stalled = [p for p in peers if p.stalled]
    if stalled:
        first = stalled[0]
        return (
            True,
            f"lag took hold on node {first.node} (no target given): {_evidence(first, inp)}",
        )
    return False, "lag never took hold on any node (no target given)"


def _cutoff_index(history: History) -> int:
    cleanup = next((m for m in history.marks("phase") if m.data.get("phase") == "cleanup"), None)
    return cleanup.index if cleanup is not None else len(history)


def assess_convergence(
    history: History,
    inp: AnalysisInput,
    lag: LagAssessment,
    collections: Iterable[str] = (),
) -> RunConvergence:
    """The ``converged`` mark, or convergence derived from the last observations (module doc),
    judged by :func:`lagrace.analysis.convergence.judge_convergence`, the live judge's rules."""
    if history.first_mark("converged") is not None:
        return RunConvergence(True, "converged (the driver's converged mark)")
    if lag.still_asleep:
        asleep = ", ".join(str(n) for n in lag.still_asleep)
        return RunConvergence(
            False, f"never converged: node {asleep} never logged finished sleeping"
        )
    events: tuple[Event, ...] = history.events[: _cutoff_index(history)]
    last_cluster: dict[int | None, Observe] = {}
    last_view: dict[tuple[int | None, str], Observe] = {}
    for event in events:
        if not isinstance(event, Observe):
            continue
        if event.kind == OBS_CLUSTER:
            last_cluster[event.node] = event
        elif event.kind == OBS_COLLECTION_CLUSTER:
            name = collection_of(event)
            if name is not None:
                last_view[(event.node, name)] = event
    for peer_lag in lag.peers:
        woke = peer_lag.slept_until_ns
        last = last_cluster.get(peer_lag.node)
        if woke is not None and last is not None and last.t_ns < woke:
            return RunConvergence(
                False,
                f"never converged: no cluster observation of node {peer_lag.node} after it woke",
            )
    watched = [*inp.existing_collections, *inp.new_collections, *collections]
    observed = {name for _, name in last_view}
    verdict = judge_convergence(
        {n: o.data for n, o in last_cluster.items()},
        {key: o.data for key, o in last_view.items()},
        set(inp.node_peers) | set(last_cluster),
        [name for name in watched if name in observed],  # a collection never watched: no say
        may_be_absent=set(watched) - set(inp.existing_collections),
    )
    if not verdict.converged:
        return RunConvergence(False, f"never converged: {verdict.why_not}")
    return RunConvergence(
        True,
        "converged before cleanup (derived from the last snapshots: same commit, nothing "
        "pending, all replicas Active)",
    )
