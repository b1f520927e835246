"""The verdict: the Jepsen-style merge (table and properties) and analyse() end to end."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagrace.analysis import logtexts
from lagrace.analysis.findings import (
    Findings,
    Verdict,
    WriteSummary,
    findings_from_json,
    findings_to_json,
)
from lagrace.analysis.inputs import AnalysisInput, analysis_input_from_history
from lagrace.analysis.verdict import (
    VERDICT_RANK,
    Check,
    analyse,
    check_run_end,
    check_writes,
    merge_checks,
    merge_verdicts,
)
from lagrace.api import calls
from lagrace.exitcodes import ExitCode
from lagrace.testing.histories import EXAMPLE_EXISTING, HistoryBuilder, example_run, upsert

R, N, U, E = (
    Verdict.REPRODUCED,
    Verdict.NOT_REPRODUCED,
    Verdict.INCONCLUSIVE,
    Verdict.ERROR,
)  # U: unknown


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ((), N),
        ((N,), N),
        ((N, N), N),
        ((N, U), U),
        ((U, N), U),
        ((N, R), R),
        ((U, R), R),
        ((R, U, N), R),
        ((E, N), E),
        ((E, U), E),
        ((E, R), R),
    ],
)
def test_merge_table(verdicts: tuple[Verdict, ...], expected: Verdict) -> None:
    """reproduced > error > inconclusive > not_reproduced."""
    assert merge_verdicts(verdicts) is expected


verdict_lists = st.lists(st.sampled_from(list(Verdict)), max_size=6)


@given(verdict_lists, verdict_lists)
def test_merge_is_monotone(a: list[Verdict], b: list[Verdict]) -> None:
    """Adding checks never weakens the verdict."""
    assert VERDICT_RANK[merge_verdicts(a + b)] >= VERDICT_RANK[merge_verdicts(a)]


@given(verdict_lists, verdict_lists, verdict_lists)
def test_merge_is_associative_commutative_idempotent(
    a: list[Verdict], b: list[Verdict], c: list[Verdict]
) -> None:
    """The merge is a semilattice join: order and grouping do not matter."""
    ab_c = merge_verdicts(
        [merge_verdicts([merge_verdicts(a), merge_verdicts(b)]), merge_verdicts(c)]
    )
    assert ab_c is merge_verdicts(a + b + c)
    assert merge_verdicts(b + a) is merge_verdicts(a + b)
    assert merge_verdicts(a + a) is merge_verdicts(a)


def test_merge_checks_puts_deciding_reasons_first() -> None:
    """The reasons of the checks that decided the verdict come first."""
    verdict, reasons = merge_checks(
        [Check(N, ("n1",)), Check(U, ("i1",)), Check(N, ("n2",)), Check(U, ("i2",))]
    )
    assert verdict is U
    assert reasons == ("i1", "i2", "n1", "n2")


def _analyse(**kw: bool | str) -> Findings:
    h = example_run(**kw)  # type: ignore[arg-type]  # the example's keyword flags
    return analyse(h, analysis_input_from_history(h))


@pytest.mark.parametrize(
    ("kw", "verdict", "first_reason"),
    [
        ({}, R, "signature dead_expected_active logged 3x on node 1, 2, 3"),
        ({"converge": False}, R, "signature dead_expected_active"),
        ({"end_reason": "error"}, R, "signature dead_expected_active"),
        ({"reproduce": False}, N, "no signature WARN on any peer"),
        ({"reproduce": False, "converged_mark": False}, N, "no signature WARN on any peer"),
        ({"reproduce": False, "lag": False}, U, "lag never took hold on target node 2"),
        ({"reproduce": False, "converge": False}, U, "never converged: last commits differ"),
        ({"reproduce": False, "end_reason": "interrupted"}, U, "the run was interrupted"),
        ({"reproduce": False, "end_reason": "error"}, E, "the run ended with an error"),
    ],
)
def test_analyse_verdicts(kw: dict[str, bool | str], verdict: Verdict, first_reason: str) -> None:
    """analyse() over the canned run's variants gives the documented verdicts and reasons."""
    findings = _analyse(**kw)
    assert findings.verdict is verdict
    assert findings.reasons[0].startswith(first_reason)


def test_reproduced_findings_carry_the_evidence() -> None:
    """A reproduced run lists hits, disruptions, writes, lag, convergence and the timeline."""
    f = _analyse()
    assert f.verdict.exit_code is ExitCode.ANOMALY
    assert [h.node for h in f.signatures] == [1, 3, 2]
    assert {d.observer_node for d in f.disruptions} == {1, 3}
    assert f.first_disruption_ns == f.disruptions[0].first_ns
    assert (f.writes.total, f.writes.info) == (2, 1)
    assert f.lag_took_hold
    assert f.converged
    assert any(
        "replica 102 of existing_collection shard 0 left Active (Dead -> Partial)" in r
        for r in f.reasons
    )
    assert any("failed writes alone are not a reproduction" in r for r in f.reasons)
    assert any(e.kind == "disruption" for e in f.timeline)


def test_disruption_alone_reproduces() -> None:
    """A replica of the existing collection leaving Active is enough, without any WARN."""
    b = HistoryBuilder({1: 1})
    b.collection_cluster(0, node=1, collection="e", replicas=[(0, 1, "Active")])
    b.collection_cluster(1, node=1, collection="e", replicas=[(0, 1, "Dead")])
    f = analyse(b.build(), AnalysisInput(existing_collections=("e",), node_peers={1: 1}))
    assert f.verdict is R
    assert f.reasons[0].startswith("replica 1 of e shard 0 left Active (Dead)")
    assert "never back to Active" in f.reasons[0]


def test_failed_writes_alone_do_not_reproduce() -> None:
    """Failed writes are reported, but a run with nothing else is not a reproduction."""
    b = HistoryBuilder({1: 1})
    b.cluster(0, node=1, commit=1, role="Leader", last_update_age_ms=5000.0)
    b.operation(1, 2, upsert("e"), outcome="fail", status=500)
    b.cluster(2.5, node=1, commit=1, role="Leader", last_update_age_ms=10.0)  # the stall ended
    b.run_end(3)
    f = analyse(
        b.build(), AnalysisInput(existing_collections=("e",), node_peers={1: 1}, target_node=1)
    )
    assert f.verdict is N
    assert f.writes.fail == 1
    assert any("1 failed and 0 unknown-outcome writes" in r for r in f.reasons)


def test_check_writes_and_run_end_texts() -> None:
    """Writes never decide; run_end maps error/interrupted and notes a missing mark."""
    assert check_writes(WriteSummary(3, 3, 0, 0)) == Check(
        N, ("all 3 writes to the existing collection ok",)
    )
    assert check_run_end(HistoryBuilder().build()).verdict is N
    b = HistoryBuilder()
    b.run_end(0, "error", detail="boom")
    assert check_run_end(b.build()) == Check(E, ("the run ended with an error: boom",))


def test_findings_round_trip_through_json() -> None:
    """findings.json of analyse() reads back to equal Findings."""
    f = _analyse()
    assert findings_from_json(findings_to_json(f)) == f


def test_control_run_without_slow_down_is_not_inconclusive() -> None:
    """A run that proposed no slow-down is a control run: quiet means not reproduced."""
    from lagrace.analysis.inputs import analysis_input_from_history
    from lagrace.analysis.verdict import analyse
    from lagrace.testing.histories import HistoryBuilder

    b = HistoryBuilder({1: 101, 2: 102})
    b.mark(0, "run_start", {"existing_collection": EXAMPLE_EXISTING, "slow_downs_planned": 0})
    b.mark(4, "converged", {})
    b.mark(5, "run_end", {"reason": "converged"})
    history = b.build()
    findings = analyse(history, analysis_input_from_history(history))
    assert findings.verdict is Verdict.NOT_REPRODUCED
    assert any("control run" in r for r in findings.reasons)
    b2 = HistoryBuilder({1: 101, 2: 102})
    b2.run_start(0, existing=EXAMPLE_EXISTING, new=[], target_node=2)
    slow_down = calls.slow_down(EXAMPLE_EXISTING, peer_id=102, duration_s=5)
    op = b2.invoke(1, slow_down, worker="lag-0", node=1)
    b2.complete(op, 2, outcome="ok", status=200)
    b2.mark(4, "converged", {})
    b2.mark(5, "run_end", {"reason": "converged"})
    history2 = b2.build()
    lagless = analyse(history2, analysis_input_from_history(history2))
    assert lagless.verdict is Verdict.INCONCLUSIVE
    b3 = HistoryBuilder({1: 101, 2: 102})
    b3.mark(0, "run_start", {"existing_collection": EXAMPLE_EXISTING, "slow_downs_planned": 1})
    b3.mark(4, "converged", {})
    b3.mark(5, "run_end", {"reason": "interrupted"})
    history3 = b3.build()
    cut_short = analyse(history3, analysis_input_from_history(history3))
    assert cut_short.verdict is Verdict.INCONCLUSIVE
    assert not any("control run" in r for r in cut_short.reasons)


def test_the_staging_probe_of_preflight_is_no_slow_down() -> None:
    """A run with no slow-down but preflight's duration-0 probe (v1.16.x) is a control run,
    and the probe is not on the timeline."""
    b = HistoryBuilder({1: 101, 2: 102, 3: 103})
    probe = calls.slow_down("lagrace_staging_probe_does_not_exist", peer_id=101, duration_s=0)
    b.operation(0, 5, probe, worker="preflight", node=1, outcome="fail", status=404)
    nodes = [{"node": n, "peer_id": 100 + n} for n in (1, 2, 3)]
    b.mark(
        10,
        "run_start",
        {
            "existing_collection": EXAMPLE_EXISTING,
            "target_node": 2,
            "nodes": nodes,
            "slow_downs_planned": 0,
        },
    )
    for node in (1, 2, 3):
        b.cluster(100, node=node, commit=5, leader=101, role="Leader" if node == 1 else "Follower")
    b.run_end(5_000)
    h = b.build()
    findings = analyse(h, analysis_input_from_history(h))
    assert "no slow-down was proposed: a control run without lag" in findings.reasons
    assert not any(e.kind == "slow_down" for e in findings.timeline)


def test_a_warn_about_an_earlier_runs_collection_is_not_this_runs() -> None:
    """On a cluster still applying an earlier run's entries, its WARNs are noted, not counted."""
    b = HistoryBuilder({1: 101, 2: 102, 3: 103})
    b.mark(0, "run_start", {"existing_collection": EXAMPLE_EXISTING, "target_node": 2})
    b.log(
        1_000,
        node=1,
        level="DEBUG",
        target=logtexts.TARGET_META_OPS,
        message=logtexts.format_set_replica_state("existing_old", 0, 103, "Dead", "Active"),
    )
    b.log(1_001, node=1, message=logtexts.format_dead_expected_active(103, 0))
    b.run_end(2_000)
    h = b.build()
    findings = analyse(h, analysis_input_from_history(h))
    assert findings.verdict is not Verdict.REPRODUCED
    assert any("existing_old" in r and "not counted" in r for r in findings.reasons)
    assert [s.collection for s in findings.signatures] == ["existing_old"]
