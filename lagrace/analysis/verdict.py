"""The verdict: each check gives a :class:`Check`, merged Jepsen-style; :func:`analyse` runs it all.

Merge order (monotone, commutative, idempotent; :data:`VERDICT_RANK`)::

    reproduced  >  error  >  inconclusive  >  not_reproduced

* ``reproduced`` (exit 1): a signature WARN on any peer, or a replica of an existing collection
  seen leaving Active, that no peer outage explains (:mod:`lagrace.analysis.outages`); or a peer
  panicked (:mod:`lagrace.analysis.panics`: a ``Panic occurred`` line, a ``task N panicked``
  answer). Evidence of the race stands even if the run later failed.
* ``error`` (exit 3): only when the ``run_end`` mark says ``error``.
* ``inconclusive`` (exit 2): the lag never took hold, the cluster never converged, the run was
  interrupted (``run_end`` reason ``interrupted``), or every piece of evidence of the race is
  explained by a peer that refused connections at the time (a peer down, not the lag).
* ``not_reproduced`` (exit 0): none of the above.

Failed writes (also those answered 500, :mod:`lagrace.analysis.server_errors`) and peers that
stopped answering (:mod:`lagrace.analysis.unresponsive`) are reported in the reasons but never
make a reproduction on their own. The
causal chain of the lock pile-up (:mod:`lagrace.analysis.chain`) never decides either: it is
told right after the evidence when the race is reproduced, with the mechanism named only when
its evidence is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from lagrace.analysis.chain import (
    Chain,
    chain_timeline,
    find_apply_stalls,
    find_coordinator_failures,
    find_request_freezes,
    grpc_timeout_of,
    meta_entries,
    narrate,
)
from lagrace.analysis.disruptions import find_disruptions, first_disruption_ns
from lagrace.analysis.findings import (
    Disruption,
    Findings,
    Outage,
    Panic,
    ServerErrorWrites,
    SignatureHit,
    Unresponsive,
    Verdict,
    WriteSummary,
)
from lagrace.analysis.inputs import AnalysisInput
from lagrace.analysis.lag import LagAssessment, RunConvergence, assess_convergence, assess_lag
from lagrace.analysis.outages import (
    explain_disruptions,
    explain_signatures,
    find_outages,
    grace_ns,
)
from lagrace.analysis.panics import find_panics, panic_reasons, panic_timeline
from lagrace.analysis.server_errors import (
    find_server_error_writes,
    server_error_reasons,
    server_error_timeline,
)
from lagrace.analysis.signatures import find_signatures
from lagrace.analysis.timeline import (
    PREFLIGHT_WORKER,
    build_timeline,
    created_collections,
    format_offset,
)
from lagrace.analysis.unresponsive import (
    find_unresponsive,
    unresponsive_reasons,
    unresponsive_timeline,
)
from lagrace.analysis.writes import summarise_writes
from lagrace.history import History

VERDICT_RANK: Final[dict[Verdict, int]] = {
    Verdict.NOT_REPRODUCED: 0,
    Verdict.INCONCLUSIVE: 1,
    Verdict.ERROR: 2,
    Verdict.REPRODUCED: 3,
}


@dataclass(frozen=True, slots=True)
class Check:
    """One checker's verdict and why."""

    verdict: Verdict
    reasons: tuple[str, ...]


def merge_verdicts(verdicts: Iterable[Verdict]) -> Verdict:
    """The strongest verdict (:data:`VERDICT_RANK`); ``not_reproduced`` for none."""
    return max(verdicts, key=VERDICT_RANK.__getitem__, default=Verdict.NOT_REPRODUCED)


def merge_checks(checks: Sequence[Check]) -> tuple[Verdict, tuple[str, ...]]:
    """The merged verdict; reasons of the checks that decided it first, then the others'."""
    verdict = merge_verdicts(c.verdict for c in checks)
    deciding = [r for c in checks if c.verdict is verdict for r in c.reasons]
    rest = [r for c in checks if c.verdict is not verdict for r in c.reasons]
    return verdict, tuple(deciding + rest)


def _nodes(nodes: Iterable[int | None]) -> str:
    shown = sorted({n for n in nodes if n is not None})
    return ", ".join(str(n) for n in shown) or "?"


def _explained_reason(what: str, explained_by: Iterable[int | None]) -> str:
    return (
        f"{what} explained by node {_nodes(explained_by)} refusing connections at the time "
        "(a peer down, not the lag)"
    )


def split_foreign(
    hits: Sequence[SignatureHit], inp: AnalysisInput
) -> tuple[tuple[SignatureHit, ...], tuple[SignatureHit, ...]]:
    """``(own, foreign)``: a WARN attributed to a collection this run did not create (an
    earlier run's, still being applied on a cluster that was not clean) is not this run's."""
    mine = {*inp.existing_collections, *inp.new_collections}
    foreign = tuple(h for h in hits if h.collection is not None and h.collection not in mine)
    return tuple(h for h in hits if h not in foreign), foreign


def check_signatures(hits: Sequence[SignatureHit], foreign: Sequence[SignatureHit] = ()) -> Check:
    """Reproduced if any signature line was logged on any peer that no outage explains;
    lines about other runs' collections are only noted."""
    if foreign:
        names = ", ".join(sorted({str(h.collection) for h in foreign}))
        noted = check_signatures(hits)
        return Check(
            noted.verdict,
            (
                *noted.reasons,
                f"{len(foreign)} signature line(s) about collections this run did not create "
                f"({names}): an earlier run's entries still being applied; not counted",
            ),
        )
    if not hits:
        return Check(Verdict.NOT_REPRODUCED, ("no signature WARN on any peer",))
    unexplained = [h for h in hits if h.explained_by is None]
    explained = [h for h in hits if h.explained_by is not None]
    note = (
        (
            _explained_reason(
                f"{len(explained)} signature line(s)", (h.explained_by for h in explained)
            ),
        )
        if explained
        else ()
    )
    if not unexplained:
        return Check(Verdict.INCONCLUSIVE, note)
    reasons = []
    for name in dict.fromkeys(h.signature for h in unexplained):
        mine = [h for h in unexplained if h.signature == name]
        first = min(mine, key=lambda h: h.at_ns)
        where = f" ({first.collection} shard {first.shard})" if first.collection else ""
        reasons.append(
            f"signature {name} logged {len(mine)}x on node {_nodes(h.node for h in mine)}{where}, "
            f"first at {format_offset(first.at_ns)}"
        )
    return Check(Verdict.REPRODUCED, (*reasons, *note))


def check_disruptions(disruptions: Sequence[Disruption]) -> Check:
    """Reproduced if any replica of an existing collection left Active, unexplained by an outage."""
    if not disruptions:
        return Check(
            Verdict.NOT_REPRODUCED, ("no replica of the existing collection(s) left Active",)
        )
    unexplained = [d for d in disruptions if d.explained_by is None]
    explained = [d for d in disruptions if d.explained_by is not None]
    note = (
        (
            _explained_reason(
                f"{len(explained)} replica state change(s) away from Active",
                (d.explained_by for d in explained),
            ),
        )
        if explained
        else ()
    )
    if not unexplained:
        return Check(Verdict.INCONCLUSIVE, note)
    reasons = []
    keys = dict.fromkeys((d.collection, d.shard, d.replica_peer) for d in unexplained)
    for collection, shard, replica in keys:
        mine = [
            d
            for d in unexplained
            if (d.collection, d.shard, d.replica_peer) == (collection, shard, replica)
        ]
        states = " -> ".join(dict.fromkeys(s for d in mine for s in d.states))
        back = (
            "never back to Active"
            if any(d.back_active_ns is None for d in mine)
            else "back to Active later"
        )
        reasons.append(
            f"replica {replica} of {collection} shard {shard} left Active ({states}), seen by node "
            f"{_nodes(d.observer_node for d in mine)}, first at "
            f"{format_offset(min(d.first_ns for d in mine))}, {back}"
        )
    return Check(Verdict.REPRODUCED, (*reasons, *note))


def check_outages(outages: Sequence[Outage]) -> Check:
    """Never decides: which nodes refused connections, and when."""
    reasons = []
    for o in outages:
        back = (
            f"answered again at {format_offset(o.until_ns)}"
            if o.until_ns is not None
            else "never answered again"
        )
        reasons.append(
            f"node {o.node} refused {o.refused} connection(s) from "
            f"{format_offset(o.first_refused_ns)} to {format_offset(o.last_refused_ns)}, {back}"
        )
    return Check(Verdict.NOT_REPRODUCED, tuple(reasons))


def check_writes(writes: WriteSummary) -> Check:
    """Never decides: failed writes are reported, they are not a reproduction by themselves."""
    if writes.fail == 0 and writes.info == 0:
        return Check(
            Verdict.NOT_REPRODUCED, (f"all {writes.total} writes to the existing collection ok",)
        )
    return Check(
        Verdict.NOT_REPRODUCED,
        (
            f"{writes.fail} failed and {writes.info} unknown-outcome writes of {writes.total} "
            "to the existing collection (reported; failed writes alone are not a reproduction)",
        ),
    )


def check_panics(panics: Sequence[Panic]) -> Check:
    """Reproduced if a peer panicked: an anomaly whatever the scenario."""
    if not panics:
        return Check(Verdict.NOT_REPRODUCED, ())
    return Check(Verdict.REPRODUCED, panic_reasons(panics))


def check_server_failures(
    server_errors: Sequence[ServerErrorWrites], unresponsive: Sequence[Unresponsive]
) -> Check:
    """Never decides: writes answered 500 and peers that stopped answering."""
    return Check(
        Verdict.NOT_REPRODUCED,
        (*server_error_reasons(server_errors), *unresponsive_reasons(unresponsive)),
    )


def check_lag(lag: LagAssessment, *, slow_down_proposed: bool = True) -> Check:
    """Inconclusive if the lag never took hold (a control run without slow-down never is)."""
    if not slow_down_proposed and not lag.took_hold:
        return Check(
            Verdict.NOT_REPRODUCED, ("no slow-down was proposed: a control run without lag",)
        )
    return Check(Verdict.NOT_REPRODUCED if lag.took_hold else Verdict.INCONCLUSIVE, (lag.reason,))


def check_convergence(convergence: RunConvergence) -> Check:
    """Inconclusive if the cluster never converged."""
    verdict = Verdict.NOT_REPRODUCED if convergence.converged else Verdict.INCONCLUSIVE
    return Check(verdict, (convergence.reason,))


def check_chain(chain: Chain, reproduced_elsewhere: bool, *, slow_down_proposed: bool) -> Check:
    """Never decides by itself: tells the chain in order (first when the race is reproduced),
    names the mechanism when its evidence is there, says which peer is still frozen, and says
    so when the race arose without any slow-down."""
    reasons: list[str] = []
    if reproduced_elsewhere and not slow_down_proposed:
        reasons.append(
            "no slow-down was proposed: the race arose from the create under the write load "
            "alone (the consensus lag is a consequence, not a precondition)"
        )
    if chain.mechanism is not None:
        reasons.append(f"mechanism: {chain.mechanism}")
    if chain.steps:
        reasons.append("chain: " + "; ".join(chain.steps))
    reasons.extend(chain.frozen_at_end)
    verdict = Verdict.REPRODUCED if reproduced_elsewhere else Verdict.NOT_REPRODUCED
    return Check(verdict, tuple(reasons))


def check_run_end(history: History) -> Check:
    """``error`` / ``inconclusive`` from the ``run_end`` mark (a missing mark is only noted);
    a ``cleanup_deferred`` mark adds which collections were left behind."""
    end = next(reversed(history.marks("run_end")), None)
    if end is None:
        return Check(Verdict.NOT_REPRODUCED, ("no run_end mark (the run did not record its end)",))
    reason = end.data.get("reason")
    detail = end.data.get("detail")
    suffix = f": {detail}" if isinstance(detail, str) and detail else ""
    deferred = next(iter(history.marks("cleanup_deferred")), None)
    note: tuple[str, ...] = ()
    if deferred is not None:
        left = ", ".join(str(n) for n in deferred.data.get("left") or ())
        note = (
            f"cleanup deferred: a peer was still frozen after the writes stopped, so {left} "
            "were left in place (deleting then freezes or panics peers); delete them once "
            "every peer answers again",
        )
    if reason == "error":
        return Check(Verdict.ERROR, (f"the run ended with an error{suffix}", *note))
    if reason == "interrupted":
        return Check(Verdict.INCONCLUSIVE, (f"the run was interrupted{suffix}", *note))
    return Check(Verdict.NOT_REPRODUCED, (f"the run ended: {reason}{suffix}", *note))


def _lag_expected(history: History) -> bool:
    """Whether the run meant to slow a peer down: it proposed one, or its plan had one (a run
    that planned none is a control run; without a ``run_start`` mark, assume it did)."""
    if any(o.invoke.worker != PREFLIGHT_WORKER for o in history.operations("test_slow_down")):
        return True  # (preflight's duration-0 staging probe on v1.16.x proposes nothing)
    start = history.first_mark("run_start")
    planned = start.data.get("slow_downs_planned") if start is not None else None
    return planned is None or bool(planned)


def analyse(history: History, inp: AnalysisInput) -> Findings:
    """Run every detector over ``history`` and merge their verdicts into :class:`Findings`."""
    lag = assess_lag(history, inp)
    outages = find_outages(history, inp)
    grace = grace_ns(lag.peers)
    signatures = explain_signatures(find_signatures(history, inp), outages, inp, grace=grace)
    disruptions = explain_disruptions(
        find_disruptions(history, inp.existing_collections), outages, inp, grace=grace
    )
    writes = summarise_writes(history, inp.existing_collections)
    convergence = assess_convergence(history, inp, lag, created_collections(history))
    stalls = find_apply_stalls(history, inp, lag.peers)
    freezes = find_request_freezes(history, inp)
    failures = find_coordinator_failures(history)
    chain = narrate(
        inp,
        lag=lag.peers,
        stalls=stalls,
        freezes=freezes,
        failures=failures,
        disruptions=[d for d in disruptions if d.explained_by is None],
        meta_entries=meta_entries(history),
        grpc_timeout_ms=grpc_timeout_of(history),
    )
    panics = find_panics(history, inp)
    server_errors = find_server_error_writes(writes, inp)
    unresponsive = find_unresponsive(history, inp)
    slow_down_proposed = _lag_expected(history)
    own, foreign = split_foreign(signatures, inp)
    evidence = [check_signatures(own, foreign), check_disruptions(disruptions)]
    reproduced = any(c.verdict is Verdict.REPRODUCED for c in evidence)
    verdict, reasons = merge_checks(
        [
            *evidence,
            check_chain(chain, reproduced, slow_down_proposed=slow_down_proposed),
            check_panics(panics),
            check_lag(lag, slow_down_proposed=slow_down_proposed),
            check_convergence(convergence),
            check_writes(writes),
            check_server_failures(server_errors, unresponsive),
            check_outages(outages),
            check_run_end(history),
        ]
    )
    timeline = tuple(
        sorted(
            (
                *build_timeline(
                    history,
                    inp,
                    signatures=signatures,
                    disruptions=disruptions,
                    writes=writes,
                    outages=outages,
                ),
                *chain_timeline(stalls, freezes, failures),
                *panic_timeline(panics),
                *server_error_timeline(server_errors),
                *unresponsive_timeline(unresponsive),
            ),
            key=lambda e: e.at_ns,
        )
    )
    return Findings(
        verdict=verdict,
        reasons=reasons,
        signatures=signatures,
        disruptions=disruptions,
        writes=writes,
        lag=lag.peers,
        lag_took_hold=lag.took_hold,
        converged=convergence.converged,
        timeline=timeline,
        first_disruption_ns=first_disruption_ns(disruptions),
        outages=outages,
        stalls=stalls,
        freezes=freezes,
        coordinator_failures=failures,
        chain=chain.steps,
        mechanism=chain.mechanism,
        frozen_at_end=chain.frozen_at_end,
        cluster=_cluster_summary(history),
        panics=panics,
        server_errors=server_errors,
        unresponsive=unresponsive,
    )


def _cluster_summary(history: History) -> str | None:
    """The ``run_start`` mark's one line on the cluster (``Qdrant 1.16.2 debug, staging, ...``)."""
    start = history.first_mark("run_start")
    value = start.data.get("qdrant_summary") if start is not None else None
    return value if isinstance(value, str) and value else None
