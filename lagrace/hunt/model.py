"""The data of a hunt: its settings and the trials observed so far, and their JSON form.

A hunt's state *is* its settings plus the list of observed trials: everything else (which stage,
which bracket, which point next, the window) is recomputed from them by the pure functions of
:mod:`lagrace.hunt.search`. So ``hunt.json`` needs nothing more to resume, and a resumed hunt
proposes exactly what the uninterrupted one would have.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lagrace.errors import UsageError
from lagrace.hunt.space import Param

FORMAT: Final = "lagrace-hunt/1"

# the dimensions shrinking reduces, in the order it tries them (issue 11, item 4)
SHRINK_ORDER: Final = ("burst.count", "hammer.workers", "hammer.rate", "lag.duration_s")


class TrialOutcome(enum.StrEnum):
    """What one trial said. Only the first two are counted in an estimate."""

    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not_reproduced"
    INCONCLUSIVE = "inconclusive"  # the run's verdict was inconclusive or error: not counted
    DISCARDED = "discarded"  # the cluster was not clean when the trial would start: not counted

    @property
    def counted(self) -> bool:
        """Whether the trial enters ``k / n``."""
        return self in (TrialOutcome.REPRODUCED, TrialOutcome.NOT_REPRODUCED)


Config = Mapping[str, float]  # hunt-level parameter name -> value


def config_key(config: Config) -> tuple[tuple[str, float], ...]:
    """A hashable, order-free form of a configuration."""
    return tuple(sorted(config.items()))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that decides what a hunt proposes (recorded first in ``hunt.json``)."""

    params: tuple[Param, ...]
    base: Mapping[str, float]  # every searched or shrunk name -> its value in the base scenario
    seed: int
    trials: int = 5  # counted trials per point of the sweep
    boundary_trials: int = 10  # counted trials per point next to the boundary
    coarse_points: int = 5
    resolution: float | None = None  # in each parameter's units; None: 1/16 of the scale
    budget_trials: int = 100  # attempts of every kind, discarded ones included
    time_limit_s: float = 3600.0
    shrink: bool = True
    threshold: float = 0.8  # shrinking keeps a reduction while p >= this
    shrink_trials: int = 5

    def __post_init__(self) -> None:
        checks = [
            (self.trials >= 1, "--trials must be >= 1"),
            (self.boundary_trials >= self.trials, "--boundary-trials must be >= --trials"),
            (self.coarse_points >= 2, "--coarse-points must be >= 2"),
            (self.resolution is None or self.resolution > 0, "--resolution must be > 0"),
            (self.budget_trials >= 1, "--budget-trials must be >= 1"),
            (self.time_limit_s > 0, "--time-limit must be > 0"),
            (0 < self.threshold <= 1, "--threshold must be within (0, 1]"),
            (self.shrink_trials >= 1, "--shrink-trials must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)

    def param(self, name: str) -> Param | None:
        """The searched parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True, slots=True)
class Trial:
    """One observed trial: what was asked (stage, axis, configuration, seed) and what it said."""

    index: int
    stage: str  # sweep | bisect | shrink
    axis: str | None  # the parameter a sweep/bisect trial varies; None while shrinking
    config: Config
    seed: int
    outcome: TrialOutcome
    duration_s: float = 0.0
    run_dir: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """The next trial to run."""

    index: int
    stage: str
    axis: str | None
    config: Config
    seed: int
    why: str  # one line for the progress display


@dataclass(frozen=True, slots=True)
class Finished:
    """No more trials: why the hunt ended."""

    reason: str  # done | budget | time_limit | no_reproduction
    detail: str


@dataclass(slots=True)
class HuntState:
    """Settings, observed trials, and the time spent so far (over every session)."""

    settings: Settings
    trials: list[Trial] = field(default_factory=list)
    elapsed_s: float = 0.0
    finished: Finished | None = None


def trial_seed(hunt_seed: int, index: int) -> int:
    """The run seed of trial ``index``: stable across machines and Python versions."""
    digest = hashlib.sha256(f"lagrace-hunt:{hunt_seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def _param_json(p: Param) -> dict[str, Any]:
    return {
        "name": p.name,
        "lo": p.lo,
        "hi": p.hi,
        "scale": p.scale,
        "integer": p.integer,
        "resolution": p.resolution,
    }


def settings_to_json(s: Settings) -> dict[str, Any]:
    """The settings as JSON."""
    return {
        "params": [_param_json(p) for p in s.params],
        "base": dict(s.base),
        "seed": s.seed,
        "trials": s.trials,
        "boundary_trials": s.boundary_trials,
        "coarse_points": s.coarse_points,
        "resolution": s.resolution,
        "budget_trials": s.budget_trials,
        "time_limit_s": s.time_limit_s,
        "shrink": s.shrink,
        "threshold": s.threshold,
        "shrink_trials": s.shrink_trials,
    }


def settings_from_json(obj: Mapping[str, Any]) -> Settings:
    """Settings back from :func:`settings_to_json`."""
    params = tuple(
        Param(
            name=str(p["name"]),
            lo=float(p["lo"]),
            hi=float(p["hi"]),
            scale="log" if p["scale"] == "log" else "linear",
            integer=bool(p["integer"]),
            resolution=None if p["resolution"] is None else float(p["resolution"]),
        )
        for p in obj["params"]
    )
    return Settings(
        params=params,
        base={str(k): float(v) for k, v in obj["base"].items()},
        seed=int(obj["seed"]),
        trials=int(obj["trials"]),
        boundary_trials=int(obj["boundary_trials"]),
        coarse_points=int(obj["coarse_points"]),
        resolution=None if obj["resolution"] is None else float(obj["resolution"]),
        budget_trials=int(obj["budget_trials"]),
        time_limit_s=float(obj["time_limit_s"]),
        shrink=bool(obj["shrink"]),
        threshold=float(obj["threshold"]),
        shrink_trials=int(obj["shrink_trials"]),
    )


def trial_to_json(t: Trial) -> dict[str, Any]:
    """One trial as JSON."""
    return {
        "index": t.index,
        "stage": t.stage,
        "axis": t.axis,
        "config": dict(t.config),
        "seed": t.seed,
        "outcome": t.outcome.value,
        "duration_s": t.duration_s,
        "run_dir": t.run_dir,
        "detail": t.detail,
    }


def trial_from_json(obj: Mapping[str, Any]) -> Trial:
    """One trial back from :func:`trial_to_json`."""
    return Trial(
        index=int(obj["index"]),
        stage=str(obj["stage"]),
        axis=None if obj["axis"] is None else str(obj["axis"]),
        config={str(k): float(v) for k, v in obj["config"].items()},
        seed=int(obj["seed"]),
        outcome=TrialOutcome(obj["outcome"]),
        duration_s=float(obj["duration_s"]),
        run_dir=None if obj["run_dir"] is None else str(obj["run_dir"]),
        detail=None if obj["detail"] is None else str(obj["detail"]),
    )


def state_to_json(state: HuntState, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``hunt.json``: format, settings, trials, elapsed time, how it ended, and ``extra``
    (derived results, the scenario, for people; resuming reads only the first four)."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "settings": settings_to_json(state.settings),
        "elapsed_s": round(state.elapsed_s, 3),
        "finished": None
        if state.finished is None
        else {"reason": state.finished.reason, "detail": state.finished.detail},
        "trials": [trial_to_json(t) for t in state.trials],
    }
    out.update(extra or {})
    return out


def state_from_json(obj: Mapping[str, Any]) -> HuntState:
    """A hunt back from ``hunt.json`` (``finished`` is dropped: a resumed hunt re-decides)."""
    if obj.get("format") != FORMAT:
        raise UsageError(f"not a lagrace hunt state (format {obj.get('format')!r}, want {FORMAT})")
    try:
        return HuntState(
            settings=settings_from_json(obj["settings"]),
            trials=[trial_from_json(t) for t in obj["trials"]],
            elapsed_s=float(obj["elapsed_s"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"hunt.json is damaged: {exc!r}") from exc


def observed(
    request: Request,
    outcome: TrialOutcome,
    *,
    duration_s: float = 0.0,
    run_dir: str | None = None,
    detail: str | None = None,
) -> Trial:
    """The trial that ran ``request`` and said ``outcome``."""
    return Trial(
        index=request.index,
        stage=request.stage,
        axis=request.axis,
        config=dict(request.config),
        seed=request.seed,
        outcome=outcome,
        duration_s=duration_s,
        run_dir=run_dir,
        detail=detail,
    )
