"""Outages: refused calls per node, and the evidence of the race a peer down explains away."""

from __future__ import annotations

import pytest

from lagrace.analysis.findings import (
    Disruption,
    Outage,
    PeerLag,
    SignatureHit,
    Verdict,
    findings_from_json,
    findings_to_json,
)
from lagrace.analysis.inputs import AnalysisInput, analysis_input_from_history
from lagrace.analysis.outages import (
    GRACE_NS,
    explain_disruptions,
    explain_signatures,
    find_outages,
    grace_ns,
)
from lagrace.analysis.verdict import analyse
from lagrace.api import calls
from lagrace.events import Complete, Invoke, Outcome
from lagrace.history import History
from lagrace.testing.histories import (
    EXAMPLE_NODE_PEERS,
    REFUSED_EXAMPLE,
    HistoryBuilder,
    example_run,
    ms,
    upsert,
)

INP = AnalysisInput(existing_collections=("existing",), node_peers=EXAMPLE_NODE_PEERS)
TIMEOUT = "ConnectionTimeoutError: Connection timeout to host http://127.0.0.1:6343/cluster"


def test_refusals_between_answers_make_one_outage_per_stretch() -> None:
    """Widened to the last answer before and the first answer after; one per stretch."""
    b = HistoryBuilder(EXAMPLE_NODE_PEERS)
    b.poll(10, node=2, status=200)
    b.poll(101, node=2, error=REFUSED_EXAMPLE)
    b.poll(151, node=1, status=200)  # another node's answer closes nothing
    b.poll(201, node=2, error=REFUSED_EXAMPLE)
    b.poll(301, node=2, status=200)
    b.poll(401, node=2, error=REFUSED_EXAMPLE)  # a second stretch, never answered again
    outages = find_outages(b.build(), INP)
    assert outages == (
        Outage(2, 102, ms(10), ms(101), ms(201), 2, until_ns=ms(301)),
        Outage(2, 102, ms(301), ms(401), ms(401), 1, until_ns=None),
    )


def test_an_answer_to_a_call_sent_before_the_refusal_does_not_end_it() -> None:
    """A request in flight when the peer went down may still be answered (graceful shutdown)."""
    b = HistoryBuilder(EXAMPLE_NODE_PEERS)
    early = b.invoke(0, upsert("existing"), worker="hammer-0", node=2)
    b.poll(100, node=2, error=REFUSED_EXAMPLE)
    b.complete(early, 101, outcome="ok", status=200)
    b.poll(200, node=2, error=REFUSED_EXAMPLE)
    b.poll(300, node=2, status=200)
    (outage,) = find_outages(b.build(), INP)
    assert (outage.refused, outage.until_ns) == (2, ms(300))


def test_a_first_call_refused_starts_the_outage_at_itself() -> None:
    """No answer before: the outage starts at the first refusal."""
    b = HistoryBuilder(EXAMPLE_NODE_PEERS)
    b.poll(11, node=3, error=REFUSED_EXAMPLE)
    (outage,) = find_outages(b.build(), INP)
    assert (outage.since_ns, outage.node, outage.peer_id) == (ms(11), 3, 103)


@pytest.mark.parametrize(
    ("error", "status", "outcome"),
    [
        (TIMEOUT, None, "fail"),  # connect timeout: overloaded or lagging, not down
        ("ServerDisconnectedError: Server disconnected", None, "info"),
        ("Service Unavailable", 503, "info"),
        (None, 500, "info"),
    ],
)
def test_other_failures_are_not_outages(
    error: str | None, status: int | None, outcome: str
) -> None:
    """Only a refused connect counts: timeouts, disconnects and 5xx answers do not."""
    b = HistoryBuilder(EXAMPLE_NODE_PEERS)
    op = b.invoke(0, calls.cluster(), worker="watch-cluster-2", node=2)
    b.complete(op, 5, outcome=outcome, status=status, error=error)
    assert find_outages(b.build(), INP) == ()


def _disruption(peer: int, first_ms: float) -> Disruption:
    return Disruption("existing", 0, peer, 1, 101, "Dead", ("Dead",), ms(first_ms), None)


def _hit(signature: str, at_ms: float, replica: int | None) -> SignatureHit:
    return SignatureHit(signature, 1, 101, ms(at_ms), "m", replica_peer=replica, shard=0)


OUT = (Outage(2, 102, ms(1000), ms(1100), ms(1900), 9, until_ns=ms(2000)),)


def test_disruptions_of_the_down_peer_within_the_grace_are_explained() -> None:
    """Only replicas on the down node, first seen from its last answer to the grace after."""
    grace_ms = GRACE_NS / 1e6
    explained = explain_disruptions(
        [
            _disruption(102, 1500),
            _disruption(102, 2000 + grace_ms),
            _disruption(102, 2001 + grace_ms),
            _disruption(102, 999),
            _disruption(103, 1500),
        ],
        OUT,
        INP,
    )
    assert [d.explained_by for d in explained] == [2, 2, None, None, None]


def test_signatures_explained_by_kind() -> None:
    """dead_expected_active names the down replica; last_active_replica any outage; custom never."""
    explained = explain_signatures(
        [
            _hit("dead_expected_active", 1500, 102),
            _hit("dead_expected_active", 1500, 103),
            _hit("last_active_replica", 1500, 101),
            _hit("last_active_replica", 500, 101),
            _hit("custom:mine", 1500, 102),
        ],
        OUT,
        INP,
    )
    assert [h.explained_by for h in explained] == [2, None, 2, None, None]


def test_an_outage_never_over_explains_to_the_end() -> None:
    """Never answered again: everything after its start is explained."""
    never = (Outage(2, 102, ms(1000), ms(1100), ms(1100), 1, until_ns=None),)
    (d,) = explain_disruptions([_disruption(102, 10**6)], never, INP)
    assert d.explained_by == 2


def test_a_peer_down_turns_a_reproduction_into_inconclusive() -> None:
    """All evidence within node 2's outage: inconclusive, and the reasons say why."""
    history = example_run(peer_down=True)
    findings = analyse(history, analysis_input_from_history(history))
    assert findings.verdict is Verdict.INCONCLUSIVE
    assert any("explained by node 2 refusing connections" in r for r in findings.reasons)
    assert any(r.startswith("node 2 refused 2 connection(s)") for r in findings.reasons)
    assert all(d.explained_by == 2 for d in findings.disruptions)
    assert [t.text for t in findings.timeline if t.kind == "outage"] == [
        "node 2 refuses connections (2 call(s) refused): a peer down",
        "node 2 answers again",
    ]
    assert findings_from_json(findings_to_json(findings)) == findings


def test_without_an_outage_the_same_run_reproduces() -> None:
    """The counterpart: the same evidence, no peer down, is a reproduction."""
    history = example_run(peer_down=False)
    findings = analyse(history, analysis_input_from_history(history))
    assert findings.verdict is Verdict.REPRODUCED
    assert findings.outages == ()
    assert not any("refusing connections" in r for r in findings.reasons)


def test_evidence_outside_the_outage_still_reproduces() -> None:
    """Node 1 refusing at the end explains nothing about node 2's replica leaving Active."""
    history = example_run(peer_down=False)
    t = history.end_ns + 1
    n = len(history)
    refused = (
        Invoke(n, t, 9999, "watch", "cluster_info", 1, 101, ""),
        Complete(
            n + 1, t + 1, 9999, "watch", "cluster_info", 1, 101, Outcome.FAIL, None, REFUSED_EXAMPLE
        ),
    )
    extended = History(history.events + refused)
    findings = analyse(extended, analysis_input_from_history(extended))
    assert findings.verdict is Verdict.REPRODUCED
    assert [o.node for o in findings.outages] == [1]


def test_the_grace_grows_by_the_longest_sleep() -> None:
    """A lagging peer logs the Dead entries' WARNs when it wakes: its sleep adds to the grace."""
    lag = [
        PeerLag(1, 101, 0, 0.0, 0),
        PeerLag(2, 102, 40, 9000.0, 3, slept_from_ns=ms(1000), slept_until_ns=ms(21000)),
        PeerLag(3, 103, 0, 0.0, 0, slept_from_ns=ms(1000), slept_until_ns=None),
    ]
    assert grace_ns(lag) == GRACE_NS + ms(20000)
    assert grace_ns([]) == GRACE_NS
    (late,) = explain_disruptions([_disruption(102, 2000 + 25000)], OUT, INP, grace=grace_ns(lag))
    assert late.explained_by == 2
