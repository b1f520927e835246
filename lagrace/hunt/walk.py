"""The walk along one searched parameter (an *axis*), replayed from the observed trials.

Pure: :func:`walk_axis` looks at the trials of one axis and says which value needs trials next,
or what the axis showed. The other parameters stay at the base scenario's values. The walk:

1. **sweep**: ``coarse_points`` values evenly spaced on the parameter's scale, ``trials`` counted
   trials each;
2. **boundary**: a point *never* reproduced (0 of n) or *reproduces* (k > 0); among adjacent
   sweep points of different class, the pair with the largest difference in estimate (the first
   on ties) brackets the boundary; both ends are topped up to ``boundary_trials`` (which may
   change their class and so the bracket);
3. **bisect**: the midpoint of the bracket (on the scale) gets ``boundary_trials``; it replaces
   the bracket end of its class; until the bracket is no wider than the resolution (or an integer
   parameter has no value in between).

Inconclusive trials are not counted; a point gives up after ``2 x`` its need in attempts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from lagrace.hunt.model import Config, Settings, Trial, TrialOutcome, config_key
from lagrace.hunt.space import Param
from lagrace.hunt.stats import Estimate, wilson

DEFAULT_RESOLUTION_UNITS: Final = 1 / 16  # of the scale, when no resolution is given
ATTEMPTS_PER_NEED: Final = 2  # a point gives up after this many attempts per counted trial

Class = Literal["never", "reproduces"]


def estimate_of(trials: Iterable[Trial]) -> Estimate:
    """``k / n`` over the counted trials, with the Wilson interval."""
    counted = [t for t in trials if t.outcome.counted]
    k = sum(t.outcome is TrialOutcome.REPRODUCED for t in counted)
    return wilson(k, len(counted))


def complete(trials: Sequence[Trial], need: int) -> bool:
    """Enough counted trials, or enough attempts (inconclusive ones) to give up."""
    counted = sum(t.outcome.counted for t in trials)
    attempts = sum(t.outcome is not TrialOutcome.DISCARDED for t in trials)
    return counted >= need or attempts >= ATTEMPTS_PER_NEED * need


def classify(trials: Sequence[Trial]) -> Class | None:
    """``never`` (0 of n), ``reproduces`` (k > 0), or ``None`` (nothing counted)."""
    est = estimate_of(trials)
    if est.n == 0:
        return None
    return "reproduces" if est.k else "never"


def axis_trials(trials: Sequence[Trial], name: str) -> dict[float, list[Trial]]:
    """The sweep and bisect trials of axis ``name``, by value."""
    out: dict[float, list[Trial]] = {}
    for t in trials:
        if t.axis == name and t.stage in ("sweep", "bisect"):
            out.setdefault(t.config[name], []).append(t)
    return out


@dataclass(frozen=True, slots=True)
class Need:
    """More trials wanted at ``value`` of an axis."""

    value: float
    stage: str
    why: str


@dataclass(frozen=True, slots=True)
class AxisWalk:
    """Where the walk of one axis stands: a need, or done with what it found."""

    param: Param
    need: Need | None
    status: str  # sweeping | bracketing | bisecting | boundary | never | always | unknown
    bracket: tuple[float, float] | None = None  # (never side, reproduces side)
    span: tuple[float, float] | None = None  # the bracket being narrowed, while bisecting


def _narrow_enough(p: Param, a: float, b: float, resolution: float | None) -> bool:
    res = p.resolution if p.resolution is not None else resolution
    if res is not None:
        return abs(b - a) <= res + 1e-9
    return abs(p.to_unit(b) - p.to_unit(a)) <= DEFAULT_RESOLUTION_UNITS + 1e-9


def _pick_transition(
    grid: Sequence[float], by_value: dict[float, list[Trial]]
) -> tuple[float, float] | None:
    """The adjacent pair of known sweep points of different class with the largest jump."""
    known = [(v, classify(by_value.get(v, []))) for v in grid]
    known = [(v, c) for v, c in known if c is not None]
    best: tuple[float, float] | None = None
    best_jump = -1.0
    for (a, ca), (b, cb) in itertools.pairwise(known):
        if ca == cb:
            continue
        jump = abs(estimate_of(by_value[a]).p - estimate_of(by_value[b]).p)
        if jump > best_jump:
            best, best_jump = (a, b), jump
    return best


def walk_axis(settings: Settings, p: Param, trials: Sequence[Trial]) -> AxisWalk:
    """Replay the sweep and bisection of ``p`` over the observed trials."""
    by_value = axis_trials(trials, p.name)
    grid = p.grid(settings.coarse_points)
    n, nb = settings.trials, settings.boundary_trials
    for v in grid:
        if not complete(by_value.get(v, []), n):
            return AxisWalk(p, Need(v, "sweep", f"sweep {p.name}={p.format(v)}"), "sweeping")
    pair = _pick_transition(grid, by_value)
    if pair is None:
        classes = {classify(by_value.get(v, [])) for v in grid} - {None}
        status = "unknown" if not classes else ("never" if classes == {"never"} else "always")
        return AxisWalk(p, None, status)
    for v in pair:
        if not complete(by_value.get(v, []), nb):
            why = f"boundary {p.name}={p.format(v)}: top up to {nb} trials"
            return AxisWalk(p, Need(v, "bisect", why), "bracketing", span=pair)
    a, b = pair
    class_a = classify(by_value[a])
    while True:
        if _narrow_enough(p, a, b, settings.resolution):
            break
        m = p.midpoint(a, b)
        if m in (a, b):
            break
        if not complete(by_value.get(m, []), nb):
            why = f"bisect {p.name} between {p.format(a)} and {p.format(b)}: {p.format(m)}"
            return AxisWalk(p, Need(m, "bisect", why), "bisecting", span=(a, b))
        class_m = classify(by_value[m])
        if class_m is None:  # nothing counted there: the bracket cannot narrow further
            break
        if class_m == class_a:
            a = m
        else:
            b = m
    never, repro = (a, b) if class_a == "never" else (b, a)
    return AxisWalk(p, None, "boundary", (never, repro))


def axis_config(settings: Settings, name: str, value: float) -> dict[str, float]:
    """The base configuration with ``name`` set to ``value``."""
    config = dict(settings.base)
    config[name] = value
    return config


def best_reproducing(settings: Settings, trials: Sequence[Trial]) -> Config | None:
    """The sweep/bisect configuration with the highest estimate among those with at least
    ``trials`` counted trials and a reproduction (the Wilson low bound, then the earliest, break
    ties); ``None`` if none reproduced."""
    groups: dict[tuple[tuple[str, float], ...], list[Trial]] = {}
    for t in trials:
        if t.stage in ("sweep", "bisect"):
            groups.setdefault(config_key(t.config), []).append(t)
    best: tuple[float, float, int] | None = None
    found: Config | None = None
    for key, group in groups.items():
        est = estimate_of(group)
        if est.n < settings.trials or est.k == 0:
            continue
        rank = (est.p, est.low, -group[0].index)
        if best is None or rank > best:
            best, found = rank, dict(key)
    return found
