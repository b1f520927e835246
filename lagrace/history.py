"""One append-only history per run: the recorder, its JSONL file, and the reader.

:class:`Recorder` lives on the event loop and appends events with a dense index and the
run clock's ``t_ns``. It keeps every event in memory (for live analysis) and hands each one's
JSON line to a :class:`JsonlSink`, which writes them to ``history.jsonl``; :func:`run_flusher`
flushes the sink at least every 100 ms, :meth:`Recorder.close` at exit. A process killed with
SIGKILL therefore loses at most the last flush interval, and :func:`read_history` tolerates the
torn last line that such a kill can leave.

:class:`History` is the read side: an immutable sequence of events with the queries the
detectors and the report need.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from lagrace.clock import Clock
from lagrace.errors import HistoryError, RunDirError
from lagrace.events import (
    NO_ARGS,
    Complete,
    Event,
    Invoke,
    JsonObject,
    Mark,
    Observe,
    OpArgs,
    Outcome,
    event_from_json,
    event_to_json,
)

FLUSH_INTERVAL_S: Final = 0.1


class JsonlSink:
    """Buffered append-only JSONL writer; :meth:`flush` hands the buffer to the OS."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fh: IO[str] | None = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise RunDirError(f"cannot write history file {path}: {exc.strerror}") from exc
        self._buffer: list[str] = []

    def append(self, line: str) -> None:
        """Queue one JSON line (without newline)."""
        self._buffer.append(line)

    def flush(self) -> None:
        """Write queued lines; after this a SIGKILL of the process does not lose them."""
        if self._fh is None or not self._buffer:
            return
        data = "".join(f"{line}\n" for line in self._buffer)
        self._buffer.clear()
        self._fh.write(data)
        self._fh.flush()

    def close(self) -> None:
        """Flush, fsync and close."""
        if self._fh is None:
            return
        self.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None


class Recorder:
    """Appends events on the loop; the single writer of a run's history."""

    def __init__(self, clock: Clock, sink: JsonlSink | None = None) -> None:
        self.clock = clock
        self._sink = sink
        self._events: list[Event] = []
        self._next_op_id = 0

    @property
    def events(self) -> Sequence[Event]:
        """Everything recorded so far (read-only view)."""
        return self._events

    def _append(self, event: Event) -> None:
        self._events.append(event)
        if self._sink is not None:
            self._sink.append(json.dumps(event_to_json(event), separators=(",", ":")))

    def invoke(
        self,
        *,
        worker: str,
        op: str,
        node: int | None,
        peer_id: int | None,
        request: str,
        intended_ns: int | None = None,
        args: OpArgs = NO_ARGS,
    ) -> Invoke:
        """Record that an operation is being sent; the returned event carries its ``op_id``."""
        event = Invoke(
            index=len(self._events),
            t_ns=self.clock.now_ns(),
            op_id=self._next_op_id,
            worker=worker,
            op=op,
            node=node,
            peer_id=peer_id,
            request=request,
            intended_ns=intended_ns,
            args=args,
        )
        self._next_op_id += 1
        self._append(event)
        return event

    def complete(
        self,
        invoke: Invoke,
        *,
        outcome: Outcome,
        status: int | None = None,
        error: str | None = None,
        response: str | None = None,
    ) -> Complete:
        """Record the completion of ``invoke``."""
        event = Complete(
            index=len(self._events),
            t_ns=self.clock.now_ns(),
            op_id=invoke.op_id,
            worker=invoke.worker,
            op=invoke.op,
            node=invoke.node,
            peer_id=invoke.peer_id,
            outcome=outcome,
            status=status,
            error=error,
            response=response,
        )
        self._append(event)
        return event

    def observe(
        self, kind: str, *, node: int | None, peer_id: int | None, data: JsonObject
    ) -> Observe:
        """Record an observation (a changed snapshot, a parsed log line, a probe error)."""
        event = Observe(
            index=len(self._events),
            t_ns=self.clock.now_ns(),
            kind=kind,
            node=node,
            peer_id=peer_id,
            data=data,
        )
        self._append(event)
        return event

    def mark(self, name: str, data: JsonObject | None = None) -> Mark:
        """Record a phase change or another driver note."""
        event = Mark(index=len(self._events), t_ns=self.clock.now_ns(), name=name, data=data or {})
        self._append(event)
        return event

    def attach(self, sink: JsonlSink) -> None:
        """Start writing to ``sink``, beginning with every event recorded so far (preflight
        calls made before the run directory existed are not lost)."""
        if self._sink is not None:
            raise RuntimeError("the recorder already has a sink")
        self._sink = sink
        for event in self._events:
            sink.append(json.dumps(event_to_json(event), separators=(",", ":")))
        sink.flush()

    def flush(self) -> None:
        """Hand buffered lines to the OS."""
        if self._sink is not None:
            self._sink.flush()

    def close(self) -> None:
        """Flush and close the sink; further events stay in memory only."""
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def history(self) -> History:
        """An immutable snapshot of what has been recorded."""
        return History(tuple(self._events))


async def run_flusher(recorder: Recorder, interval_s: float = FLUSH_INTERVAL_S) -> None:
    """Flush ``recorder`` every ``interval_s`` until cancelled (run it in the run's TaskGroup)."""
    try:
        while True:
            await asyncio.sleep(interval_s)
            recorder.flush()
    finally:
        recorder.flush()


@dataclass(frozen=True, slots=True)
class Operation:
    """An invoke paired with its completion (``None`` if it never completed)."""

    invoke: Invoke
    complete: Complete | None

    @property
    def outcome(self) -> Outcome:
        """``info`` when the operation never completed."""
        return self.complete.outcome if self.complete is not None else Outcome.INFO

    @property
    def latency_ns(self) -> int | None:
        """Completion minus invocation."""
        return None if self.complete is None else self.complete.t_ns - self.invoke.t_ns


@dataclass(frozen=True, slots=True)
class History:
    """An immutable, ordered sequence of events with the queries analysis needs."""

    events: tuple[Event, ...]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def operations(self, op: str | None = None) -> list[Operation]:
        """Invokes paired with completions, in invoke order; optionally only one ``op``."""
        completes: dict[int, Complete] = {
            e.op_id: e for e in self.events if isinstance(e, Complete)
        }
        return [
            Operation(e, completes.get(e.op_id))
            for e in self.events
            if isinstance(e, Invoke) and (op is None or e.op == op)
        ]

    def observations(self, kind: str | None = None) -> list[Observe]:
        """Observations, optionally of one kind."""
        return [
            e for e in self.events if isinstance(e, Observe) and (kind is None or e.kind == kind)
        ]

    def marks(self, name: str | None = None) -> list[Mark]:
        """Marks, optionally with one name."""
        return [e for e in self.events if isinstance(e, Mark) and (name is None or e.name == name)]

    def first_mark(self, name: str) -> Mark | None:
        """The first mark called ``name``."""
        return next(iter(self.marks(name)), None)

    @property
    def end_ns(self) -> int:
        """``t_ns`` of the last event (0 for an empty history)."""
        return self.events[-1].t_ns if self.events else 0


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    """What :func:`read_history` found: the events and whether a torn tail was dropped."""

    history: History
    torn_tail: bool


def read_history(path: Path) -> LoadedHistory:
    """Read a ``history.jsonl``; a torn (partial or unparsable) *last* line is dropped.

    Corruption anywhere else raises :class:`HistoryError` naming the line.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read history {path}: {exc.strerror}") from exc
    lines = raw.split(b"\n")
    # A complete file ends with "\n", leaving one empty string; anything else is a torn tail.
    tail = lines.pop()
    torn = tail.strip() != b""
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise HistoryError("not a JSON object")
            events.append(event_from_json(obj))
        except (ValueError, HistoryError) as exc:
            if number == len(lines) and not torn:
                # The last newline-terminated line can be torn too (a write cut mid-line
                # followed by a later partial flush is not possible, but be lenient).
                torn = True
                break
            raise HistoryError(f"{path}:{number}: corrupt history line: {exc}") from exc
    for expected, event in enumerate(events):
        if event.index != expected:
            raise HistoryError(f"{path}: index {event.index} where {expected} was expected")
    return LoadedHistory(History(tuple(events)), torn_tail=torn)
