"""The catalogue: the shipped scenarios load and validate; the [catalogue] schema refuses typos."""

from __future__ import annotations

import pytest

from lagrace.errors import ScenarioError
from lagrace.suite.catalogue import load_catalogue, parse_entry, parse_range, select

GOOD = """
[catalogue]
description = "A race."
expects = "Found on old versions."
found = ["disruption"]
applies_to = ">=1.16.2"
sim_modelled = true

[catalogue.expected]
"<1.17.0" = "found"
">=1.17.0" = "not_found"

[lag]
repeat = 0
"""


def test_shipped_catalogue() -> None:
    """At least the four scenarios of issue 14 ship, each valid with its own run name."""
    entries = {e.name: e for e in load_catalogue()}
    assert {
        "create-under-strong-writes",
        "delete-under-writes",
        "create-without-slow-down",
        "create-delete-during-lag",
    } <= set(entries)
    for name, entry in entries.items():
        assert entry.scenario.run.name == name
        assert entry.description
        assert entry.expects
        assert entry.found
        assert entry.scenario.uses_sim  # the suite's --nodes choose the cluster
    assert entries["create-under-strong-writes"].scenario.lag.repeat == 1  # the default race
    delete = entries["delete-under-writes"]
    assert (delete.scenario.hammer.workers, delete.scenario.delete.count) == (16, 1)
    assert delete.scenario.delete.target == "existing"
    assert not delete.sim_modelled
    assert "panic" in delete.found
    no_lag = entries["create-without-slow-down"].scenario
    assert (no_lag.lag.repeat, no_lag.burst.count, no_lag.hammer.ordering) == (0, 3, "strong")


def test_expectation_by_version() -> None:
    """Expected outcomes come from the version ranges; outside applies_to is not applicable."""
    entry = parse_entry("toy", GOOD)
    assert entry.expectation((1, 16, 2)) == "found"
    assert entry.expectation((1, 18, 3)) == "not_found"
    assert entry.expectation((1, 15, 0)) == "not_applicable"
    assert entry.expectation(None) == "unknown"
    assert parse_range(">=1.16.2,<1.17.0", where="x").contains((1, 16, 3))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('found = ["disruption"]', 'found = ["dsruption"]'), "unknown kind"),
        (GOOD.replace("sim_modelled = true", "sim_modelled = 1"), "sim_modelled must be"),
        (GOOD.replace('"<1.17.0" = "found"', '"<1.17.0" = "yes"'), "must be found or not_found"),
        (GOOD.replace('">=1.16.2"', '"1.16"'), "not a version constraint"),
        (GOOD.replace("[lag]", "[cluster]\nnodes = ['http://x:1']\n[lag]"), "may not set"),
        (GOOD.replace("repeat = 0", "repeat = -1"), "lag.repeat must be >= 0"),
        (GOOD.replace("[catalogue]", "[catalogue]\nseverity = 1"), "unknown catalogue key"),
        ("[lag]\nrepeat = 0\n", "no \\[catalogue\\] table"),
    ],
)
def test_bad_entries_are_refused(text: str, message: str) -> None:
    """Every malformed catalogue file is one ScenarioError naming the scenario."""
    with pytest.raises(ScenarioError, match=message) as info:
        parse_entry("toy", text)
    assert str(info.value).startswith("scenario toy")


def test_select_keeps_the_order_and_refuses_unknown_names() -> None:
    """--scenario picks entries in the order given; an unknown name names the known ones."""
    entries = load_catalogue()
    picked = select(entries, ["delete-under-writes", "create-under-strong-writes"])
    assert [e.name for e in picked] == ["delete-under-writes", "create-under-strong-writes"]
    assert select(entries, []) == entries
    with pytest.raises(ScenarioError, match="known: create-delete-during-lag"):
        select(entries, ["nope"])
