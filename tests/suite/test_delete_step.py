"""The ``[delete]`` step: scenario keys, the plan's delete steps and what must settle."""

from __future__ import annotations

import pytest

from lagrace.errors import ScenarioError
from lagrace.plan import NodeRef, make_plan
from lagrace.race.runner import run_config
from lagrace.scenario import Scenario, scenario_from_toml_text, scenario_to_json, validate
from lagrace.scenario import with_overrides as over
from lagrace.timebase import NS_PER_S

NODES = (
    NodeRef(1, "http://127.0.0.1:1", 101),
    NodeRef(2, "http://127.0.0.1:2", 102),
    NodeRef(3, "http://127.0.0.1:3", 103),
)


def test_no_delete_by_default() -> None:
    """A scenario without [delete] plans no delete and settles on every created collection."""
    plan = make_plan(Scenario(), NODES, "r1", leader=101)
    assert plan.deletes == ()
    assert plan.settled_names == plan.created_names
    assert "deletes_planned" not in run_config(
        scenario_json=scenario_to_json(Scenario()), nodes=NODES, plan=plan
    )


def test_delete_the_existing_collection() -> None:
    """target existing: one delete of the existing collection at its offset, via the node."""
    s = validate(over(Scenario(), {"delete.count": 1, "delete.offset_s": 4, "delete.via": "1"}))
    plan = make_plan(s, NODES, "r1", leader=103)
    (step,) = plan.deletes
    assert (step.name, step.via, step.at_ns) == (plan.existing, 1, 4 * NS_PER_S)
    assert plan.existing not in plan.settled_names
    mark = run_config(scenario_json=scenario_to_json(s), nodes=NODES, plan=plan)
    assert mark["deletes_planned"] == [plan.existing]


def test_delete_created_collections() -> None:
    """target created: the first `count` collections of the burst, via a non-target peer."""
    s = validate(
        over(Scenario(), {"burst.count": 3, "delete.count": 2, "delete.target": "created"})
    )
    plan = make_plan(s, NODES, "r1", leader=101)
    assert [d.name for d in plan.deletes] == [c.name for c in plan.creates[:2]]
    assert all(d.via != plan.target.node for d in plan.deletes)
    assert plan.settled_names == (plan.existing, plan.creates[2].name)


def test_control_run_lasts_until_the_delete() -> None:
    """Without a slow-down the race is not over before the delete was planned."""
    s = validate(over(Scenario(), {"lag.repeat": 0, "delete.count": 1, "delete.offset_s": 9}))
    assert make_plan(s, NODES, "r1", leader=101).lag_end_ns == 9 * NS_PER_S


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[delete]\ncount = 2\n", "delete.count must be 0 or 1 with delete.target = existing"),
        ('[delete]\ncount = 2\ntarget = "created"\n', "delete.count must be <= burst.count"),
        ('[delete]\ntarget = "other"\n', "delete.target must be existing or created"),
        ("[delete]\noffset_s = -1\n", "delete.offset_s must be >= 0"),
        ("[delete]\nwhen = 3\n", "unknown scenario key 'delete.when'"),
    ],
)
def test_bad_delete_keys_are_refused(text: str, message: str) -> None:
    """Each bad [delete] value is one ScenarioError naming the key."""
    with pytest.raises(ScenarioError, match=message):
        scenario_from_toml_text(text)
