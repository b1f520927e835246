"""The run store: one directory per run (``runs/<scenario>/<UTC stamp>-<run_id>/``).

Creates the directory and the ``runs/latest`` link, writes ``config.json`` atomically (it is
rewritten when the run's status changes), and names every file of the layout described in
``docs/run-directory.md``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lagrace.errors import RunDirError
from lagrace.timebase import format_utc_compact

HISTORY: Final = "history.jsonl.gz"
HISTORY_PLAIN: Final = "history.jsonl"  # older run directories


@dataclass(frozen=True, slots=True)
class RunDir:
    """The paths of one run directory."""

    path: Path

    @property
    def config(self) -> Path:
        """``config.json``."""
        return self.path / "config.json"

    @property
    def history(self) -> Path:
        """The history: ``history.jsonl.gz`` (gzip; what runs write), or ``history.jsonl``
        in a run directory written before the history was compressed."""
        plain = self.path / HISTORY_PLAIN
        if plain.is_file() and not (self.path / HISTORY).is_file():
            return plain
        return self.path / HISTORY

    @property
    def findings(self) -> Path:
        """``findings.json``."""
        return self.path / "findings.json"

    @property
    def summary(self) -> Path:
        """``summary.md``."""
        return self.path / "summary.md"

    @property
    def logs(self) -> Path:
        """``logs/`` (collected server log lines, one file per node)."""
        return self.path / "logs"

    @property
    def sim(self) -> Path:
        """``sim/`` (the embedded simulated cluster's own logs)."""
        return self.path / "sim"

    def node_log(self, node: int) -> Path:
        """``logs/node-<n>.log``."""
        return self.logs / f"node-{node}.log"

    def write_json(self, path: Path, obj: Any) -> None:
        """Write JSON atomically (temp file + rename)."""
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise RunDirError(f"cannot write {path}: {exc.strerror}") from exc

    def write_text(self, path: Path, text: str) -> None:
        """Write a text file of the run."""
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise RunDirError(f"cannot write {path}: {exc.strerror}") from exc


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file + rename); :class:`RunDirError` if not."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise RunDirError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def create_stamped_dir(
    parent: Path, name: str, unix_ns: int, *, what: str, subdirs: tuple[str, ...] = ()
) -> Path:
    """Make ``parent/<name>/<UTC stamp>-<6 hex>/`` and its ``subdirs`` (a hunt's, a suite's)."""
    path = parent / name / f"{format_utc_compact(unix_ns)}-{secrets.token_hex(3)}"
    try:
        path.mkdir(parents=True, exist_ok=False)
        for sub in subdirs:
            (path / sub).mkdir()
    except OSError as exc:
        raise RunDirError(f"cannot create {what} directory {path}: {exc.strerror}") from exc
    return path


def create_run_dir(runs_dir: Path, scenario: str, run_id: str, unix_ns: int) -> RunDir:
    """Make ``runs_dir/<scenario>/<stamp>-<run_id>/`` and point ``runs_dir/latest`` at it."""
    rel = Path(scenario) / f"{format_utc_compact(unix_ns)}-{run_id}"
    path = runs_dir / rel
    try:
        path.mkdir(parents=True, exist_ok=False)
        (path / "logs").mkdir()
    except FileExistsError as exc:
        raise RunDirError(f"run directory {path} already exists") from exc
    except OSError as exc:
        raise RunDirError(f"cannot create run directory {path}: {exc.strerror}") from exc
    latest = runs_dir / "latest"
    tmp = runs_dir / f".latest-{run_id}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(rel, target_is_directory=True)
        os.replace(tmp, latest)
    except OSError as exc:
        raise RunDirError(f"cannot update {latest}: {exc.strerror}") from exc
    return RunDir(path)


def check_writable(runs_dir: Path) -> None:
    """Fail early (before touching the cluster) if ``runs_dir`` cannot hold a run."""
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"cannot create runs directory {runs_dir}: {exc.strerror}") from exc
    if not os.access(runs_dir, os.W_OK | os.X_OK):
        raise RunDirError(f"runs directory {runs_dir} is not writable")


def open_run_dir(path: Path) -> RunDir:
    """An existing run directory (for ``lagrace report``); checks the history is there."""
    run = RunDir(path)
    if not path.is_dir():
        raise RunDirError(f"{path} is not a run directory")
    if not run.history.is_file():
        raise RunDirError(
            f"{path} has no history.jsonl.gz or history.jsonl: not a lagrace run directory"
        )
    return run
