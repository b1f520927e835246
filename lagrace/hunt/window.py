"""What a hunt found, from its trials: per-point estimates, each axis's window stated plainly,
and the minimal configuration. Pure.

The window of an axis with a boundary is stated from both sides of the bracket: the points at or
beyond the reproducing end, pooled, give "reproduces with p >= L" (L the 95% Wilson lower bound
of the pooled trials), the points at or before the never end, pooled, give "never (0 of n)". The
threshold line names where every point from there on has an estimate of at least the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lagrace.hunt.model import Config, Finished, HuntState, Trial, TrialOutcome, config_key
from lagrace.hunt.shrink import ShrinkWalk, walk_shrink
from lagrace.hunt.space import Param
from lagrace.hunt.stats import Estimate, wilson
from lagrace.hunt.walk import axis_trials, best_reproducing, estimate_of, walk_axis

UNITS: dict[str, str] = {
    "hammer.rate": "/s",
    "burst.spacing_s": " s",
    "burst.offset_s": " s",
    "lag.duration_s": " s",
    "lag.offset_s": " s",
    "cluster.sim_grpc_timeout_ms": " ms",
}


@dataclass(frozen=True, slots=True)
class PointRow:
    """One tried value of an axis."""

    value: float
    estimate: Estimate
    attempts: int  # every trial there, discarded and inconclusive ones included
    discarded: int
    inconclusive: int


@dataclass(frozen=True, slots=True)
class AxisResult:
    """One axis: its points, where its walk stands, its bracket, and the plain statement."""

    param: Param
    status: str
    bracket: tuple[float, float] | None  # (never side, reproduces side)
    points: tuple[PointRow, ...]
    statement: str


@dataclass(frozen=True, slots=True)
class HuntResult:
    """Everything the outputs show."""

    axes: tuple[AxisResult, ...]
    start: Config | None  # the best reproducing point of the search
    minimal: Config | None
    minimal_estimate: Estimate | None
    minimal_seed: int | None  # the seed of a trial that reproduced at the minimal configuration
    shrink: ShrinkWalk | None
    finished: Finished | None
    counted: int
    discarded: int
    inconclusive: int

    @property
    def reproduced(self) -> bool:
        """Whether any searched point reproduced."""
        return self.start is not None


def value_text(p: Param, value: float) -> str:
    """``12.5/s``, ``strong``, ``3``."""
    return f"{p.format(value)}{UNITS.get(p.name, '')}"


def _rows(trials: Sequence[Trial], name: str) -> tuple[PointRow, ...]:
    rows = []
    for value, group in sorted(axis_trials(trials, name).items()):
        rows.append(
            PointRow(
                value=value,
                estimate=estimate_of(group),
                attempts=len(group),
                discarded=sum(t.outcome is TrialOutcome.DISCARDED for t in group),
                inconclusive=sum(t.outcome is TrialOutcome.INCONCLUSIVE for t in group),
            )
        )
    return tuple(rows)


def _pool(rows: Sequence[PointRow]) -> Estimate:
    return wilson(sum(r.estimate.k for r in rows), sum(r.estimate.n for r in rows))


def axis_statement(
    p: Param, status: str, bracket: tuple[float, float] | None, rows: Sequence[PointRow], th: float
) -> str:
    """The window of one axis in one sentence (see the module docstring)."""
    rng = f"{value_text(p, p.lo)}..{value_text(p, p.hi)}"
    known = [r for r in rows if r.estimate.n]
    if status == "never":
        pooled = _pool(known)
        return (
            f"{p.name} never reproduced in {rng} ({pooled.k} of {pooled.n}; p <= "
            f"{pooled.high:.2f} at 95%)"
        )
    if status == "always":
        pooled = _pool(known)
        return (
            f"{p.name} reproduced at every tried value in {rng} with p >= {pooled.low:.2f} "
            f"(n = {pooled.n}): no boundary inside the range"
        )
    if status == "unknown" or not known:
        return f"{p.name}: no counted trial yet"
    if bracket is None:
        return f"{p.name}: incomplete ({status}); " + ", ".join(
            f"{value_text(p, r.value)}: {r.estimate.k}/{r.estimate.n}" for r in known
        )
    never, repro = bracket
    up = repro > never
    repro_side = [r for r in known if (r.value >= repro if up else r.value <= repro)]
    never_side = [r for r in known if (r.value <= never if up else r.value >= never)]
    rep, nev = _pool(repro_side), _pool(never_side)
    op, nop = (">=", "<=") if up else ("<=", ">=")
    text = (
        f"{p.name} {op} {value_text(p, repro)} reproduces with p >= {rep.low:.2f} "
        f"(n = {rep.n}, {rep.k} reproduced); {p.name} {nop} {value_text(p, never)}: "
        f"{nev.k} of {nev.n}"
    )
    edge = _threshold_edge(repro_side, up, th)
    if edge is not None:
        text += f"; estimate >= {th:g} from {p.name} {op} {value_text(p, edge)}"
    return text


def _threshold_edge(rows: Sequence[PointRow], up: bool, th: float) -> float | None:
    """The nearest value to the boundary from which every point on has an estimate >= ``th``."""
    ordered = sorted(rows, key=lambda r: r.value, reverse=up)  # from the far end inwards
    edge = None
    for r in ordered:
        if r.estimate.p < th:
            break
        edge = r.value
    return edge


def summarise(state: HuntState) -> HuntResult:
    """Every axis, the shrink, the minimal configuration and the counts."""
    settings, trials = state.settings, state.trials
    axes = []
    for p in settings.params:
        walk = walk_axis(settings, p, trials)
        rows = _rows(trials, p.name)
        statement = axis_statement(p, walk.status, walk.bracket, rows, settings.threshold)
        axes.append(AxisResult(p, walk.status, walk.bracket, rows, statement))
    start = best_reproducing(settings, trials)
    shrink = walk_shrink(settings, trials, start) if start is not None else None
    minimal: Config | None = None
    if start is not None:
        minimal = shrink.current if shrink is not None and settings.shrink else start
    minimal_est, minimal_seed = None, None
    if minimal is not None:
        key = config_key(minimal)
        at = [t for t in trials if config_key(t.config) == key]
        minimal_est = estimate_of(at)
        minimal_seed = next((t.seed for t in at if t.outcome is TrialOutcome.REPRODUCED), None)
    return HuntResult(
        axes=tuple(axes),
        start=start,
        minimal=minimal,
        minimal_estimate=minimal_est,
        minimal_seed=minimal_seed,
        shrink=shrink,
        finished=state.finished,
        counted=sum(t.outcome.counted for t in trials),
        discarded=sum(t.outcome is TrialOutcome.DISCARDED for t in trials),
        inconclusive=sum(t.outcome is TrialOutcome.INCONCLUSIVE for t in trials),
    )
