"""The scenario catalogue: named race scenarios with what they mean and what counts as found.

Pure: parsing TOML text into :class:`CatalogueEntry`; the one I/O function,
:func:`load_catalogue`, reads the package data ``lagrace/scenarios/*.toml`` through
:mod:`importlib.resources`. A catalogue file is a scenario (docs/scenario.md, validated by
:mod:`lagrace.scenario` exactly as ``lagrace run --scenario`` does) plus one table of its own::

    [catalogue]
    description = "one paragraph: the race and why it can happen in Qdrant"
    expects = "what each version is expected to do"
    found = ["disruption", "signature"]      # any of these in a run's findings = found
    applies_to = ">=1.16.2"                  # versions it can run against (comma = and)
    sim_modelled = true                      # does the simulated cluster model it?

    [catalogue.expected]                     # optional: version range -> found | not_found
    "<1.17.0" = "found"

The name is the file's stem; ``run.name`` defaults to it. A catalogue scenario may not name a
cluster (``cluster.nodes``/``cluster.logs``): the suite's command line does.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from lagrace.errors import ScenarioError
from lagrace.scenario import Scenario, validate, with_overrides
from lagrace.versions import Version, parse_version

PACKAGE: Final = "lagrace.scenarios"

# What a run's findings can show (lagrace/suite/found.py computes them).
FOUND_KINDS: Final[dict[str, str]] = {
    "signature": "a signature WARN of the report on any peer (not explained by an outage)",
    "disruption": "a replica of the existing collection left Active (not explained by an outage)",
    "panic": "a peer logged `Panic occurred in file ...`",
    "task_panicked": "a call answered 500 `task N panicked` (or the peer logged one)",
    "write_500": "a write to the existing collection was answered 500",
    "unresponsive": "a peer answered no call at all for 5 s or more",
    "apply_stall": "a peer's consensus apply stayed inside one entry (not a slow-down's sleep)",
    "freeze": "a peer's requests needing its table of contents hung",
    "reproduced": "the run's verdict was reproduced",
}
SIGNATURE_PREFIX: Final = "signature:"
EXPECTATIONS: Final = ("found", "not_found")
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9\-]{0,80}$")
_CONSTRAINT: Final = re.compile(r"^(>=|<=|==|>|<)\s*(\S+)$")
_KEYS: Final = frozenset(
    {"description", "expects", "found", "applies_to", "sim_modelled", "expected"}
)


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A conjunction of constraints such as ``>=1.16.2,<1.17.0``."""

    text: str
    constraints: tuple[tuple[str, Version], ...]

    def contains(self, version: Version) -> bool:
        """Whether ``version`` satisfies every constraint."""
        checks = {
            ">=": lambda v, b: v >= b,
            "<=": lambda v, b: v <= b,
            "==": lambda v, b: v == b,
            ">": lambda v, b: v > b,
            "<": lambda v, b: v < b,
        }
        return all(checks[op](version, bound) for op, bound in self.constraints)


def parse_range(text: str, *, where: str) -> VersionRange:
    """``">=1.16.2,<1.17.0"``; :class:`ScenarioError` naming ``where`` if malformed."""
    constraints = []
    for part in (p.strip() for p in text.split(",")):
        match = _CONSTRAINT.match(part)
        version = parse_version(match.group(2)) if match else None
        if match is None or version is None:
            raise ScenarioError(f"{where}: {part!r} is not a version constraint like >=1.16.2")
        constraints.append((match.group(1), version))
    return VersionRange(text, tuple(constraints))


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One catalogue scenario."""

    name: str
    description: str
    expects: str
    found: tuple[str, ...]
    applies_to: VersionRange | None
    sim_modelled: bool
    expected: tuple[tuple[VersionRange, str], ...]
    scenario: Scenario
    text: str  # the TOML file as shipped

    def expectation(self, version: Version | None) -> str:
        """``found``, ``not_found``, ``not_applicable`` or ``unknown`` for ``version``."""
        if version is None:
            return "unknown"
        if self.applies_to is not None and not self.applies_to.contains(version):
            return "not_applicable"
        return next((e for r, e in self.expected if r.contains(version)), "unknown")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: catalogue.{key} must be a non-empty string")
    return " ".join(value.split())


def _found(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"{where}: catalogue.found must be a non-empty list of strings")
    for kind in value:
        if kind not in FOUND_KINDS and not kind.startswith(SIGNATURE_PREFIX):
            known = ", ".join(FOUND_KINDS)
            raise ScenarioError(
                f"{where}: catalogue.found: unknown kind {kind!r} (known: {known}, "
                "signature:<name>)"
            )
    return tuple(value)


def _overrides(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ScenarioError(f"{where}: top-level key {section!r} must be a [section]")
        for key, value in table.items():
            overrides[f"{section}.{key}"] = value
    for key in ("cluster.nodes", "cluster.logs"):
        if key in overrides:
            raise ScenarioError(
                f"{where}: a catalogue scenario may not set {key} (the suite's --nodes/--logs do)"
            )
    return overrides


def parse_entry(name: str, text: str) -> CatalogueEntry:
    """One catalogue file; :class:`ScenarioError` with one line naming the file and key."""
    where = f"scenario {name}"
    if not _NAME.match(name):
        raise ScenarioError(f"{where}: a catalogue name is lower-case letters, digits and '-'")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: invalid TOML: {exc}") from exc
    meta = data.pop("catalogue", None)
    if not isinstance(meta, dict):
        raise ScenarioError(f"{where}: no [catalogue] table")
    unknown = sorted(set(meta) - _KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown catalogue key {unknown[0]!r}")
    sim_modelled = meta.get("sim_modelled")
    if not isinstance(sim_modelled, bool):
        raise ScenarioError(f"{where}: catalogue.sim_modelled must be true or false")
    applies = meta.get("applies_to")
    if applies is not None and not isinstance(applies, str):
        raise ScenarioError(f"{where}: catalogue.applies_to must be a string like '>=1.16.2'")
    expected_table = meta.get("expected", {})
    if not isinstance(expected_table, dict):
        raise ScenarioError(f"{where}: catalogue.expected must be a table")
    expected = []
    for spec, outcome in expected_table.items():
        if outcome not in EXPECTATIONS:
            raise ScenarioError(
                f"{where}: catalogue.expected.{spec!r} must be found or not_found, got {outcome!r}"
            )
        expected.append((parse_range(spec, where=f"{where}: catalogue.expected"), outcome))
    overrides = _overrides(data, where)
    overrides.setdefault("run.name", name)
    try:
        scenario = validate(with_overrides(Scenario(), overrides))
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    return CatalogueEntry(
        name=name,
        description=_text(meta, "description", where),
        expects=_text(meta, "expects", where),
        found=_found(meta.get("found"), where),
        applies_to=None
        if applies is None
        else parse_range(applies, where=f"{where}: catalogue.applies_to"),
        sim_modelled=sim_modelled,
        expected=tuple(expected),
        scenario=scenario,
        text=text,
    )


def parse_catalogue(files: Iterable[tuple[str, str]]) -> tuple[CatalogueEntry, ...]:
    """Entries from ``(name, text)`` pairs, sorted by name."""
    return tuple(sorted((parse_entry(n, t) for n, t in files), key=lambda e: e.name))


def load_catalogue() -> tuple[CatalogueEntry, ...]:
    """The catalogue shipped with lagrace (``lagrace/scenarios/*.toml``)."""
    root = resources.files(PACKAGE)
    files = [
        (item.name.removesuffix(".toml"), item.read_text(encoding="utf-8"))
        for item in root.iterdir()
        if item.name.endswith(".toml")
    ]
    return parse_catalogue(files)


def select(entries: tuple[CatalogueEntry, ...], names: Iterable[str]) -> tuple[CatalogueEntry, ...]:
    """The named entries in the order given (all of them for none); unknown names are errors."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return entries
    by_name = {e.name: e for e in entries}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ScenarioError(
            f"no catalogue scenario {missing[0]!r} (known: {', '.join(sorted(by_name))})"
        )
    return tuple(by_name[n] for n in wanted)
