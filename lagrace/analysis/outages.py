"""Peers the driver could not reach, and the evidence of the race that a peer down explains.

A peer that is down (killed, crashed, restarting) does to its replicas what the race does: the
other peers' coordinators fail to write to it and propose its replicas ``Dead``, and two of them
doing so at once gives the very same ``Replica X of shard Y has state Some(Dead), but expected
Some(Active)`` user error (notes §4.5, §4.6-A). Such evidence is no proof of the lag race, so the
verdict does not count it (:func:`lagrace.analysis.verdict.analyse`).

An :class:`~lagrace.analysis.findings.Outage` is a stretch in which calls to one node were refused
at connect (``fail`` with no HTTP status and aiohttp's ``ClientConnectorError``: nothing listened
on the port). It is widened to the last answer the node gave before and the first answer after,
so it spans the whole time the node may have been down; only an answer to a call sent after the
first refusal ends it (a peer shutting down gracefully still answers requests in flight). A
connect *timeout* is not an outage: an overloaded peer is still up, and a lagging one is what the
race is about.

Evidence explained by an outage of node K (at ``since_ns`` ≤ t ≤ ``until_ns`` + grace;
``until_ns`` is the end of the run when K never answered again):

* a disruption of a replica on K, first seen at t;
* a ``dead_expected_active`` hit naming a replica on K, logged at t;
* a ``last_active_replica`` hit logged at t (a peer down is what leaves one replica the last
  Active one).

Custom signatures are never explained away: the user asked for them. The grace
(:func:`grace_ns`) is :data:`GRACE_NS` plus the longest slow-down any peer slept: it covers the
recovery of K's replicas after K is back, and a lagging peer that applies the ``Dead`` entries
(and logs their WARNs) only when it wakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Final

from lagrace.analysis.findings import Disruption, Outage, PeerLag, SignatureHit
from lagrace.analysis.inputs import AnalysisInput
from lagrace.events import Complete, Invoke, Outcome
from lagrace.history import History
from lagrace.timebase import NS_PER_S

REFUSED_PREFIX: Final = "ClientConnectorError"
GRACE_NS: Final = 10 * NS_PER_S

DEAD_EXPECTED_ACTIVE: Final = "dead_expected_active"
LAST_ACTIVE_REPLICA: Final = "last_active_replica"


def grace_ns(lag: Iterable[PeerLag]) -> int:
    """:data:`GRACE_NS` plus the longest logged sleep of any peer (module doc)."""
    slept = [
        p.slept_until_ns - p.slept_from_ns
        for p in lag
        if p.slept_from_ns is not None and p.slept_until_ns is not None
    ]
    return GRACE_NS + max(slept, default=0)


def is_refused(event: Complete) -> bool:
    """A call that could not connect at all: the node was not listening."""
    return (
        event.outcome is Outcome.FAIL
        and event.status is None
        and (event.error or "").startswith(REFUSED_PREFIX)
    )


def find_outages(history: History, inp: AnalysisInput) -> tuple[Outage, ...]:
    """Every stretch of refused calls per node, widened to the answers around it (module doc)."""
    last_answer: dict[int, int] = {}
    open_: dict[int, Outage] = {}
    done: list[Outage] = []
    invoked: dict[int, int] = {}
    for event in history.events:
        if isinstance(event, Invoke):
            invoked[event.op_id] = event.t_ns
        if not isinstance(event, Complete) or event.node is None:
            continue
        node = event.node
        if is_refused(event):
            current = open_.get(node)
            if current is None:
                open_[node] = Outage(
                    node=node,
                    peer_id=inp.peer_of(node),
                    since_ns=last_answer.get(node, event.t_ns),
                    first_refused_ns=event.t_ns,
                    last_refused_ns=event.t_ns,
                    refused=1,
                )
            else:
                open_[node] = replace(
                    current, last_refused_ns=event.t_ns, refused=current.refused + 1
                )
        elif event.status is not None:
            last_answer[node] = event.t_ns
            current = open_.get(node)
            # Only a call sent after the first refusal ends it: a request already in flight
            # can still be answered while a peer shuts down gracefully.
            if current is not None and invoked.get(event.op_id, 0) >= current.first_refused_ns:
                done.append(replace(open_.pop(node), until_ns=event.t_ns))
    done.extend(open_.values())
    done.sort(key=lambda o: (o.since_ns, o.node))
    return tuple(done)


def _covers(outage: Outage, t_ns: int, grace: int) -> bool:
    until = outage.until_ns
    return outage.since_ns <= t_ns and (until is None or t_ns <= until + grace)


def explaining_outage(
    outages: Sequence[Outage], t_ns: int, node: int | None = None, *, grace: int = GRACE_NS
) -> Outage | None:
    """The first outage (of ``node``, or of any node) that covers ``t_ns``."""
    return next(
        (o for o in outages if (node is None or o.node == node) and _covers(o, t_ns, grace)),
        None,
    )


def explain_disruptions(
    disruptions: Iterable[Disruption],
    outages: Sequence[Outage],
    inp: AnalysisInput,
    *,
    grace: int = GRACE_NS,
) -> tuple[Disruption, ...]:
    """``disruptions`` with ``explained_by`` set to the node whose outage explains them."""
    out = []
    for d in disruptions:
        node = inp.node_of(d.replica_peer)
        outage = None if node is None else explaining_outage(outages, d.first_ns, node, grace=grace)
        out.append(replace(d, explained_by=None if outage is None else outage.node))
    return tuple(out)


def explain_signatures(
    hits: Iterable[SignatureHit],
    outages: Sequence[Outage],
    inp: AnalysisInput,
    *,
    grace: int = GRACE_NS,
) -> tuple[SignatureHit, ...]:
    """``hits`` with ``explained_by`` set to the node whose outage explains them."""
    out = []
    for hit in hits:
        outage = None
        if hit.signature == DEAD_EXPECTED_ACTIVE:
            node = inp.node_of(hit.replica_peer)
            outage = (
                None if node is None else explaining_outage(outages, hit.at_ns, node, grace=grace)
            )
        elif hit.signature == LAST_ACTIVE_REPLICA:
            outage = explaining_outage(outages, hit.at_ns, grace=grace)
        out.append(replace(hit, explained_by=None if outage is None else outage.node))
    return tuple(out)
