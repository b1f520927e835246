"""The fault suite's figures: what the tests injected, tried and measured, printed at the end.

Tests take the session-scoped :func:`figures` fixture and add what they actually did and saw
(a fault injected, the run survived it; a bad input tried, it was refused; events recorded
in memory against events found on disk). ``pytest_terminal_summary`` prints the totals, so
a CI log shows the suite's coverage in numbers, not only as a list of passed tests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

_FIGURES = pytest.StashKey["Figures"]()


@dataclass
class Figures:
    """Counters filled in by the fault tests (only from what they measured)."""

    injected: Counter[str] = field(default_factory=Counter)
    survived: Counter[str] = field(default_factory=Counter)
    bad_inputs_tried: int = 0
    bad_inputs_refused: int = 0
    hostile_responses: int = 0
    runs_checked: int = 0
    events_recorded: int = 0
    events_on_disk: int = 0
    events_lost: int = 0
    sigkill_tail_ms: list[float] = field(default_factory=list)
    interrupt_exit_s: list[float] = field(default_factory=list)
    strays: int = 0
    safety: Counter[str] = field(default_factory=Counter)
    safety_held: Counter[str] = field(default_factory=Counter)

    def fault(self, kind: str, *, survived: bool) -> None:
        """Count one injected fault and whether the driver came through it."""
        self.injected[kind] += 1
        if survived:
            self.survived[kind] += 1

    def safe(self, check: str, *, held: bool) -> None:
        """Count one safety check (not a fault) and whether it held."""
        self.safety[check] += 1
        if held:
            self.safety_held[check] += 1

    def events(self, recorded: int, on_disk: int) -> None:
        """Count one run's events: recorded in memory versus read back from history.jsonl."""
        self.runs_checked += 1
        self.events_recorded += recorded
        self.events_on_disk += on_disk
        self.events_lost += max(0, recorded - on_disk)

    def lines(self) -> list[str]:
        """The summary printed at the end of the session."""
        kinds = sorted(self.injected)
        per_kind = ", ".join(f"{k} {self.survived[k]}/{self.injected[k]}" for k in kinds)
        out = [
            f"faults injected: {sum(self.injected.values())}, survived: "
            f"{sum(self.survived.values())}" + (f" ({per_kind})" if per_kind else ""),
            f"bad inputs tried: {self.bad_inputs_tried}, refused with exit 3 and nothing "
            f"sent: {self.bad_inputs_refused}",
            f"hostile responses served: {self.hostile_responses}",
            "safety checks held: "
            + (
                ", ".join(
                    f"{k} {self.safety_held[k]}/{self.safety[k]}" for k in sorted(self.safety)
                )
                or "none run"
            ),
            f"events lost: {self.events_lost} ({self.events_on_disk} of "
            f"{self.events_recorded} recorded events read back from {self.runs_checked} runs)",
        ]
        if self.sigkill_tail_ms:
            worst = max(self.sigkill_tail_ms)
            out.append(
                f"SIGKILL: history ended {worst:.0f} ms before the kill at worst "
                f"({len(self.sigkill_tail_ms)} kills; documented bound 100 ms + scheduling)"
            )
        if self.interrupt_exit_s:
            out.append(
                f"SIGINT/SIGTERM: exited within {max(self.interrupt_exit_s):.2f} s at worst "
                f"({len(self.interrupt_exit_s)} interrupts; bound 2 s)"
            )
        out.append(f"stray processes left behind: {self.strays}")
        return out


def pytest_configure(config: pytest.Config) -> None:
    """Create the session's figures."""
    config.stash[_FIGURES] = Figures()


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> Figures:
    """The session's figures, for tests to add what they measured."""
    return pytestconfig.stash[_FIGURES]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the fault suite's figures when any fault test ran."""
    figs = config.stash.get(_FIGURES, None)
    if figs is None or not (
        figs.injected
        or figs.bad_inputs_tried
        or figs.runs_checked
        or figs.hostile_responses
        or figs.sigkill_tail_ms
    ):
        return
    terminalreporter.section("lagrace fault suite figures")
    for line in figs.lines():
        terminalreporter.write_line(line)
