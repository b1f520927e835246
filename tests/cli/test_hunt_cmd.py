"""`lagrace hunt` in process: help, one-line usage errors, exit codes (trials injected)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lagrace.cli import hunt_cmd, main
from lagrace.hunt.model import TrialOutcome
from lagrace.hunt.runner import TrialResult, TrialRunner
from lagrace.scenario import Scenario


def test_help_documents_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    """--help names the parameter syntax, the searchable keys and every exit code."""
    assert main(["hunt", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "NAME=LO:HI[:linear|log][:int|float][:res=X]" in out
    assert "lag.duration_s (0 = no slow-down)" in out
    for code in ("0 the hunt ended", "2 no searched point", "3 usage", "4 a real cluster"):
        assert code in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give at least one --param"),
        (["--param", "hammer.speed=1:2"], "cannot be searched"),
        (["--param", "hammer.rate=40:1"], "above HI"),
        (["--param", "hammer.rate=1:40", "--trials", "0"], "--trials must be >= 1"),
        (["--param", "hammer.rate=1:40", "--set", "hammer.rate"], "--set takes KEY=VALUE"),
        (["--param", "hammer.rate=1:40", "--set", "hammer.nope=1"], "unknown scenario key"),
        (
            ["--param", "cluster.sim_grpc_timeout_ms=500:5000", "--nodes", "http://x:6333"],
            "simulated cluster only",
        ),
        (["--resume", "/nonexistent/hunt"], "not a hunt directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every bad input is refused with exit 3 and one line on stderr, before any trial."""
    code = main(["hunt", "--hunts-dir", str(tmp_path / "hunts"), "--quiet", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert len(err.splitlines()) == 1
    assert message in err
    assert not (tmp_path / "hunts").exists()


def _fake_runner(edge: float | None) -> Any:
    """A run_trial_with replacement: reproduces at hammer.rate >= edge (never if None)."""

    def factory(**_kw: object) -> TrialRunner:
        async def run(scenario: Scenario) -> TrialResult:
            run_dir = Path(scenario.run.runs_dir) / scenario.run.name / "run"
            run_dir.mkdir(parents=True, exist_ok=True)
            hit = edge is not None and scenario.hammer.rate >= edge
            outcome = TrialOutcome.REPRODUCED if hit else TrialOutcome.NOT_REPRODUCED
            return TrialResult(outcome, run_dir, outcome.value)

        return run

    return factory


HUNT = ["--param", "hammer.rate=1:40", "--trials", "2", "--resolution", "4", "--seed", "3"]


def test_found_window_exits_0_and_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hunt that finds the window exits 0 and prints the window and the minimal scenario."""
    monkeypatch.setattr(hunt_cmd, "run_trial_with", _fake_runner(12.0))
    code = main(["hunt", "--hunts-dir", str(tmp_path), "--quiet", "--name", "r", *HUNT])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "window: hammer.rate >= " in out
    assert "minimal.toml" in out
    (hunt_dir,) = (tmp_path / "r").iterdir()
    state = json.loads((hunt_dir / "hunt.json").read_text())
    assert state["finished"]["reason"] == "done"
    assert state["settings"]["seed"] == 3


def test_no_reproduction_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hunt where nothing reproduces exits 2 and writes no minimal scenario."""
    monkeypatch.setattr(hunt_cmd, "run_trial_with", _fake_runner(None))
    code = main(["hunt", "--hunts-dir", str(tmp_path), "--quiet", "--name", "r", *HUNT])
    out = capsys.readouterr().out
    assert code == 2, out
    assert "never reproduced" in out
    (hunt_dir,) = (tmp_path / "r").iterdir()
    assert not (hunt_dir / "minimal.toml").exists()


def test_resume_of_a_finished_hunt_runs_nothing_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--resume reads hunt.json and continues; a finished hunt has nothing left to run."""
    monkeypatch.setattr(hunt_cmd, "run_trial_with", _fake_runner(12.0))
    assert main(["hunt", "--hunts-dir", str(tmp_path), "--quiet", "--name", "r", *HUNT]) == 0
    (hunt_dir,) = (tmp_path / "r").iterdir()
    before = json.loads((hunt_dir / "hunt.json").read_text())["trials"]
    capsys.readouterr()
    assert main(["hunt", "--quiet", "--resume", str(hunt_dir)]) == 0
    after = json.loads((hunt_dir / "hunt.json").read_text())["trials"]
    assert after == before
