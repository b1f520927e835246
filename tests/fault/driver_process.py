"""A ``python -m lagrace run`` child for the interruption tests, and its process tree.

The driver starts its own simulated cluster child (``lagrace sim``); :class:`Driver` finds that
grandchild through ``/proc`` so a test can check it is gone after the driver ended, and kills
(by pid) anything the test would otherwise leave behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lagrace.clock import SystemClock
from lagrace.history import LoadedHistory, history_bytes, read_history
from lagrace.timebase import NS_PER_S

CLOCK = SystemClock()
ARGS = (
    "--quiet", "--no-report", "--sim-mode", "fixed", "--seed", "3",
    "--slow-down", "3", "--lag-offset", "0.5", "--create-offset", "1",
    "--time-limit", "30", "--settle", "10", "--workers", "3", "--preload", "64",
)  # fmt: skip


def alive(pid: int) -> bool:
    """Is ``pid`` a live process (a zombie counts as gone)?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``predicate`` every 20 ms until true; AssertionError naming ``what`` on timeout."""
    deadline = CLOCK.now_ns() + int(timeout_s * NS_PER_S)
    while not predicate():
        if CLOCK.now_ns() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.02)


class Driver:
    """One ``lagrace run`` process writing under ``runs``; output goes to files in ``tmp``."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        self.runs = tmp / "runs"
        self.out_path, self.err_path = tmp / "stdout.txt", tmp / "stderr.txt"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lagrace", "run", "--runs-dir", str(self.runs),
                 *ARGS, *extra],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.sims: set[int] = set()

    def history_path(self) -> Path | None:
        """The run's history (``history.jsonl.gz``) once the run directory exists."""
        found = list(self.runs.glob("*/*/history.jsonl*"))
        return found[0] if found else None

    def history_text(self) -> str:
        """What the history file holds so far."""
        path = self.history_path()
        return history_bytes(path).decode(errors="replace") if path is not None else ""

    def wait_for_phase(self, phase: str, timeout_s: float = 30.0) -> None:
        """Wait until the history on disk shows ``phase``, noting the sim child's pid."""

        def reached() -> bool:
            self.sims.update(children(self.proc.pid))
            assert self.proc.poll() is None, f"the driver exited early: {self.stderr()}"
            return f'"phase":"{phase}"' in self.history_text()

        wait_until(reached, timeout_s, f"phase {phase}")

    def signal(self, sig: signal.Signals) -> int:
        """Send ``sig`` to the driver; returns the wall-clock ns at which it was sent."""
        self.sims.update(children(self.proc.pid))
        sent = CLOCK.wall_ns()
        self.proc.send_signal(sig)
        return sent

    def wait_exit(self, timeout_s: float) -> tuple[int, float]:
        """Exit code and seconds waited."""
        start = CLOCK.now_ns()
        code = self.proc.wait(timeout=timeout_s)
        return code, (CLOCK.now_ns() - start) / NS_PER_S

    def stderr(self) -> str:
        """The driver's stderr so far."""
        return self.err_path.read_text(errors="replace")

    def stdout(self) -> str:
        """The driver's stdout so far."""
        return self.out_path.read_text(errors="replace")

    def run_dir(self) -> Path:
        """The one run directory."""
        path = self.history_path()
        assert path is not None
        return path.parent

    def config(self) -> dict[str, Any]:
        """config.json."""
        out: dict[str, Any] = json.loads((self.run_dir() / "config.json").read_text())
        return out

    def history(self) -> LoadedHistory:
        """The history as read back."""
        path = self.history_path()
        assert path is not None
        return read_history(path)

    def strays(self, grace_s: float = 3.0) -> list[int]:
        """Processes of this run still alive after ``grace_s``; they are killed (by pid)."""
        with contextlib.suppress(AssertionError):  # what is left is counted below
            wait_until(lambda: not any(alive(p) for p in self.sims), grace_s, "the sim child")
        left = [p for p in self.sims if alive(p)]
        if self.proc.poll() is None:
            left.append(self.proc.pid)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        return left
