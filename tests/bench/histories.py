"""Literal bench histories: the events a bench records, written through the real Recorder."""

from __future__ import annotations

from lagrace.analysis import logtexts
from lagrace.api import calls
from lagrace.api.calls import record_invoke
from lagrace.bench.measure import MARK_ENTRY, MARK_MEASURE, MARK_READY
from lagrace.bench.progress import OBS_PROGRESS, progress_data
from lagrace.clock import ManualClock
from lagrace.events import OBS_LOG, Invoke, Outcome
from lagrace.history import History
from lagrace.recorder import Recorder
from lagrace.timebase import NS_PER_MS

MS = NS_PER_MS


class BenchHistory:
    """Appends bench events at given milliseconds on a manual clock."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.recorder = Recorder(self.clock)
        self.previous_sent: dict[int, int | None] = {}

    def at(self, ms: float) -> BenchHistory:
        """Move the clock to ``ms`` (it never goes back: log lines carry their own time)."""
        self.clock.set(max(self.clock.now_ns(), int(ms * MS)))
        return self

    def measure(self, ms: float) -> None:
        """The measured window starts."""
        self.at(ms).recorder.mark(MARK_MEASURE, {"warmup_s": 0})

    def progress(
        self, ms: float, node: int, commit: int, pending: int, since_ms: float | None
    ) -> None:
        """A changed ``/cluster`` reading at ``ms`` (previous poll sent at ``since_ms``)."""
        since = None if since_ms is None else int(since_ms * MS)
        self.at(ms).recorder.observe(
            OBS_PROGRESS, node=node, peer_id=100 + node, data=progress_data(commit, pending, since)
        )

    def log(self, ms: float, node: int, message: str) -> None:
        """A server log line of ``node`` stamped ``ms``."""
        self.at(ms).recorder.observe(
            OBS_LOG,
            node=node,
            peer_id=100 + node,
            data={"at_ns": int(ms * MS), "level": "DEBUG", "target": "t", "message": message},
        )

    def applied_lines(self, node: int, index: int, start_ms: float, end_ms: float) -> None:
        """``Applying`` and ``Successfully applied`` of entry ``index`` on ``node``."""
        self.log(start_ms, node, logtexts.format_applying_entry(index))
        self.log(end_ms, node, logtexts.format_applied_entry(index))

    def send_noop(self, sent_ms: float, *, via: int = 1) -> Invoke:
        """A no-op proposed at ``sent_ms`` through ``via``."""
        call = calls.slow_down("bench_x", peer_id=102, duration_s=0.0)
        self.at(sent_ms)
        return record_invoke(self.recorder, call, worker="bench-0", node=via, peer_id=100 + via)

    def answer(
        self,
        invoke: Invoke,
        answered_ms: float,
        *,
        floor: int | None = None,
        applied_after: int | None = None,
        outcome: Outcome = Outcome.OK,
    ) -> int:
        """Its answer at ``answered_ms``, then (when ok) the bench's ``bench_entry`` note."""
        self.at(answered_ms).recorder.complete(invoke, outcome=outcome, status=200)
        if outcome is Outcome.OK:
            self.recorder.mark(
                MARK_ENTRY, {"op_id": invoke.op_id, "floor": floor, "applied_after": applied_after}
            )
        return invoke.op_id

    def create(self, sent_ms: float, answered_ms: float, name: str, *, via: int = 1) -> int:
        """A create of ``name``."""
        call = calls.create_collection(name, {"shard_number": 1})
        self.at(sent_ms)
        invoke = record_invoke(self.recorder, call, worker="bench-0", node=via, peer_id=100 + via)
        self.at(answered_ms).recorder.complete(invoke, outcome=Outcome.OK, status=200)
        return invoke.op_id

    def ready(self, op_id: int, node: int, lo_ms: float, hi_ms: float) -> None:
        """A readiness window of ``op_id`` on ``node``."""
        self.recorder.mark(
            MARK_READY,
            {"op_id": op_id, "node": node, "lo_ns": int(lo_ms * MS), "hi_ns": int(hi_ms * MS)},
        )

    def history(self) -> History:
        """What was recorded."""
        return self.recorder.history()
