"""Tests of the run store: one directory per run, the latest link, atomic JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lagrace.errors import RunDirError
from lagrace.store import check_writable, create_run_dir, open_run_dir

NS = 1_795_000_000 * 1_000_000_000


def test_run_dir_layout_and_latest_link(tmp_path: Path) -> None:
    """runs/<scenario>/<stamp>-<id>/ with logs/, and runs/latest pointing at it."""
    run = create_run_dir(tmp_path, "lag", "abc123", NS)
    assert run.path.parent == tmp_path / "lag"
    assert run.path.name.endswith("-abc123")
    assert run.logs.is_dir()
    assert (tmp_path / "latest").resolve() == run.path.resolve()
    second = create_run_dir(tmp_path, "lag", "def456", NS)
    assert (tmp_path / "latest").resolve() == second.path.resolve()


def test_write_json_is_atomic_and_readable(tmp_path: Path) -> None:
    """config.json is replaced whole, never half-written."""
    run = create_run_dir(tmp_path, "lag", "abc123", NS)
    run.write_json(run.config, {"status": "running"})
    run.write_json(run.config, {"status": "complete"})
    assert json.loads(run.config.read_text()) == {"status": "complete"}
    assert not list(run.path.glob(".*.tmp"))


def test_same_run_twice_is_refused(tmp_path: Path) -> None:
    """Two runs never share a directory."""
    create_run_dir(tmp_path, "lag", "abc123", NS)
    with pytest.raises(RunDirError, match="already exists"):
        create_run_dir(tmp_path, "lag", "abc123", NS)


def test_runs_dir_under_a_file_is_refused(tmp_path: Path) -> None:
    """A runs directory that cannot be created (a file is in the way) is one clear error."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunDirError, match="cannot create runs directory"):
        check_writable(blocker / "runs")


def test_open_run_dir_needs_a_history(tmp_path: Path) -> None:
    """Only a directory with a history.jsonl is a run directory."""
    with pytest.raises(RunDirError, match="not a run directory"):
        open_run_dir(tmp_path / "nope")
    with pytest.raises(RunDirError, match=r"no history\.jsonl"):
        open_run_dir(tmp_path)


def test_history_is_gzip_for_new_runs_and_plain_for_old_ones(tmp_path: Path) -> None:
    """New runs write history.jsonl.gz; a run directory with only history.jsonl still opens."""
    run = create_run_dir(tmp_path, "lag", "abc123", NS)
    assert run.history.name == "history.jsonl.gz"
    (run.path / "history.jsonl").write_text("")
    assert run.history.name == "history.jsonl"
    assert open_run_dir(run.path).history.name == "history.jsonl"
    (run.path / "history.jsonl.gz").write_bytes(b"")
    assert run.history.name == "history.jsonl.gz"


def test_stamped_dirs_and_atomic_text(tmp_path: Path) -> None:
    """A hunt's or suite's directory: stamped, with its subdirectories; files written whole;
    a parent that is a file is one RunDirError naming what was being made."""
    from lagrace.store import create_stamped_dir, write_text_atomic

    made = create_stamped_dir(tmp_path, "h", 1_767_225_600 * 10**9, what="hunt", subdirs=("a",))
    assert made.parent == tmp_path / "h"
    assert made.name.startswith("20260101T000000Z-")
    assert (made / "a").is_dir()
    assert write_text_atomic(made / "x.md", "hello").read_text() == "hello"
    assert not list(made.glob(".*.tmp"))
    (tmp_path / "file").write_text("")
    with pytest.raises(RunDirError, match="cannot create hunt directory"):
        create_stamped_dir(tmp_path / "file", "h", 0, what="hunt")
