"""The report's file I/O: read a run directory, write ``report/`` (or ``--out``).

:func:`render_report` is the entry point (``lagrace report`` and, at the end of a run,
``lagrace run``). It renders from the run directory alone and tolerates partial runs: a torn
history tail, a missing or unreadable ``config.json`` / ``findings.json``, a run that is still
``running`` or was ``interrupted`` are rendered as far as they go and said so in the notes.
A path that is not a run directory (no ``history.jsonl.gz`` or older ``history.jsonl``) raises
:class:`~lagrace.errors.RunDirError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from lagrace.analysis.findings import Findings, findings_from_json
from lagrace.errors import RunDirError
from lagrace.history import read_history
from lagrace.report.model import ReportModel, build_model
from lagrace.report.plots import DPI, FIGURES
from lagrace.report.summary import summary_markdown
from lagrace.report.timeline_html import format_report_html
from lagrace.report.trace import format_trace
from lagrace.store import RunDir


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What :func:`render_report` wrote."""

    out_dir: Path
    html: Path
    trace: Path
    summary: Path
    pngs: tuple[Path, ...]
    notes: tuple[str, ...]  # what was missing or partial in the run directory
    summary_source: str  # the module that wrote summary.md


def _read_json(path: Path, what: str, notes: list[str]) -> Any:
    if not path.exists():
        notes.append(f"no {what}: " + _MISSING.get(what, "it was not written"))
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(f"{what} is unreadable ({exc}); rendered without it")
        return None


_MISSING = {
    "findings.json": "the run ended before its analysis (interrupted?); no verdict, the "
    "timeline shows what was recorded",
    "config.json": "run metadata (nodes, target, status) is taken from the history",
}


def load_model(run_dir: Path) -> ReportModel:
    """Read ``run_dir`` and build the report model (notes say what was missing)."""
    return _load(run_dir)[0]


def _load(run_dir: Path) -> tuple[ReportModel, dict[str, Any]]:
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: not a directory")
    history_path = RunDir(run_dir).history
    if not history_path.is_file():
        raise RunDirError(f"{run_dir}: not a run directory (no history.jsonl.gz or history.jsonl)")
    notes: list[str] = []
    loaded = read_history(history_path)
    if loaded.torn_tail:
        notes.append(
            f"{history_path.name} ends in a torn line (the run was killed); it was dropped"
        )
    config = _read_json(run_dir / "config.json", "config.json", notes)
    if config is not None and not isinstance(config, dict):
        notes.append("config.json is not a JSON object; rendered without it")
        config = None
    config = config or {}
    status = config.get("status")
    if status in ("running", "interrupted", "error"):
        notes.append(f"run status is {status!r}: the history may stop early")
    raw = _read_json(run_dir / "findings.json", "findings.json", notes)
    findings: Findings | None = None
    if raw is not None:
        try:
            findings = findings_from_json(raw)
        except (KeyError, TypeError, ValueError) as exc:
            notes.append(f"findings.json does not have the findings shape ({exc!r})")
    if not loaded.history.events:
        notes.append(f"{history_path.name} is empty")
    return build_model(loaded.history, config, findings, notes), config


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise RunDirError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    _write_atomic(path, write)


def _save_png(path: Path, fig: Figure) -> None:
    _write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=DPI))


def render_report(run_dir: Path, out_dir: Path | None = None, *, png: bool = True) -> ReportFiles:
    """Render ``index.html``, ``trace.json``, ``summary.md`` and the PNGs of ``run_dir``."""
    model, config = _load(run_dir)
    out = out_dir if out_dir is not None else run_dir / "report"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"cannot create {out}: {exc.strerror or exc}") from exc
    html = out / "index.html"
    _write_text(html, format_report_html(model))
    trace = out / "trace.json"
    _write_text(trace, json.dumps(format_trace(model), separators=(",", ":")))
    summary = out / "summary.md"
    text, source = summary_markdown(model, config)
    _write_text(summary, text)
    pngs: list[Path] = []
    if png:
        for name, build in FIGURES.items():
            path = out / name
            _save_png(path, build(model))
            pngs.append(path)
    return ReportFiles(out, html, trace, summary, tuple(pngs), model.notes, source)
