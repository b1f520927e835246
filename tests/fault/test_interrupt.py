"""Interruption of a ``lagrace run`` process: SIGINT, SIGTERM, a second SIGINT, SIGKILL.

Each test starts ``python -m lagrace run`` (which starts its own simulated cluster child) and
signals it at a known phase. A first SIGINT/SIGTERM must end the run within 2 s with a
complete run directory (status ``interrupted``, verdict ``inconclusive``, summary), a bounded
attempt to delete what the run created, and no process left behind; a second SIGINT exits at
once; after SIGKILL at most the last ~100 ms of history is lost, the reader copes with a torn
last line, and the orphaned sim child exits by itself.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from lagrace.events import Invoke, Mark
from lagrace.history import history_bytes, read_history
from tests.fault.conftest import Figures
from tests.fault.driver_process import Driver, wait_until

pytestmark = [pytest.mark.fault, pytest.mark.sim, pytest.mark.timeout(60)]

EXIT_BOUND_S = 2.0
FLUSH_BOUND_MS = 100.0
SCHEDULING_SLACK_MS = 150.0


def _check_interrupted_run_dir(driver: Driver) -> None:
    run = driver.run_dir()
    config = driver.config()
    assert config["status"] == "interrupted"
    findings = json.loads((run / "findings.json").read_text())
    assert findings["verdict"] == "inconclusive"
    assert findings["exit_code"] == 2
    assert (run / "summary.md").read_text().strip()
    loaded = driver.history()
    assert not loaded.torn_tail  # a clean stop closes the history properly
    end = loaded.history.marks("run_end")
    assert [m.data["reason"] for m in end] == ["interrupted"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_race_ends_the_run_cleanly(
    tmp_path: Path, figures: Figures, sig: signal.Signals
) -> None:
    """SIGINT/SIGTERM mid-race: exit 2 within 2 s, run directory complete, created deleted."""
    driver = Driver(tmp_path)
    try:
        driver.wait_for_phase("race")
        driver.signal(sig)
        code, waited = driver.wait_exit(timeout_s=10)
    finally:
        strays = driver.strays()
    figures.interrupt_exit_s.append(waited)
    figures.strays += len(strays)
    figures.fault(f"{sig.name} mid-race", survived=code == 2 and waited <= EXIT_BOUND_S)
    assert code == 2, driver.stderr()
    assert waited <= EXIT_BOUND_S
    assert not strays, f"left running: {strays}"
    assert driver.sims, "the sim child was never seen"
    _check_interrupted_run_dir(driver)
    assert f"lagrace: {sig.name}, stopping the run cleanly" in driver.stderr()
    assert "Traceback" not in driver.stderr()
    assert "verdict: inconclusive" in driver.stdout()
    # the bounded attempt to delete what this run created, and only that
    history = driver.history().history
    run_id = driver.config()["run_id"]
    deletes = [op.invoke.args.collection for op in history.operations("delete_collection")]
    assert deletes
    assert all(d is not None and run_id in d for d in deletes)


def test_signal_before_the_race_still_completes_the_run_dir(
    tmp_path: Path, figures: Figures
) -> None:
    """SIGINT while the sim child is still starting: exit 2, run directory wrapped up."""
    driver = Driver(tmp_path)
    try:
        # the run directory exists as soon as its history does; the sim is not ready yet
        wait_until(lambda: driver.history_path() is not None, 30, "the run directory")
        assert '"phase"' not in driver.history_text()
        driver.signal(signal.SIGINT)
        code, waited = driver.wait_exit(timeout_s=10)
    finally:
        strays = driver.strays()
    figures.interrupt_exit_s.append(waited)
    figures.strays += len(strays)
    figures.fault("SIGINT before the race", survived=code == 2 and waited <= EXIT_BOUND_S)
    assert code == 2, driver.stderr()
    assert waited <= EXIT_BOUND_S
    assert not strays
    _check_interrupted_run_dir(driver)
    assert "Traceback" not in driver.stderr()
    assert not driver.history().history.operations("create_collection")


def test_second_sigint_exits_at_once(tmp_path: Path, figures: Figures) -> None:
    """Two SIGINTs in a row: the second exits immediately (exit 2), the sim child goes too."""
    driver = Driver(tmp_path)
    try:
        driver.wait_for_phase("race")
        driver.signal(signal.SIGINT)
        driver.signal(signal.SIGINT)
        code, waited = driver.wait_exit(timeout_s=10)
    finally:
        strays = driver.strays()
    figures.interrupt_exit_s.append(waited)
    figures.strays += len(strays)
    figures.fault("second SIGINT", survived=code == 2 and not strays)
    assert code == 2, driver.stderr()
    assert waited < 2.0  # the documented bound for any interrupt (docs/reliability.md)
    assert not strays, f"left running: {strays}"
    # whatever was flushed is readable
    assert driver.history().history.first_mark("run_start") is not None


def test_sigkill_loses_at_most_the_last_flush_interval(tmp_path: Path, figures: Figures) -> None:
    """SIGKILL mid-race: the history reads back and ends within ~100 ms of the kill."""
    driver = Driver(tmp_path)
    try:
        driver.wait_for_phase("race")
        anchor = driver.config()["anchor_unix_ns"]
        killed_wall = driver.signal(signal.SIGKILL)
        code, _ = driver.wait_exit(timeout_s=10)
        orphans_left = driver.strays(grace_s=5.0)
    finally:
        driver.strays(grace_s=0.0)
    assert code == -signal.SIGKILL
    loaded = driver.history()
    events = loaded.history.events
    assert events
    killed_run_ns = killed_wall - anchor
    tail_ms = (killed_run_ns - events[-1].t_ns) / 1e6
    figures.sigkill_tail_ms.append(tail_ms)
    figures.strays += len(orphans_left)
    figures.fault(
        "SIGKILL", survived=tail_ms <= FLUSH_BOUND_MS + SCHEDULING_SLACK_MS and not orphans_left
    )
    assert tail_ms <= FLUSH_BOUND_MS + SCHEDULING_SLACK_MS, f"history ends {tail_ms:.0f} ms early"
    assert tail_ms > -50, "an event after the kill: the kill time is not on the run axis"
    assert not orphans_left, "the orphaned sim child did not exit when its parent died"
    # the race was under way: invokes without completions are allowed (in flight at the kill)
    assert any(isinstance(e, Mark) and e.name == "phase" for e in events)
    assert any(isinstance(e, Invoke) for e in events)
    # a kill can cut a line in half: the reader drops a torn last line and keeps the rest
    path = driver.history_path()
    assert path is not None
    raw = history_bytes(path)  # the JSONL text, whether or not the file is gzip
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(raw + raw.splitlines(keepends=True)[-1][:17])
    again = read_history(torn)
    assert again.torn_tail
    assert len(again.history) == len(events)
