"""Text outputs: the minimal scenario's TOML round trip, the table and the page."""

from __future__ import annotations

from lagrace.hunt.model import HuntState, Settings
from lagrace.hunt.render import (
    format_index_html,
    format_table_markdown,
    scenario_for,
    scenario_toml,
)
from lagrace.hunt.space import parse_param
from lagrace.hunt.window import summarise
from lagrace.scenario import Scenario, scenario_from_toml_text, with_overrides
from lagrace.testing.oracles import bernoulli_oracle, drive, step


def test_toml_round_trip_of_a_scenario() -> None:
    """A scenario written as TOML reads back as the same scenario (runs_dir left default)."""
    scenario = with_overrides(
        Scenario(),
        {
            "run.seed": 42,
            "cluster.nodes": "http://a:6333,http://b:6333",
            "cluster.logs": "/x/1.log,/x/2.log",
            "lag.repeat": 0,
            "hammer.rate": 12.5,
            "signatures.mine": 'Dead.*"quoted"',
        },
    )
    text = scenario_toml(scenario, header=("a header",))
    assert text.startswith("# a header\n")
    assert scenario_from_toml_text(text) == scenario


def test_scenario_for_applies_hunt_config() -> None:
    """Hunt-level values become scenario keys; no slow-down is lag.repeat 0."""
    s = scenario_for(Scenario(), {"hammer.rate": 7.0, "lag.duration_s": 0.0, "burst.count": 2.0})
    assert (s.hammer.rate, s.lag.repeat, s.burst.count) == (7.0, 0, 2)


def test_table_and_page_show_the_window() -> None:
    """The Markdown table and the HTML page carry the statement, points and trials."""
    settings = Settings(
        params=(parse_param("hammer.rate=1:40"),),
        base={"hammer.rate": 25.0, "burst.count": 1.0},
        seed=1,
        trials=2,
        boundary_trials=2,
        resolution=4.0,
        time_limit_s=1e6,
    )
    state = HuntState(settings)
    drive(state, bernoulli_oracle(step("hammer.rate", 12.0)))
    result = summarise(state)
    table = format_table_markdown(result, state.trials)
    assert result.axes[0].statement in table
    assert "| value | reproduced | n | p | 95% interval |" in table
    page = format_index_html(
        result, state.trials, title="t <x>", plots={"hammer.rate": "plots/r.png"}, minimal_toml="a"
    )
    assert "<title>t &lt;x&gt;</title>" in page
    assert 'src="plots/r.png"' in page
    assert page.count("<tr><td>") >= len(state.trials)
