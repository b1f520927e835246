"""Tests of the race plan: target resolution, schedules, routing, names carrying the run id."""

from __future__ import annotations

import random

import pytest

from lagrace.errors import ScenarioError, UnknownPeerError
from lagrace.plan import NodeRef, hammer_node, hammer_wait, make_plan, make_points, resolve_node
from lagrace.scenario import Scenario, with_overrides
from lagrace.timebase import NS_PER_S

NODES = (
    NodeRef(1, "http://127.0.0.1:1", 7001),
    NodeRef(2, "http://127.0.0.1:2", 7002),
    NodeRef(3, "http://127.0.0.1:3", 7003),
)


def test_resolve_by_index_and_peer_id() -> None:
    """'2' is node 2; a peer id finds its node; anything else is refused."""
    assert resolve_node(NODES, "2", what="t").peer_id == 7002
    assert resolve_node(NODES, "7003", what="t").node == 3
    with pytest.raises(UnknownPeerError, match="not in the cluster"):
        resolve_node(NODES, "9999", what="t")
    with pytest.raises(UnknownPeerError, match="neither"):
        resolve_node(NODES, "two", what="t")


def test_default_plan_targets_node_two_via_the_leader() -> None:
    """The slow-down goes to a non-target peer (the leader), the create after it."""
    plan = make_plan(Scenario(), NODES, "abc123", leader=7001)
    assert plan.target.node == 2
    (step,) = plan.slow_downs
    assert step.via == 1
    assert step.target_peer == 7002
    assert step.at_ns == 1 * NS_PER_S
    (create,) = plan.creates
    assert create.at_ns == 4 * NS_PER_S
    assert create.name == "new_collection_abc123"
    assert plan.existing == "existing_collection_abc123"
    assert plan.lag_end_ns == 21 * NS_PER_S


def test_repeated_slow_downs_differ_so_qdrant_does_not_merge_them() -> None:
    """Identical in-flight proposals are merged by Qdrant: durations are varied slightly."""
    s = with_overrides(Scenario(), {"lag.repeat": 3, "lag.interval_s": 2, "burst.count": 2})
    plan = make_plan(s, NODES, "r", leader=None)
    assert len({step.duration_s for step in plan.slow_downs}) == 3
    assert [step.at_ns for step in plan.slow_downs] == [1 * NS_PER_S, 3 * NS_PER_S, 5 * NS_PER_S]
    assert [c.name for c in plan.creates] == ["new_collection0_r", "new_collection1_r"]


def test_target_as_via_when_only_one_node() -> None:
    """A one-node cluster can only send the slow-down to the target itself."""
    s = with_overrides(Scenario(), {"lag.target": "1"})
    plan = make_plan(s, NODES[:1], "r", leader=7001)
    assert plan.slow_downs[0].via == 1


def test_hammer_routing_and_wait_modes() -> None:
    """Round-robin spreads over nodes; 'lagging' sends to the target; wait alternates."""
    s = with_overrides(Scenario(), {"hammer.peers": "round-robin", "hammer.wait": "mixed"})
    assert [hammer_node(s, NODES, NODES[1], 0, i).node for i in range(4)] == [1, 2, 3, 1]
    assert hammer_node(Scenario(), NODES, NODES[1], 5, 9).node == 2  # the default: lagging
    fixed = with_overrides(s, {"hammer.peers": "3"})
    assert hammer_node(fixed, NODES, NODES[1], 0, 1).node == 3
    assert [hammer_wait(s, w) for w in range(3)] == [True, False, True]
    assert all(hammer_wait(Scenario(), w) for w in range(3))  # the default: wait=true


def test_defaults_are_the_recipe_that_reproduced_on_v1_16_2() -> None:
    """Strong-ordering writes with wait=true through the lagging peer (notes §4.8)."""
    h = Scenario().hammer
    assert (h.ordering, h.wait, h.peers, h.workers, h.batch, h.rate) == (
        "strong",
        "true",
        "lagging",
        8,
        10,
        25.0,
    )


def test_a_target_that_is_the_ordering_leader_is_refused() -> None:
    """Strong writes through the highest peer id are not forwarded: no cycle, exit 3."""
    s = with_overrides(Scenario(), {"lag.target": "3"})
    with pytest.raises(ScenarioError, match="write-ordering leader"):
        make_plan(s, NODES, "r", leader=7001)
    weak = with_overrides(s, {"hammer.ordering": "weak"})
    assert make_plan(weak, NODES, "r", leader=7001).target.node == 3
    no_writes = with_overrides(s, {"hammer.workers": 0})
    assert make_plan(no_writes, NODES, "r", leader=7001).target.node == 3


def test_points_are_seeded_and_sized() -> None:
    """Same seed, same points; vectors have the configured size."""
    a = make_points(random.Random(1), 10, 3, 4)
    b = make_points(random.Random(1), 10, 3, 4)
    assert a == b
    assert [p["id"] for p in a] == [10, 11, 12]
    assert all(len(p["vector"]) == 4 for p in a)
