"""The window statements and the summary of a hunt."""

from __future__ import annotations

from lagrace.hunt.model import HuntState, Settings
from lagrace.hunt.space import parse_param
from lagrace.hunt.window import summarise
from lagrace.testing.oracles import bernoulli_oracle, drive, step

BASE = {"burst.count": 1.0, "hammer.workers": 8.0, "hammer.rate": 25.0, "lag.duration_s": 20.0}


def run(probability_edge: float | None, spec: str = "hammer.rate=1:40") -> HuntState:
    """A finished rate hunt against a step oracle (None: never reproduces)."""
    s = Settings(
        params=(parse_param(spec),),
        base=BASE,
        seed=1,
        trials=4,
        boundary_trials=4,
        resolution=1.0,
        time_limit_s=1e6,
        shrink=False,
    )
    state = HuntState(s)
    edge = probability_edge
    oracle = bernoulli_oracle(
        (lambda c: 0.0) if edge is None else step(spec.split("=", maxsplit=1)[0], edge)
    )
    drive(state, oracle)
    return state


def test_boundary_statement_reads_plainly() -> None:
    """A found edge is stated as 'NAME >= X reproduces with p >= L (n = ...)'."""
    result = summarise(run(12.0))
    text = result.axes[0].statement
    assert text.startswith("hammer.rate >= ")
    assert "/s reproduces with p >= " in text
    assert "(n = " in text
    assert "0 of " in text
    assert "estimate >= 0.8 from hammer.rate >= " in text
    assert result.reproduced


def test_never_statement() -> None:
    """A range that never reproduced says so, with the upper bound of p."""
    result = summarise(run(None))
    assert result.axes[0].statement.startswith("hammer.rate never reproduced in 1/s..40/s")
    assert not result.reproduced
    assert result.minimal is None


def test_always_statement() -> None:
    """A range that reproduced everywhere says there is no boundary inside it."""
    result = summarise(run(0.0))
    assert "no boundary inside the range" in result.axes[0].statement


def test_counts_in_summary() -> None:
    """The summary counts the counted trials."""
    state = run(12.0)
    result = summarise(state)
    assert result.counted == len(state.trials)
    assert result.discarded == 0
    assert result.inconclusive == 0
