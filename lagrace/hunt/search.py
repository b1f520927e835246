"""The search, as a pure function of the settings and the trials observed so far.

:func:`plan_next` answers "what next?" with a :class:`~lagrace.hunt.model.Request` or a
:class:`~lagrace.hunt.model.Finished`; the shell runs the request and appends the observed
:class:`~lagrace.hunt.model.Trial`. Nothing is remembered between calls, so a hunt resumed from
``hunt.json`` continues exactly where it stopped.

Order: every axis in turn (:mod:`lagrace.hunt.walk`: sweep, bracket, bisect), then shrinking
from the best reproducing point (:mod:`lagrace.hunt.shrink`). The hunt stops when the walk is
done, at ``budget_trials`` attempts (discarded ones included: they took time), or when the next
trial would not end before ``time_limit_s`` (judged by the mean trial duration so far; the time
counts over every session of a resumed hunt).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lagrace.hunt.model import Config, Finished, HuntState, Request, Settings, Trial, trial_seed
from lagrace.hunt.shrink import walk_shrink
from lagrace.hunt.space import Param
from lagrace.hunt.walk import (
    DEFAULT_RESOLUTION_UNITS,
    axis_config,
    axis_trials,
    best_reproducing,
    walk_axis,
)


def _mean_duration(trials: Sequence[Trial]) -> float | None:
    timed = [t.duration_s for t in trials if t.duration_s > 0]
    return sum(timed) / len(timed) if timed else None


def plan_next(state: HuntState) -> Request | Finished:
    """The next trial to run, or why the hunt is over."""
    settings, trials = state.settings, state.trials
    request: Request | None = None
    for p in settings.params:
        walk = walk_axis(settings, p, trials)
        if walk.need is not None:
            config = axis_config(settings, p.name, walk.need.value)
            request = _request(
                settings,
                trials=trials,
                stage=walk.need.stage,
                axis=p.name,
                config=config,
                why=walk.need.why,
            )
            break
    if request is None:
        start = best_reproducing(settings, trials)
        if start is None:
            return Finished(
                "no_reproduction", "no searched point reproduced: no window in the ranges given"
            )
        shrink = walk_shrink(settings, trials, start) if settings.shrink else None
        if shrink is None or shrink.need is None:
            what = "and the configuration shrunk" if settings.shrink else "(shrinking off)"
            return Finished("done", f"the search is complete {what}")
        request = _request(
            settings, trials=trials, stage="shrink", axis=None, config=shrink.need, why=shrink.why
        )
    if len(trials) >= settings.budget_trials:
        return Finished("budget", f"the trial budget ({settings.budget_trials}) is spent")
    mean = _mean_duration(trials)
    if state.elapsed_s >= settings.time_limit_s or (
        mean is not None and state.elapsed_s + mean > settings.time_limit_s
    ):
        return Finished(
            "time_limit",
            f"the time limit ({settings.time_limit_s:g} s) would be passed by another trial",
        )
    return request


def _request(
    settings: Settings,
    *,
    trials: Sequence[Trial],
    stage: str,
    axis: str | None,
    config: Config,
    why: str,
) -> Request:
    index = len(trials)
    return Request(index, stage, axis, dict(config), trial_seed(settings.seed, index), why)


@dataclass(frozen=True, slots=True)
class TimeLeft:
    """A rough forecast: trials still to run and the time they take (``None``: no trial timed)."""

    trials: int
    seconds: float | None


def time_left(state: HuntState) -> TimeLeft:
    """Forecast from the walk so far: unfinished sweep points, the bisection steps the bracket
    still needs, a shrink allowance; capped by the budget; seconds by the mean trial so far,
    capped by the time limit."""
    settings, trials = state.settings, state.trials
    left = 0
    for p in settings.params:
        walk = walk_axis(settings, p, trials)
        by_value = axis_trials(trials, p.name)
        if walk.status == "sweeping":
            for v in p.grid(settings.coarse_points):
                counted = sum(t.outcome.counted for t in by_value.get(v, []))
                left += max(0, settings.trials - counted)
            left += _bisect_steps(settings, p, 0.0, 1 / max(1, settings.coarse_points - 1))
        elif walk.span is not None:
            left += settings.boundary_trials
            lo, hi = walk.span
            left += _bisect_steps(settings, p, p.to_unit(lo), p.to_unit(hi))
    if settings.shrink:
        left += len(settings.base) * settings.shrink_trials  # about one step per dimension
    left = min(left, max(0, settings.budget_trials - len(trials)))
    mean = _mean_duration(trials)
    if mean is None:
        return TimeLeft(left, None)
    return TimeLeft(left, min(left * mean, max(0.0, settings.time_limit_s - state.elapsed_s)))


def _bisect_steps(settings: Settings, p: Param, u_lo: float, u_hi: float) -> int:
    width = abs(u_hi - u_lo)
    res = p.resolution if p.resolution is not None else settings.resolution
    # a resolution in units is turned into a fraction of the range (rough on a log scale)
    res_u = DEFAULT_RESOLUTION_UNITS if res is None else res / max(p.hi - p.lo, 1e-12)
    if width <= res_u:
        return 0
    steps = math.ceil(math.log2(width / res_u))
    return steps * settings.boundary_trials
