"""The search state machine against scripted oracles: no I/O, no event loop, no clock."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lagrace.hunt.model import (
    Finished,
    HuntState,
    Request,
    Settings,
    TrialOutcome,
    observed,
    state_from_json,
    state_to_json,
)
from lagrace.hunt.search import plan_next, time_left
from lagrace.hunt.space import parse_param
from lagrace.hunt.walk import walk_axis
from lagrace.testing.oracles import bernoulli_oracle, drive, logistic, step

BASE = {"burst.count": 3.0, "hammer.workers": 8.0, "hammer.rate": 25.0, "lag.duration_s": 20.0}


def settings(*specs: str, **kw: object) -> Settings:
    """Settings over the given params with a small, quick walk and no shrinking by default."""
    values: dict[str, object] = {
        "params": tuple(parse_param(s) for s in specs),
        "base": BASE,
        "seed": 7,
        "trials": 4,
        "boundary_trials": 6,
        "resolution": 1.0,
        "budget_trials": 500,
        "time_limit_s": 1e6,
        "shrink": False,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def test_step_oracle_bracket_within_resolution() -> None:
    """A sharp edge at 12/s is bracketed within the resolution, never side below it."""
    state = HuntState(settings("hammer.rate=1:40"))
    end = drive(state, bernoulli_oracle(step("hammer.rate", 12.0)))
    assert end is not None
    assert end.reason == "done"
    walk = walk_axis(state.settings, state.settings.params[0], state.trials)
    assert walk.status == "boundary"
    assert walk.bracket is not None
    never, repro = walk.bracket
    assert never < 12.0 <= repro
    assert repro - never <= 1.0


def test_decreasing_window_is_found_too() -> None:
    """Reproducing at low values (a short offset, say) gives a bracket the other way round."""
    state = HuntState(settings("burst.offset_s=0:20"))
    drive(state, bernoulli_oracle(step("burst.offset_s", 7.5, above=False)))
    walk = walk_axis(state.settings, state.settings.params[0], state.trials)
    assert walk.bracket is not None
    never, repro = walk.bracket
    assert repro <= 7.5 < never
    assert never - repro <= 1.0


def test_integer_parameter_stops_at_adjacent_values() -> None:
    """An integer parameter's bracket ends at two neighbouring integers."""
    state = HuntState(settings("hammer.workers=1:16", resolution=None))
    drive(state, bernoulli_oracle(step("hammer.workers", 6.0)))
    walk = walk_axis(state.settings, state.settings.params[0], state.trials)
    assert walk.bracket == (5.0, 6.0)


def test_never_reproducing_finishes_with_no_reproduction() -> None:
    """An oracle that never reproduces ends the hunt with no window, after the sweep only."""
    state = HuntState(settings("hammer.rate=1:40"))
    end = drive(state, bernoulli_oracle(lambda c: 0.0))
    assert end == Finished(
        "no_reproduction", "no searched point reproduced: no window in the ranges given"
    )
    assert len(state.trials) == 5 * 4


def test_noisy_oracle_brackets_the_rise() -> None:
    """With a smooth rise around 20/s, the never side stays where p is small."""
    state = HuntState(settings("hammer.rate=1:40", boundary_trials=12))
    drive(state, bernoulli_oracle(logistic("hammer.rate", 20.0, 1.5)))
    walk = walk_axis(state.settings, state.settings.params[0], state.trials)
    assert walk.bracket is not None
    never, repro = walk.bracket
    assert 12.0 <= never < repro <= 24.0


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_noisy_oracle_terminates_within_budget(seed: int) -> None:
    """Whatever the noise, the walk ends and never exceeds the budget."""
    state = HuntState(settings("hammer.rate=1:40", seed=seed, budget_trials=60))
    end = drive(state, bernoulli_oracle(lambda c: 0.3 if c["hammer.rate"] > 10 else 0.05))
    assert end is not None
    assert len(state.trials) <= 60


def test_same_seed_same_hunt() -> None:
    """Two hunts with the same seed and a seeded noisy oracle run the same trials."""
    runs = []
    for _ in range(2):
        state = HuntState(settings("hammer.rate=1:40"))
        drive(state, bernoulli_oracle(logistic("hammer.rate", 15.0, 3.0)))
        runs.append([(t.config["hammer.rate"], t.seed, t.outcome) for t in state.trials])
    assert runs[0] == runs[1]


def test_budget_stops_the_hunt() -> None:
    """The trial budget is a hard cap and the reason says so."""
    state = HuntState(settings("hammer.rate=1:40", budget_trials=7))
    end = drive(state, bernoulli_oracle(step("hammer.rate", 12.0)))
    assert end is not None
    assert end.reason == "budget"
    assert len(state.trials) == 7


def test_time_limit_is_not_overrun_by_the_next_trial() -> None:
    """A trial that would end past the time limit is not started."""
    state = HuntState(settings("hammer.rate=1:40", time_limit_s=250.0))
    end = drive(state, bernoulli_oracle(step("hammer.rate", 12.0)), duration_s=60.0)
    assert end is not None
    assert end.reason == "time_limit"
    assert state.elapsed_s <= 250.0
    assert len(state.trials) == 4


def test_discarded_trials_are_not_counted_and_are_retried() -> None:
    """A discarded trial is re-proposed at the same point with a new index and seed."""
    state = HuntState(settings("hammer.rate=1:40"))
    first = plan_next(state)
    assert isinstance(first, Request)
    state.trials.append(observed(first, TrialOutcome.DISCARDED, detail="commits differ"))
    again = plan_next(state)
    assert isinstance(again, Request)
    assert again.config == first.config
    assert again.index == 1
    assert again.seed != first.seed


def test_inconclusive_points_give_up() -> None:
    """A point whose trials are all inconclusive is given up after twice its need."""
    state = HuntState(settings("hammer.rate=1:40"))
    end = drive(state, lambda r: TrialOutcome.INCONCLUSIVE)
    assert end is not None
    assert end.reason == "no_reproduction"
    assert len(state.trials) == 5 * 4 * 2


def test_resume_from_json_continues_identically() -> None:
    """An interrupted hunt, saved and loaded, finishes exactly as an uninterrupted one."""
    oracle = bernoulli_oracle(logistic("hammer.rate", 15.0, 2.0))
    whole = HuntState(settings("hammer.rate=1:40", "burst.count=1:5"))
    drive(whole, oracle)
    part = HuntState(settings("hammer.rate=1:40", "burst.count=1:5"))
    assert drive(part, oracle, max_trials=13) is None
    text = json.dumps(state_to_json(part))
    resumed = state_from_json(json.loads(text))
    drive(resumed, oracle)
    assert resumed.trials == whole.trials
    assert resumed.finished == whole.finished


def test_axes_are_walked_in_turn_with_others_at_base() -> None:
    """The second axis starts after the first is done, the first held at its base value."""
    state = HuntState(settings("hammer.rate=1:40", "burst.count=1:5"))
    drive(state, bernoulli_oracle(step("hammer.rate", 12.0)))
    axes = [t.axis for t in state.trials]
    first_count = axes.index("burst.count")
    assert set(axes[:first_count]) == {"hammer.rate"}
    assert all(t.config["hammer.rate"] == 25.0 for t in state.trials if t.axis == "burst.count")


def test_time_left_forecast() -> None:
    """The forecast shrinks as the hunt goes on and is capped by the budget and time limit."""
    state = HuntState(settings("hammer.rate=1:40", budget_trials=30))
    assert time_left(state).seconds is None
    drive(state, bernoulli_oracle(step("hammer.rate", 12.0)), max_trials=3)
    early = time_left(state)
    assert early.trials <= 27
    assert early.seconds is not None
    drive(state, bernoulli_oracle(step("hammer.rate", 12.0)), max_trials=10)
    assert time_left(state).trials < early.trials
    capped = replace(state.settings, time_limit_s=state.elapsed_s + 30)
    assert time_left(HuntState(capped, state.trials, state.elapsed_s)).seconds == 30
