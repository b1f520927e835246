"""The one convergence judge, on tables of literal snapshots (live and offline use it alike)."""

from __future__ import annotations

from typing import Any

import pytest

from lagrace.analysis.convergence import Convergence, judge_convergence


def cluster(commit: int = 10, pending: int = 0, stalled: bool = False) -> dict[str, Any]:
    return {"commit": commit, "pending_operations": pending, "stalled": stalled, "term": 1}


def view(name: str, *states: str) -> dict[str, Any]:
    replicas = [[0, 100 + i, state] for i, state in enumerate(states)]
    return {"collection": name, "visible": True, "replicas": replicas, "transfers": []}


def hidden(name: str) -> dict[str, Any]:
    return {"collection": name, "visible": False, "status": 404}


FINE = {1: cluster(), 2: cluster()}
VIEWS = {(1, "c"): view("c", "Active", "Active"), (2, "c"): view("c", "Active", "Active")}

CASES: list[tuple[str, dict[Any, Any], dict[Any, Any], tuple[str, ...], set[str], str | None]] = [
    ("all settled", FINE, VIEWS, ("c",), set(), None),
    ("nothing observed", {}, {}, ("c",), set(), "no cluster observation to judge by"),
    (
        "a node never answered",
        {1: cluster()},
        VIEWS,
        ("c",),
        set(),
        "no cluster observation of node [2]",
    ),
    (
        "commits differ",
        {1: cluster(10), 2: cluster(9)},
        VIEWS,
        ("c",),
        set(),
        "last commits differ (node 1: 10, node 2: 9)",
    ),
    (
        "pending",
        {1: cluster(), 2: cluster(pending=2)},
        VIEWS,
        ("c",),
        set(),
        "pending operations on node [2]",
    ),
    (
        "stalled",
        {1: cluster(stalled=True), 2: cluster()},
        VIEWS,
        ("c",),
        set(),
        "the consensus thread of node [1] is stalled",
    ),
    (
        "a Dead replica",
        FINE,
        {**VIEWS, (2, "c"): view("c", "Active", "Dead")},
        ("c",),
        set(),
        "node 2 last saw c shard 0 replica 101 Dead",
    ),
    (
        "invisible on one node",
        FINE,
        {**VIEWS, (2, "c"): hidden("c")},
        ("c",),
        set(),
        "node 2 does not show c",
    ),
    (
        "never seen on one node",
        FINE,
        {(1, "c"): VIEWS[(1, "c")]},
        ("c",),
        set(),
        "node 2 does not show c",
    ),
    ("a create that never happened", FINE, VIEWS, ("c", "new"), {"new"}, None),
    (
        "a create that happened on one node only",
        FINE,
        {**VIEWS, (1, "new"): view("new", "Active")},
        ("c", "new"),
        {"new"},
        "node 2 does not show new",
    ),
    (
        "the existing collection may not be absent",
        FINE,
        VIEWS,
        ("c", "gone"),
        set(),
        "node 1 does not show gone",
    ),
]


@pytest.mark.parametrize(
    ("clusters", "views", "names", "absent", "why"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_judge(
    clusters: dict[Any, Any],
    views: dict[Any, Any],
    names: tuple[str, ...],
    absent: set[str],
    why: str | None,
) -> None:
    got = judge_convergence(clusters, views, (1, 2), names, may_be_absent=absent)
    assert got == Convergence(why is None, why)


def test_nodes_without_a_number_sort_first() -> None:
    """Offline histories may have observations without a node; they are judged too."""
    got = judge_convergence({None: cluster(1), 3: cluster(2)}, {}, (3, None), ())
    assert got.why_not == "last commits differ (node 0: 1, node 3: 2)"
