"""Tests for ``lagrace bench``, run in process through lagrace.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lagrace.cli import main
from lagrace.exitcodes import ExitCode


def test_help_lists_the_actions_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench run --help`` documents the options and exit codes; exit 0."""
    assert main(["bench", "run", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "--sim-apply-cost-ms" in out
    assert "exit codes: 0 results written" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "run", "--count", "0"], "--count must be at least 1"),
        (["bench", "run", "--workload", "noop", "--slow", "1"], "--slow must not be the --via"),
        (["bench", "run", "--poll", "0.0001"], "--poll below 1 ms"),
        (["bench", "compare", "/nonexistent/a", "/nonexistent/b"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unusable input: one line on stderr naming the problem, exit 3, nothing sent."""
    assert main(argv) == ExitCode.ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]


def test_bench_without_an_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``lagrace bench`` alone prints its help on stderr; exit 3."""
    assert main(["bench"]) == ExitCode.ERROR
    assert "compare" in capsys.readouterr().err


def _stored(path: Path, p50: float) -> Path:
    summary = {
        "count": 10, "throughput_per_s": 5.0, "min_ms": 1.0, "p50_ms": p50, "p90_ms": p50,
        "p99_ms": p50, "p99.9_ms": p50, "max_ms": p50,
    }  # fmt: skip
    path.mkdir()
    body = {"resolution_ms": 0.001, "overall": summary, "peers": {"1": summary}, "hdr": {}}
    result = {"format": "lagrace-bench/1", "results": {"noop": {"apply_log": body}}}
    (path / "bench.json").write_text(json.dumps(result))
    return path


def test_compare_two_stored_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``bench compare A B`` prints B/A per statistic; exit 0."""
    a, b = _stored(tmp_path / "a", 2.0), _stored(tmp_path / "b", 5.0)
    assert main(["bench", "compare", str(a), str(b)]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if "apply_log" in line and "all" in line and "p50" in line)
    assert row.split()[-1] == "2.50"
