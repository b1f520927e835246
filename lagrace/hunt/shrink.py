"""Greedy shrinking of a reproducing configuration, replayed from the observed trials.

From the best reproducing point of the search, each dimension of
:data:`~lagrace.hunt.model.SHRINK_ORDER` in turn (fewer creates, fewer workers, lower rate,
shorter or no slow-down) is reduced while the reduced configuration still reproduces with an
estimated ``p >= threshold`` over ``shrink_trials`` counted trials. A refused value becomes a
*floor*: the next candidate is halfway between it and the current value, until that step is too
small (one for an integer, a tenth of the value or half a unit otherwise). The slow-down is
first tried at 0, since whether the lag is needed at all is itself a question.

Shrinking starts only if the start point itself has ``p >= threshold``; otherwise the start
point is the minimal configuration, as found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lagrace.hunt.model import SHRINK_ORDER, Config, Settings, Trial, config_key
from lagrace.hunt.walk import complete as point_complete
from lagrace.hunt.walk import estimate_of

# dimension -> (integer?, lowest value a candidate may take)
_LIMITS: dict[str, tuple[bool, float]] = {
    "burst.count": (True, 1.0),
    "hammer.workers": (True, 1.0),
    "hammer.rate": (False, 0.5),
    "lag.duration_s": (False, 0.5),
}


def candidate(name: str, value: float, floor: float | None) -> float | None:
    """The next smaller value of dimension ``name`` to try, or ``None`` when it is minimal."""
    integer, lowest = _LIMITS[name]
    if name == "lag.duration_s" and floor is None:
        return 0.0 if value > 0 else None
    if name == "burst.count":
        nxt = value - 1
    else:
        nxt = value / 2 if floor is None else (floor + value) / 2
        nxt = float(math.floor(nxt)) if integer else round(nxt, 3)
    min_step = 1.0 if integer else max(0.1 * value, 0.5)
    if nxt < lowest or value - nxt < min_step - 1e-9:
        return None
    if floor is not None and nxt <= floor:
        return None
    return nxt


@dataclass(frozen=True, slots=True)
class ShrinkWalk:
    """Where shrinking stands: the configuration to try next (``need``) or none, the current
    minimal configuration, and what was accepted and refused so far."""

    need: Config | None
    why: str
    current: Config
    accepted: tuple[tuple[str, float], ...]
    refused: tuple[tuple[str, float], ...]
    started: bool  # False: the start point is below the threshold, nothing was tried


def _shrink_trials(trials: Sequence[Trial], config: Config) -> list[Trial]:
    key = config_key(config)
    return [t for t in trials if t.stage == "shrink" and config_key(t.config) == key]


def walk_shrink(settings: Settings, trials: Sequence[Trial], start: Config) -> ShrinkWalk:
    """Replay the greedy reduction from ``start`` over the observed shrink trials."""
    groups = [t for t in trials if t.stage in ("sweep", "bisect")]
    start_key = config_key(start)
    start_est = estimate_of(t for t in groups if config_key(t.config) == start_key)
    current = dict(start)
    if start_est.p < settings.threshold:
        return ShrinkWalk(None, "start point below the threshold", current, (), (), started=False)
    accepted: list[tuple[str, float]] = []
    refused: list[tuple[str, float]] = []
    for name in SHRINK_ORDER:
        if name not in current:
            continue
        floor: float | None = None
        while True:
            nxt = candidate(name, current[name], floor)
            if nxt is None:
                break
            config = {**current, name: nxt}
            mine = _shrink_trials(trials, config)
            if not point_complete(mine, settings.shrink_trials):
                why = f"shrink {name}: {current[name]:g} -> {nxt:g}"
                return ShrinkWalk(config, why, current, tuple(accepted), tuple(refused), True)
            est = estimate_of(mine)
            if est.n and est.p >= settings.threshold:
                current = config
                accepted.append((name, nxt))
            else:
                refused.append((name, nxt))
                floor = nxt
    return ShrinkWalk(None, "shrunk", current, tuple(accepted), tuple(refused), True)
