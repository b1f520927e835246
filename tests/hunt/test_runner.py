"""The hunt shell with an injected trial runner: the hunt directory, time, interruption, resume."""

from __future__ import annotations

from pathlib import Path

from lagrace.clock import ManualClock
from lagrace.hunt.model import HuntState, Settings, TrialOutcome
from lagrace.hunt.runner import (
    Hunt,
    TrialResult,
    TrialRunner,
    create_hunt_dir,
    load_hunt,
    run_hunt,
    write_outputs,
    write_state,
)
from lagrace.hunt.space import base_value, parse_param
from lagrace.scenario import Scenario, scenario_from_file
from lagrace.timebase import NS_PER_S


class FakeTrials:
    """Reproduces at hammer.rate >= 12; each trial takes 60 s on the manual clock."""

    def __init__(self, clock: ManualClock, stop_after: int | None = None) -> None:
        self.clock = clock
        self.ran: list[Scenario] = []
        self.stop_after = stop_after
        self.hunt: Hunt | None = None

    async def __call__(self, scenario: Scenario) -> TrialResult:
        """Make a run directory where the scenario says and answer by the rate."""
        self.ran.append(scenario)
        self.clock.advance(60 * NS_PER_S)
        run_dir = Path(scenario.run.runs_dir) / scenario.run.name / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        if self.stop_after is not None and len(self.ran) > self.stop_after:
            assert self.hunt is not None
            self.hunt.interrupted = True
            return TrialResult(TrialOutcome.INCONCLUSIVE, run_dir, "interrupted")
        hit = scenario.hammer.rate >= 12
        outcome = TrialOutcome.REPRODUCED if hit else TrialOutcome.NOT_REPRODUCED
        return TrialResult(outcome, run_dir, outcome.value)


def make_hunt(tmp_path: Path, runner: TrialRunner, clock: ManualClock, **kw: object) -> Hunt:
    """A rate hunt on the default scenario in ``tmp_path/hunts``."""
    base = Scenario()
    params = (parse_param("hammer.rate=1:40"),)
    names = ["hammer.rate", "burst.count", "hammer.workers", "lag.duration_s"]
    values: dict[str, object] = {
        "params": params,
        "base": {n: base_value(base, n) for n in names},
        "seed": 5,
        "trials": 2,
        "boundary_trials": 2,
        "resolution": 2.0,
        "shrink_trials": 2,
        "time_limit_s": 1e6,
    }
    values.update(kw)
    settings = Settings(**values)  # type: ignore[arg-type]
    hunt_dir = create_hunt_dir(tmp_path / "hunts", "rate", clock.anchor.unix_ns)
    return Hunt(hunt_dir, base, HuntState(settings), "rate", runner, clock=clock)


async def test_hunt_writes_every_output(tmp_path: Path) -> None:
    """A finished hunt leaves hunt.json, table.md, a plot, minimal.toml and index.html."""
    clock = ManualClock()
    trials = FakeTrials(clock)
    hunt = make_hunt(tmp_path, trials, clock)
    finished = await run_hunt(hunt)
    assert finished is not None
    assert finished.reason == "done"
    result = write_outputs(hunt)
    for name in ("hunt.json", "table.md", "plots/hammer.rate.png", "minimal.toml", "index.html"):
        assert (hunt.dir.path / name).is_file(), name
    assert result.axes[0].bracket is not None
    assert trials.ran[0].run.runs_dir == str(hunt.dir.trials)
    assert all(t.run_dir and t.run_dir.startswith("trials/trial-") for t in hunt.state.trials)
    minimal = scenario_from_file(hunt.dir.path / "minimal.toml")
    assert minimal.hammer.rate >= 12
    assert minimal.run.seed is not None
    assert minimal.run.runs_dir == "runs"
    assert "hammer.rate &gt;= " in (hunt.dir.path / "index.html").read_text()


async def test_time_limit_counts_trial_time(tmp_path: Path) -> None:
    """With 60 s trials and a 200 s limit, three trials run and the reason is the limit."""
    clock = ManualClock()
    hunt = make_hunt(tmp_path, FakeTrials(clock), clock, time_limit_s=200.0)
    finished = await run_hunt(hunt)
    assert finished is not None
    assert finished.reason == "time_limit"
    assert len(hunt.state.trials) == 3
    assert hunt.state.elapsed_s <= 200.0


async def test_interrupted_hunt_resumes_to_the_same_end(tmp_path: Path) -> None:
    """Interrupted after four trials and resumed from its directory, a hunt ends as an
    uninterrupted one: same trials, same configurations, same outcomes."""
    clock = ManualClock()
    whole = make_hunt(tmp_path / "a", FakeTrials(clock), clock)
    await run_hunt(whole)
    clock2 = ManualClock()
    stopping = FakeTrials(clock2, stop_after=4)
    part = make_hunt(tmp_path / "b", stopping, clock2)
    stopping.hunt = part
    assert await run_hunt(part) is None
    assert len(part.state.trials) == 4
    hunt_dir, state, base = load_hunt(part.dir.path)
    assert base == part.base
    resumed = Hunt(hunt_dir, base, state, "rate", FakeTrials(clock2), clock=clock2)
    finished = await run_hunt(resumed)
    assert finished == whole.state.finished
    got = [(t.config, t.seed, t.outcome) for t in resumed.state.trials]
    assert got == [(t.config, t.seed, t.outcome) for t in whole.state.trials]


def test_state_is_written_and_loaded(tmp_path: Path) -> None:
    """hunt.json holds the base scenario and settings; loading gives them back."""
    clock = ManualClock()
    hunt = make_hunt(tmp_path, FakeTrials(clock), clock)
    write_state(hunt)
    _, state, base = load_hunt(hunt.dir.path)
    assert state.settings == hunt.state.settings
    assert base == hunt.base
