"""The parameter space of a hunt: which scenario keys vary, over which range, on which scale.

A parameter is named by its scenario dotted key (``hammer.rate``, ``burst.count``, ...) and given
on the command line as ``NAME=LO:HI[:linear|log][:int|float][:res=X]``. Pure: parsing, the grid of
a coarse sweep, midpoints for bisection (taken on the parameter's scale) and the scenario
overrides a value stands for. Two names are not plain keys:

* ``lag.duration_s`` 0 means no slow-down at all: the override is ``lag.repeat = 0`` (Qdrant
  refuses a 0 s ``test_slow_down`` as pointless; a control run simply sends none).
* ``hammer.ordering`` is ordinal: ``weak:strong`` searches the indices of weak < medium < strong
  (the scenario sets one ordering for every write; a per-write mix needs a scenario key).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

from lagrace.errors import UsageError
from lagrace.scenario import Scenario, validate, with_overrides

Scale = Literal["linear", "log"]

ORDERINGS: Final = ("weak", "medium", "strong")

# name -> (integer?, lowest allowed value); hammer.ordering values are indices into ORDERINGS
SEARCHABLE: Final[dict[str, tuple[bool, float]]] = {
    "hammer.rate": (False, 0.0),
    "hammer.workers": (True, 1.0),
    "hammer.batch": (True, 1.0),
    "hammer.ordering": (True, 0.0),
    "burst.count": (True, 1.0),
    "burst.spacing_s": (False, 0.0),
    "burst.offset_s": (False, 0.0),
    "burst.concurrency": (True, 1.0),
    "lag.duration_s": (False, 0.0),
    "lag.offset_s": (False, 0.0),
    "cluster.sim_grpc_timeout_ms": (True, 100.0),
}


@dataclass(frozen=True, slots=True)
class Param:
    """One searched parameter: a scenario key, its range, scale and resolution."""

    name: str
    lo: float
    hi: float
    scale: Scale = "linear"
    integer: bool = False
    resolution: float | None = None  # in the parameter's units; None: the hunt's default

    def to_unit(self, value: float) -> float:
        """Position of ``value`` on the scale, 0 at ``lo`` and 1 at ``hi``."""
        if self.hi == self.lo:
            return 0.0
        if self.scale == "log":
            return (math.log(value) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return (value - self.lo) / (self.hi - self.lo)

    def from_unit(self, u: float) -> float:
        """The value at position ``u`` of the scale (rounded if the parameter is an integer)."""
        if self.scale == "log":
            value = math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
        else:
            value = self.lo + u * (self.hi - self.lo)
        return self.snap(value)

    def snap(self, value: float) -> float:
        """Round an integer parameter; clamp to the range; tidy float noise."""
        value = min(max(value, self.lo), self.hi)
        return float(round(value)) if self.integer else round(value, 6)

    def grid(self, points: int) -> tuple[float, ...]:
        """``points`` values evenly spaced on the scale from ``lo`` to ``hi``, deduplicated."""
        if points < 2 or self.hi == self.lo:
            return (self.snap(self.lo),) if self.hi == self.lo else (self.lo, self.hi)
        values = [self.from_unit(i / (points - 1)) for i in range(points)]
        return tuple(sorted(set(values)))

    def midpoint(self, a: float, b: float) -> float:
        """Halfway between ``a`` and ``b`` on the scale (snapped)."""
        return self.from_unit((self.to_unit(a) + self.to_unit(b)) / 2)

    def format(self, value: float) -> str:
        """A value as people read it (``strong``, ``12``, ``12.5``)."""
        if self.name == "hammer.ordering":
            return ORDERINGS[int(value)]
        if self.integer:
            return str(int(value))
        return f"{value:.4g}"

    def spec(self) -> str:
        """The command-line form this parameter was given in (normalised)."""
        kind = "int" if self.integer else "float"
        res = "" if self.resolution is None else f":res={self.resolution:g}"
        return f"{self.name}={self.lo:g}:{self.hi:g}:{self.scale}:{kind}{res}"


def overrides_for(name: str, value: float) -> dict[str, Any]:
    """The scenario overrides that set parameter ``name`` to ``value``."""
    if name == "hammer.ordering":
        return {name: ORDERINGS[int(value)]}
    if name == "lag.duration_s":
        if value <= 0:
            return {"lag.repeat": 0}
        return {"lag.duration_s": value}
    integer, _ = SEARCHABLE.get(name, (False, 0.0))
    return {name: int(value) if integer else value}


def base_value(scenario: Scenario, name: str) -> float:
    """The value ``name`` has in ``scenario`` (before the hunt changes it)."""
    section, _, key = name.partition(".")
    if name == "lag.duration_s" and scenario.lag.repeat == 0:
        return 0.0
    value = getattr(getattr(scenario, section), key)
    if name == "hammer.ordering":
        return float(ORDERINGS.index(value))
    return float(value)


def _number(text: str, what: str) -> float:
    if text in ORDERINGS:
        return float(ORDERINGS.index(text))
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--param: {what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"--param: {what} must be finite, got {text!r}")
    return value


def parse_param(spec: str) -> Param:
    """Parse ``NAME=LO:HI[:linear|log][:int|float][:res=X]``; ``UsageError`` with one line."""
    name, sep, rest = spec.partition("=")
    name = name.strip()
    if not sep or not rest:
        raise UsageError(f"--param takes NAME=LO:HI[:linear|log][:int|float][:res=X], got {spec!r}")
    if name not in SEARCHABLE:
        known = ", ".join(sorted(SEARCHABLE))
        raise UsageError(f"--param: {name!r} cannot be searched; searchable: {known}")
    fields = rest.split(":")
    if len(fields) < 2:
        raise UsageError(f"--param {name}: give a range LO:HI, got {rest!r}")
    lo, hi = _number(fields[0], "LO"), _number(fields[1], "HI")
    integer, floor = SEARCHABLE[name]
    scale: Scale = "linear"
    resolution: float | None = None
    for option in fields[2:]:
        if option in ("linear", "log"):
            scale = "linear" if option == "linear" else "log"
        elif option in ("int", "float"):
            if name == "hammer.ordering" and option == "float":
                raise UsageError("--param hammer.ordering is ordinal: it cannot be float")
            integer = option == "int"
        elif option.startswith("res="):
            resolution = _number(option[4:], "res")
            if resolution <= 0:
                raise UsageError(f"--param {name}: res must be > 0, got {option[4:]!r}")
        else:
            raise UsageError(f"--param {name}: unknown option {option!r} (linear, log, int, res=X)")
    if lo > hi:
        raise UsageError(f"--param {name}: LO {lo:g} is above HI {hi:g}")
    if lo < floor:
        raise UsageError(f"--param {name}: LO must be >= {floor:g}, got {lo:g}")
    if name == "hammer.ordering" and hi > len(ORDERINGS) - 1:
        raise UsageError("--param hammer.ordering ranges over weak, medium, strong")
    if scale == "log" and lo <= 0:
        raise UsageError(f"--param {name}: a log scale needs LO > 0, got {lo:g}")
    if integer and (lo != int(lo) or hi != int(hi)):
        raise UsageError(f"--param {name}: an integer parameter needs integer bounds")
    return Param(name, lo, hi, scale, integer, resolution)


def check_params(params: tuple[Param, ...], base: Scenario) -> None:
    """Every parameter once, and every value of every range gives a valid scenario."""
    names = [p.name for p in params]
    if not params:
        raise UsageError("give at least one --param NAME=LO:HI")
    if len(set(names)) != len(names):
        raise UsageError("--param: each parameter may be given once")
    for p in params:
        for value in (p.lo, p.hi):
            try:
                validate(with_overrides(base, overrides_for(p.name, value)))
            except UsageError as exc:
                raise UsageError(f"--param {p.name}={p.format(value)}: {exc}") from None
