"""Found kinds, cells, the matrix (counts, version, JSON, Markdown) and compare."""

from __future__ import annotations

import pytest

from lagrace.analysis.findings import Disruption, Findings, Panic, SignatureHit, Verdict
from lagrace.errors import UsageError
from lagrace.suite.catalogue import load_catalogue, select
from lagrace.suite.found import Cell, classify, kinds_of
from lagrace.suite.matrix import (
    RunRecord,
    build_matrix,
    compare,
    format_compare_markdown,
    format_matrix_markdown,
    matrix_from_json,
    matrix_to_json,
    version_of_config,
)

ENTRIES = select(load_catalogue(), ["create-under-strong-writes", "delete-under-writes"])


def _rec(name: str, index: int, cell: Cell, version: str = "1.18.3") -> RunRecord:
    return RunRecord(name, index, cell, "not_reproduced", qdrant_version=version)


def test_kinds_of_findings() -> None:
    """Unexplained evidence and panics become kinds; explained evidence does not."""
    hit = SignatureHit("dead_expected_active", 1, 101, 5, "m")
    explained = Disruption("c", 0, 102, 1, 101, "Dead", ("Dead",), 1, None, explained_by=2)
    findings = Findings(
        verdict=Verdict.REPRODUCED,
        reasons=(),
        signatures=(hit,),
        disruptions=(explained,),
        panics=(Panic(1, 101, 9, "log", "unwrap"), Panic(2, 102, 9, "answer", "x", task=3)),
    )
    assert kinds_of(findings) == (
        "panic",
        "reproduced",
        "signature",
        "signature:dead_expected_active",
        "task_panicked",
    )


@pytest.mark.parametrize(
    ("kinds", "verdict", "sim", "modelled", "cell"),
    [
        (("panic",), Verdict.INCONCLUSIVE, False, False, Cell.FOUND),
        ((), Verdict.INCONCLUSIVE, False, True, Cell.INCONCLUSIVE),
        ((), Verdict.ERROR, True, False, Cell.INCONCLUSIVE),
        ((), Verdict.NOT_REPRODUCED, True, False, Cell.NOT_MODELLED),
        (("write_500",), Verdict.NOT_REPRODUCED, True, False, Cell.NOT_MODELLED),
        ((), Verdict.NOT_REPRODUCED, True, True, Cell.NOT_FOUND),
        ((), Verdict.NOT_REPRODUCED, False, False, Cell.NOT_FOUND),
    ],
)
def test_classify(
    kinds: tuple[str, ...], verdict: Verdict, sim: bool, modelled: bool, cell: Cell
) -> None:
    """Found beats everything; a model that lacks the scenario says not modelled, never not
    found."""
    assert classify(("panic", "task_panicked"), kinds, verdict, sim=sim, sim_modelled=modelled) is (
        cell
    )


def test_matrix_counts_expectations_and_json() -> None:
    """Counts per cell, the result line, the expectation for the version, a JSON round trip."""
    records = [
        _rec("delete-under-writes", 1, Cell.FOUND),
        _rec("delete-under-writes", 2, Cell.FOUND),
        _rec("delete-under-writes", 3, Cell.NOT_FOUND),
        _rec("delete-under-writes", 4, Cell.INCONCLUSIVE),
        _rec("create-under-strong-writes", 1, Cell.NOT_FOUND),
    ]
    m = build_matrix(
        ENTRIES, records, suite_id="s1", started="t", sim=False, repeat=4, ended="complete"
    )
    rows = {r.scenario: r for r in m.rows}
    assert m.qdrant_version == "1.18.3"
    assert rows["delete-under-writes"].result == "found 2/3 (+1 inconclusive)"
    assert rows["delete-under-writes"].expected == "found"
    assert rows["create-under-strong-writes"].result == "not found 0/1"
    assert rows["create-under-strong-writes"].expected == "not_found"
    assert matrix_from_json(matrix_to_json(m)) == m
    text = format_matrix_markdown(m)
    assert "| delete-under-writes | found 2/3 (+1 inconclusive) | 2 | 1 | 1 | 0 | found |" in text


def test_sim_matrix_says_not_modelled() -> None:
    """On the simulated cluster the expectation is whether the model has the scenario."""
    records = [_rec("delete-under-writes", 1, Cell.NOT_MODELLED, "1.16.2")]
    m = build_matrix(ENTRIES, records, suite_id="s", started="t", sim=True, repeat=1, ended="x")
    rows = {r.scenario: r for r in m.rows}
    assert rows["delete-under-writes"].result == "not modelled"
    assert rows["delete-under-writes"].expected == "not_modelled"
    assert rows["create-under-strong-writes"].result == "not run"


def test_version_of_config() -> None:
    """The nodes' version from config.json's qdrant_builds (joined when they differ)."""
    assert version_of_config({"qdrant_builds": {"101": {"version": "1.16.2"}}}) == "1.16.2"
    two = {"qdrant_builds": {"1": {"version": "1.18.3"}, "2": {"version": "1.16.2"}}}
    assert version_of_config(two) == "1.16.2/1.18.3"
    assert version_of_config({}) is None


def test_compare_lines_up_two_matrices() -> None:
    """A scenario found in one matrix and not in the other differs; missing rows show '-'."""
    old = build_matrix(
        ENTRIES,
        [_rec("create-under-strong-writes", 1, Cell.FOUND, "1.16.2")],
        suite_id="a", started="t", sim=False, repeat=1, ended="complete",
    )  # fmt: skip
    new = build_matrix(
        ENTRIES[:1],
        [_rec("create-under-strong-writes", 1, Cell.NOT_FOUND)],
        suite_id="b", started="t", sim=False, repeat=1, ended="complete",
    )  # fmt: skip
    lines = {c.scenario: c for c in compare(old, new)}
    assert lines["create-under-strong-writes"].differs
    assert (lines["delete-under-writes"].a, lines["delete-under-writes"].b) == ("not run", "-")
    text = format_compare_markdown(old, new)
    assert "| create-under-strong-writes | found 1/1 | not found 0/1 | differs |" in text
    assert "A: Qdrant 1.16.2" in text


def test_a_file_that_is_not_a_matrix() -> None:
    """matrix_from_json refuses anything but the suite format with one line."""
    with pytest.raises(UsageError, match="not a lagrace suite matrix"):
        matrix_from_json({"format": "lagrace-hunt/1"})
