"""``lagrace hunt``: search the timing window of the race (docs/hunt.md).

Pure core (no I/O, no event loop, no clock):

* :mod:`~lagrace.hunt.space`: parameters (scenario keys, ranges, scales), parsing, overrides
* :mod:`~lagrace.hunt.stats`: the estimate and its 95% Wilson interval
* :mod:`~lagrace.hunt.model`: settings, trials, requests, the JSON state (``hunt.json``)
* :mod:`~lagrace.hunt.walk`: sweep, bracket and bisection of one axis, replayed from trials
* :mod:`~lagrace.hunt.shrink`: greedy shrinking, replayed from trials
* :mod:`~lagrace.hunt.search`: :func:`plan_next` (the state machine) and the time-left forecast
* :mod:`~lagrace.hunt.window`: per-point estimates, window statements, the minimal configuration
* :mod:`~lagrace.hunt.render`, :mod:`~lagrace.hunt.plots`: table, TOML, HTML; PNG figures
* :mod:`~lagrace.testing.oracles`: scripted (and seeded noisy) oracles and a driver, for tests

Shell: :mod:`~lagrace.hunt.clean` (is a real cluster clean between trials) and
:mod:`~lagrace.hunt.runner` (one ``run_scenario`` per trial, the hunt directory).
"""

from lagrace.hunt.model import Finished, HuntState, Request, Settings, Trial, TrialOutcome
from lagrace.hunt.search import plan_next, time_left
from lagrace.hunt.stats import Estimate, wilson

__all__ = [
    "Estimate",
    "Finished",
    "HuntState",
    "Request",
    "Settings",
    "Trial",
    "TrialOutcome",
    "plan_next",
    "time_left",
    "wilson",
]
