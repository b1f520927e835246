"""Scripted oracles and a driver for the search, shipped with the library (as
``structlog.testing``): test the state machine, or a new strategy, without a cluster.

An oracle answers a :class:`~lagrace.hunt.model.Request` with an outcome. A noisy oracle draws
from ``random.Random(request.seed)``: the same request always gets the same answer, so a scripted
hunt is deterministic, as a hunt on a deterministic cluster would be.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from lagrace.hunt.model import Finished, HuntState, Request, TrialOutcome, observed
from lagrace.hunt.search import plan_next

Oracle = Callable[[Request], TrialOutcome]
Probability = Callable[[dict[str, float]], float]


def bernoulli_oracle(probability: Probability) -> Oracle:
    """Reproduces with ``probability(config)``, drawn from the request's seed."""

    def answer(request: Request) -> TrialOutcome:
        p = probability(dict(request.config))
        hit = random.Random(request.seed).random() < p
        return TrialOutcome.REPRODUCED if hit else TrialOutcome.NOT_REPRODUCED

    return answer


def step(name: str, edge: float, *, above: bool = True, p: float = 1.0) -> Probability:
    """``p`` at or beyond ``edge`` of parameter ``name``, 0 elsewhere."""

    def probability(config: dict[str, float]) -> float:
        value = config[name]
        return p if (value >= edge if above else value <= edge) else 0.0

    return probability


def logistic(name: str, centre: float, width: float) -> Probability:
    """A smooth rise from 0 to 1 around ``centre`` of parameter ``name``."""

    def probability(config: dict[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-(config[name] - centre) / width))

    return probability


def drive(
    state: HuntState,
    oracle: Oracle,
    *,
    duration_s: float = 60.0,
    max_trials: int | None = None,
) -> Finished | None:
    """Run the search against ``oracle``, each trial taking ``duration_s``; stop after
    ``max_trials`` trials of this call (``None`` returned: interrupted) or when it finishes."""
    ran = 0
    while max_trials is None or ran < max_trials:
        nxt = plan_next(state)
        if isinstance(nxt, Finished):
            state.finished = nxt
            return nxt
        state.trials.append(observed(nxt, oracle(nxt), duration_s=duration_s))
        state.elapsed_s += duration_s
        ran += 1
    return None
