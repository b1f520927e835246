"""The suite's matrix: scenario x runs -> found / not found / inconclusive / not modelled, with
counts and the Qdrant version; its JSON (``matrix.json``, format ``lagrace-suite/1``), its
Markdown (``matrix.md``) and the comparison of two matrices. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lagrace.errors import UsageError
from lagrace.suite.catalogue import CatalogueEntry
from lagrace.suite.found import Cell
from lagrace.versions import parse_version

FORMAT: Final = "lagrace-suite/1"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of one scenario."""

    scenario: str
    index: int  # 1..repeat
    cell: Cell
    verdict: str
    kinds: tuple[str, ...] = ()
    run_dir: str | None = None
    qdrant_version: str | None = None  # the nodes' version, when they agree
    qdrant_summary: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One scenario's runs."""

    scenario: str
    expected: str  # found | not_found | unknown | not_applicable | modelled | not_modelled
    found_kinds: tuple[str, ...]
    runs: tuple[RunRecord, ...]

    def count(self, cell: Cell) -> int:
        """How many runs ended in ``cell``."""
        return sum(r.cell is cell for r in self.runs)

    @property
    def result(self) -> str:
        """``found 4/5``, ``not found 0/5``, ``not modelled``, ``inconclusive``, ``not run``
        (inconclusive runs are not counted: ``found 3/4 (+1 inconclusive)``)."""
        found, not_found = self.count(Cell.FOUND), self.count(Cell.NOT_FOUND)
        not_modelled, unsure = self.count(Cell.NOT_MODELLED), self.count(Cell.INCONCLUSIVE)
        counted = found + not_found + not_modelled
        extra = f" (+{unsure} inconclusive)" if unsure and counted else ""
        if not self.runs:
            return "not run"
        if found:
            return f"found {found}/{counted}{extra}"
        if not_modelled:
            return f"not modelled{extra}"
        if not_found:
            return f"not found 0/{counted}{extra}"
        return "inconclusive"


@dataclass(frozen=True, slots=True)
class Matrix:
    """A suite's outcome."""

    suite_id: str
    started: str
    cluster: str | None  # the run's one line on the cluster (version, build; or the model)
    qdrant_version: str | None
    sim: bool
    repeat: int
    rows: tuple[Row, ...]
    ended: str  # "complete", "interrupted", or "stopped: <why>"


def common_version(records: Iterable[RunRecord]) -> str | None:
    """The Qdrant version of the runs (``1.16.2``; ``1.16.2/1.18.3`` if they differ)."""
    versions = sorted({r.qdrant_version for r in records if r.qdrant_version})
    return "/".join(versions) or None


def version_of_config(config: Mapping[str, Any]) -> str | None:
    """The nodes' version from a run's ``config.json`` (``qdrant_builds``), joined with ``/``
    when the nodes differ."""
    builds = config.get("qdrant_builds") or {}
    found = {b.get("version") for b in builds.values() if isinstance(b, dict)}
    versions = sorted(str(v) for v in found if isinstance(v, str) and v)
    return "/".join(versions) or None


def build_matrix(
    entries: Sequence[CatalogueEntry],
    records: Sequence[RunRecord],
    *,
    suite_id: str,
    started: str,
    sim: bool,
    repeat: int,
    ended: str,
) -> Matrix:
    """One row per entry (in order) with its runs; the expectation for the version raced."""
    version = common_version(records)
    parsed = parse_version(version) if version and "/" not in version else None
    rows = []
    for entry in entries:
        if sim:
            expected = "modelled" if entry.sim_modelled else "not_modelled"
        else:
            expected = entry.expectation(parsed)
        rows.append(
            Row(
                scenario=entry.name,
                expected=expected,
                found_kinds=entry.found,
                runs=tuple(r for r in records if r.scenario == entry.name),
            )
        )
    cluster = next((r.qdrant_summary for r in records if r.qdrant_summary), None)
    return Matrix(suite_id, started, cluster, version, sim, repeat, tuple(rows), ended)


def matrix_to_json(m: Matrix) -> dict[str, Any]:
    """``matrix.json``."""
    return {
        "format": FORMAT,
        "suite_id": m.suite_id,
        "started": m.started,
        "cluster": m.cluster,
        "qdrant_version": m.qdrant_version,
        "sim": m.sim,
        "repeat": m.repeat,
        "ended": m.ended,
        "rows": [
            {
                "scenario": r.scenario,
                "expected": r.expected,
                "found_kinds": list(r.found_kinds),
                "result": r.result,
                "counts": {c.value: r.count(c) for c in Cell},
                "runs": [
                    {
                        "index": x.index,
                        "cell": x.cell.value,
                        "verdict": x.verdict,
                        "kinds": list(x.kinds),
                        "run_dir": x.run_dir,
                        "qdrant_version": x.qdrant_version,
                        "qdrant_summary": x.qdrant_summary,
                        "detail": x.detail,
                    }
                    for x in r.runs
                ],
            }
            for r in m.rows
        ],
    }


def matrix_from_json(obj: Any, *, source: str = "matrix") -> Matrix:
    """A matrix back from ``matrix.json``; :class:`UsageError` (one line) if it is not one."""
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise UsageError(f"{source} is not a lagrace suite matrix (format {FORMAT})")
    try:
        rows = tuple(
            Row(
                scenario=r["scenario"],
                expected=r.get("expected", "unknown"),
                found_kinds=tuple(r.get("found_kinds", ())),
                runs=tuple(
                    RunRecord(
                        scenario=r["scenario"],
                        index=int(x["index"]),
                        cell=Cell(x["cell"]),
                        verdict=x.get("verdict", "?"),
                        kinds=tuple(x.get("kinds", ())),
                        run_dir=x.get("run_dir"),
                        qdrant_version=x.get("qdrant_version"),
                        qdrant_summary=x.get("qdrant_summary"),
                        detail=x.get("detail"),
                    )
                    for x in r.get("runs", ())
                ),
            )
            for r in obj["rows"]
        )
        return Matrix(
            suite_id=str(obj["suite_id"]),
            started=str(obj.get("started", "")),
            cluster=obj.get("cluster"),
            qdrant_version=obj.get("qdrant_version"),
            sim=bool(obj.get("sim", False)),
            repeat=int(obj.get("repeat", 0)),
            rows=rows,
            ended=str(obj.get("ended", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{source} is not a valid suite matrix: {exc!r}") from exc


def _what(m: Matrix) -> str:
    version = m.qdrant_version or "?"
    return f"the simulated cluster (model of {version})" if m.sim else f"Qdrant {version}"


def format_matrix_markdown(m: Matrix) -> str:
    """``matrix.md``: the matrix, then every run."""
    lines = [
        f"# lagrace suite {m.suite_id}",
        "",
        f"- cluster: {m.cluster or _what(m)}",
        f"- Qdrant version: {m.qdrant_version or 'unknown'}",
        f"- runs per scenario: {m.repeat}",
        f"- started: {m.started}; ended: {m.ended}",
        "",
        "| scenario | result | found | not found | inconclusive | not modelled | expected |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in m.rows:
        counts = " | ".join(str(r.count(c)) for c in Cell)
        lines.append(f"| {r.scenario} | {r.result} | {counts} | {r.expected.replace('_', ' ')} |")
    lines += [
        "",
        "## Runs",
        "",
        "| scenario | run | outcome | verdict | findings show | run directory |",
        "|---|---|---|---|---|---|",
    ]
    for r in m.rows:
        for x in r.runs:
            kinds = ", ".join(k for k in x.kinds if ":" not in k) or "-"
            lines.append(
                f"| {r.scenario} | {x.index} | {x.cell.label} | {x.verdict.replace('_', ' ')} | "
                f"{kinds} | {x.run_dir or '-'} |"
            )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One scenario in two matrices."""

    scenario: str
    a: str  # the row's result ("-" when the matrix lacks the scenario)
    b: str
    differs: bool  # found in one and not (or not run) in the other


def _found(row: Row | None) -> bool | None:
    if row is None or not row.runs:
        return None
    if row.count(Cell.FOUND):
        return True
    if row.count(Cell.NOT_FOUND):
        return False
    return None


def compare(a: Matrix, b: Matrix) -> tuple[Comparison, ...]:
    """The scenarios of both (a's order, then b's extra ones), lined up."""
    rows_a = {r.scenario: r for r in a.rows}
    rows_b = {r.scenario: r for r in b.rows}
    names = list(dict.fromkeys([*rows_a, *rows_b]))
    out = []
    for name in names:
        ra, rb = rows_a.get(name), rows_b.get(name)
        fa, fb = _found(ra), _found(rb)
        out.append(
            Comparison(
                scenario=name,
                a="-" if ra is None else ra.result,
                b="-" if rb is None else rb.result,
                differs=fa is not None and fb is not None and fa != fb,
            )
        )
    return tuple(out)


def format_compare_markdown(a: Matrix, b: Matrix) -> str:
    """Two matrices side by side; ``differs`` marks a scenario found in one, not the other."""
    head_a, head_b = f"A: {_what(a)}", f"B: {_what(b)}"
    lines = [
        f"A = suite {a.suite_id} ({a.cluster or _what(a)})",
        f"B = suite {b.suite_id} ({b.cluster or _what(b)})",
        "",
        f"| scenario | {head_a} | {head_b} | |",
        "|---|---|---|---|",
    ]
    for c in compare(a, b):
        lines.append(f"| {c.scenario} | {c.a} | {c.b} | {'differs' if c.differs else ''} |")
    return "\n".join(lines) + "\n"
