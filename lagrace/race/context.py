"""What one race shares: the run context, the live counters and the progress seam.

:class:`RunContext` is built once per run by :mod:`lagrace.race.orchestrate` (or by the bench,
for its hammer) and handed to the runner and every worker: what to run (scenario, plan), against
what (nodes and their API clients), the one recorder and through it the one clock, the logs to
tail, and the race's shared state (origin, stop signal, counters, phase).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lagrace.api.protocol import NodeApi
from lagrace.clock import Clock
from lagrace.plan import NodeRef, Plan
from lagrace.race.tailer import LogTail
from lagrace.recorder import Recorder
from lagrace.scenario import Scenario


@dataclass(slots=True)
class HammerStats:
    """Live counters for progress display."""

    sent: int = 0
    ok: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a run in progress, for the live display."""

    phase: str
    elapsed_s: float
    remaining_s: float
    sent: int
    ok: int
    failed: int
    detail: str


ProgressSink = Callable[[Progress], None]


def _no_raw_log(node: int) -> Path | None:
    return None


@dataclass(slots=True)
class RunContext:
    """Everything one race shares (module doc). The clock is the recorder's: there is one."""

    scenario: Scenario
    plan: Plan
    nodes: tuple[NodeRef, ...]
    apis: Mapping[int, NodeApi]
    recorder: Recorder
    logs: Mapping[int, LogTail] = field(default_factory=dict)
    raw_log_path: Callable[[int], Path | None] = _no_raw_log  # where a node's raw log is copied
    on_progress: ProgressSink | None = None
    phase: str = "setup"
    origin_ns: int = 0  # run-clock time at which the race phase started
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stats: HammerStats = field(default_factory=HammerStats)

    @property
    def clock(self) -> Clock:
        """The run's one clock."""
        return self.recorder.clock
