"""Greedy shrinking, driven by scripted oracles."""

from __future__ import annotations

import pytest

from lagrace.hunt.model import HuntState, Settings, TrialOutcome
from lagrace.hunt.shrink import candidate
from lagrace.hunt.space import parse_param
from lagrace.hunt.window import summarise
from lagrace.testing.oracles import bernoulli_oracle, drive

BASE = {"burst.count": 3.0, "hammer.workers": 8.0, "hammer.rate": 25.0, "lag.duration_s": 20.0}


def shrink_settings(**kw: object) -> Settings:
    """A rate hunt that shrinks afterwards, with a quick walk."""
    values: dict[str, object] = {
        "params": (parse_param("hammer.rate=1:40"),),
        "base": BASE,
        "seed": 3,
        "trials": 4,
        "boundary_trials": 4,
        "resolution": 2.0,
        "budget_trials": 500,
        "time_limit_s": 1e6,
        "threshold": 0.75,
        "shrink_trials": 4,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value", "floor", "expected"),
    [
        ("burst.count", 3.0, None, 2.0),
        ("burst.count", 1.0, None, None),
        ("hammer.workers", 8.0, None, 4.0),
        ("hammer.workers", 8.0, 4.0, 6.0),
        ("hammer.workers", 5.0, 4.0, None),
        ("hammer.rate", 40.0, None, 20.0),
        ("hammer.rate", 20.0, 10.0, 15.0),
        ("lag.duration_s", 20.0, None, 0.0),
        ("lag.duration_s", 20.0, 0.0, 10.0),
        ("lag.duration_s", 0.0, None, None),
    ],
)
def test_candidates(name: str, value: float, floor: float | None, expected: float | None) -> None:
    """Each dimension steps down (halving, or by one for creates), above any refused floor."""
    assert candidate(name, value, floor) == expected


def test_shrinks_to_what_the_oracle_needs() -> None:
    """The oracle needs >= 2 workers, >= 10/s and a slow-down: shrinking finds that."""

    def needs(c: dict[str, float]) -> float:
        ok = c["hammer.workers"] >= 2 and c["hammer.rate"] >= 10 and c["lag.duration_s"] >= 4
        return 1.0 if ok else 0.0

    state = HuntState(shrink_settings())
    end = drive(state, bernoulli_oracle(needs))
    assert end is not None
    assert end.reason == "done"
    result = summarise(state)
    assert result.minimal is not None
    assert result.minimal["burst.count"] == 1.0
    assert result.minimal["hammer.workers"] == 2.0
    assert 10.0 <= result.minimal["hammer.rate"] < 15.0
    assert 4.0 <= result.minimal["lag.duration_s"] < 6.0
    assert result.minimal_estimate is not None
    assert result.minimal_estimate.p >= 0.75
    assert result.minimal_seed is not None


def test_no_slow_down_needed_is_found() -> None:
    """When the race needs no lag, the minimal configuration has none."""
    state = HuntState(shrink_settings())
    drive(state, bernoulli_oracle(lambda c: 1.0 if c["hammer.rate"] >= 12 else 0.0))
    result = summarise(state)
    assert result.minimal is not None
    assert result.minimal["lag.duration_s"] == 0.0


def test_below_threshold_start_is_not_shrunk() -> None:
    """A best point below the threshold is kept as found: nothing is tried."""
    state = HuntState(shrink_settings(threshold=0.9))
    drive(state, bernoulli_oracle(lambda c: 0.4 if c["hammer.rate"] >= 12 else 0.0))
    assert not any(t.stage == "shrink" for t in state.trials)
    result = summarise(state)
    assert result.shrink is not None
    assert not result.shrink.started
    assert result.minimal == result.start


def test_shrinking_counts_only_counted_trials() -> None:
    """Inconclusive shrink trials neither accept nor refuse a reduction on their own."""
    calls = {"n": 0}

    def flaky(request: object) -> TrialOutcome:
        calls["n"] += 1
        stage = getattr(request, "stage", "")
        if stage == "shrink" and calls["n"] % 2:
            return TrialOutcome.INCONCLUSIVE
        return TrialOutcome.REPRODUCED

    state = HuntState(shrink_settings())
    end = drive(state, flaky)
    assert end is not None
    assert end.reason == "done"
    shrink = [t for t in state.trials if t.stage == "shrink"]
    assert any(t.outcome is TrialOutcome.INCONCLUSIVE for t in shrink)
