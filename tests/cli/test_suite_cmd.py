"""`lagrace suite`: help, --list, one-line usage errors (exit 3), compare of stored matrices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lagrace.cli import main
from lagrace.suite.catalogue import load_catalogue
from lagrace.suite.found import Cell
from lagrace.suite.matrix import RunRecord, build_matrix, matrix_to_json


def test_help_names_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 and documents the exit codes and compare."""
    assert main(["suite", "--help"]) == 0
    out = capsys.readouterr().out
    assert "exit codes: 0" in out
    assert "compare" in out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    """--list prints every catalogue scenario with what counts as found."""
    assert main(["suite", "--list"]) == 0
    out = capsys.readouterr().out
    for entry in load_catalogue():
        assert f"{entry.name}  (found: " in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["suite", "--scenario", "nope"], "no catalogue scenario 'nope'"),
        (["suite", "--repeat", "0"], "--repeat must be >= 1"),
        (["suite", "--set", "lag.duration_s=900"], "lag.duration_s must be within"),
        (["suite", "--set", "nodot"], "--set takes KEY=VALUE"),
        (["suite", "--logs", "a.log"], "--logs needs --nodes"),
        (["suite", "compare", "/nonexistent-a", "/nonexistent-b"], "not a suite directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input: exit 3, one line on stderr, no suite directory made."""
    code = main([*argv, *(["--suites-dir", str(tmp_path)] if "compare" not in argv else [])])
    err = capsys.readouterr().err
    assert code == 3
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_compare_two_stored_matrices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """compare takes a suite directory or a matrix.json and prints them side by side."""
    entries = load_catalogue()
    for name, version, cell in (("a", "1.16.2", Cell.FOUND), ("b", "1.18.3", Cell.NOT_FOUND)):
        record = RunRecord("create-under-strong-writes", 1, cell, "x", qdrant_version=version)
        m = build_matrix(
            entries, [record], suite_id=name, started="t", sim=False, repeat=1, ended="complete"
        )
        (tmp_path / name).mkdir()
        (tmp_path / name / "matrix.json").write_text(json.dumps(matrix_to_json(m)))
    assert main(["suite", "compare", str(tmp_path / "a"), str(tmp_path / "b/matrix.json")]) == 0
    out = capsys.readouterr().out
    assert "| create-under-strong-writes | found 1/1 | not found 0/1 | differs |" in out
