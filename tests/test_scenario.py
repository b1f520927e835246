"""Tests of the scenario: defaults, TOML files, option overrides and validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lagrace.errors import ScenarioError
from lagrace.scenario import (
    Scenario,
    scenario_from_file,
    scenario_from_toml_text,
    scenario_to_json,
    validate,
    with_overrides,
)


def test_defaults_are_the_seed_conditions() -> None:
    """Defaults: 3 shards RF3, slow-down of node 2 for 20 s, one create, the simulated cluster."""
    s = validate(Scenario())
    assert (s.existing.shards, s.existing.replication_factor) == (3, 3)
    assert (s.lag.target, s.lag.duration_s, s.burst.count) == ("2", 20.0, 1)
    assert s.uses_sim


def test_toml_sections_and_coercion() -> None:
    """TOML keys land in their sections; ints become floats where the field is a float."""
    s = scenario_from_toml_text(
        """
        [run]
        name = "short"
        seed = 7
        [cluster]
        nodes = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
        [lag]
        duration_s = 5
        target = "1"
        [signatures]
        boom = "Consensus stopped"
        """
    )
    assert s.run.name == "short"
    assert s.run.seed == 7
    assert s.lag.duration_s == 5.0
    assert isinstance(s.lag.duration_s, float)
    assert s.cluster.nodes == ("http://127.0.0.1:1", "http://127.0.0.1:2")
    assert dict(s.signatures) == {"boom": "Consensus stopped"}
    assert not s.uses_sim


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[lag]\nduration_s = 301", "lag.duration_s must be within 0..300"),
        ("[lag]\nduration_s = -1", "lag.duration_s"),
        ("[lagg]\nduration_s = 1", "unknown scenario section 'lagg'"),
        ("[lag]\nduraton_s = 1", "unknown scenario key 'lag.duraton_s'"),
        ("[hammer]\nworkers = 'four'", "hammer.workers must be an integer"),
        ("[hammer]\nwait = 'sometimes'", "hammer.wait must be true, false or mixed"),
        ("[run]\nkeep = 3", "run.keep must be true or false"),
        ("[signatures]\nbad = '('", "signatures.bad is not a valid regex"),
        ("[cluster]\nnodes = ['a']\nlogs = ['x', 'y']", "one log file per node"),
        ("not toml [", "invalid TOML"),
        ("lag = 3", "must be a [section]"),
    ],
)
def test_invalid_scenarios_name_the_key(text: str, message: str) -> None:
    """Every invalid value is refused with one line naming what is wrong."""
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario_from_toml_text(text)


def test_overrides_win_and_none_is_ignored() -> None:
    """Options override the file; unset options (None) leave it alone."""
    base = scenario_from_toml_text("[lag]\nduration_s = 5\n[hammer]\nworkers = 2")
    s = with_overrides(base, {"lag.duration_s": 8, "hammer.workers": None, "cluster.nodes": "a,b"})
    assert s.lag.duration_s == 8.0
    assert s.hammer.workers == 2
    assert s.cluster.nodes == ("a", "b")


def test_unreadable_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A missing file gives one line naming it."""
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        scenario_from_file(tmp_path / "missing.toml")


def test_json_form_records_everything() -> None:
    """The effective scenario is recorded in full in config.json."""
    obj = scenario_to_json(with_overrides(Scenario(), {"signatures.x": "y"}))
    assert obj["lag"]["duration_s"] == 20.0
    assert obj["signatures"] == {"x": "y"}
