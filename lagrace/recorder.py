"""The write side of a run's history: the recorder, its JSONL sink, and the flusher.

:class:`Recorder` lives on the event loop and appends events with a dense index and the
run clock's ``t_ns``. Until a sink is attached it keeps every event in memory. With a
:class:`JsonlSink` (``history.jsonl``, or gzip-compressed ``history.jsonl.gz``) its memory is
bounded: every event goes to the sink, and only what the live logic reads stays in memory
(marks, watcher snapshots, probe errors, WARN/ERROR log lines: :func:`kept_live`); operations
and INFO/DEBUG log lines are streamed out. :meth:`Recorder.history` then reads the whole
history back from the sink's file (:mod:`lagrace.history`, the read side). The sink serialises
queued events only when it flushes: :func:`run_flusher` flushes every 20 ms,
:meth:`Recorder.close` at exit, so nothing is encoded on a request's path and a process killed
with SIGKILL loses at most the last flush interval.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Final, overload

from lagrace.clock import Clock
from lagrace.errors import RunDirError
from lagrace.events import (
    NO_ARGS,
    OBS_LOG,
    Complete,
    Event,
    Invoke,
    JsonObject,
    Mark,
    Observe,
    OpArgs,
    Outcome,
    event_line,
)
from lagrace.history import History, read_history

# Short, so each flush encodes few events: one flush delays the loop (and the sends due
# meanwhile) by about 5 µs per event queued (bench/precision.py); 20 ms at 1,000 upserts/s is
# 40 events, ~0.2 ms.
FLUSH_INTERVAL_S: Final = 0.02
GZIP_LEVEL: Final = 1  # bench/recorder_cost.py: ~43 B per upsert, a third of level 6's CPU
_LIVE_LOG_LEVELS: Final = frozenset({"WARN", "ERROR"})


def kept_live(event: Event) -> bool:
    """Whether a recorder with a sink keeps ``event`` in memory: what the live logic reads
    (the settle check's user-error lines, phase marks); operations and the INFO/DEBUG log
    lines, the bulk of a long run, are only in the sink."""
    if isinstance(event, Mark):
        return True
    if isinstance(event, Observe):
        return event.kind != OBS_LOG or event.data.get("level") in _LIVE_LOG_LEVELS
    return False


class JsonlSink:
    """Buffered append-only JSONL writer, gzip-compressed when the file name ends in ``.gz``.

    :meth:`append` only queues the event; :meth:`flush` encodes what is queued and hands it to
    the OS (for gzip with a sync flush, so what was flushed can be read back while the run
    goes on, or after a SIGKILL).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fh: IO[bytes] | None = path.open("ab")
        except OSError as exc:
            raise RunDirError(f"cannot write history file {path}: {exc.strerror}") from exc
        self._zip = (
            zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if path.name.endswith(".gz") else None
        )
        self._buffer: list[Event] = []

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip."""
        return self._zip is not None

    def append(self, event: Event) -> None:
        """Queue one event; it is encoded at the next :meth:`flush`."""
        self._buffer.append(event)

    def flush(self) -> None:
        """Write queued events; after this a SIGKILL of the process does not lose them."""
        if self._fh is None or not self._buffer:
            return
        text = "".join([f"{event_line(event)}\n" for event in self._buffer])
        self._buffer.clear()
        data = text.encode()
        if self._zip is not None:
            data = self._zip.compress(data) + self._zip.flush(zlib.Z_SYNC_FLUSH)
        self._fh.write(data)
        self._fh.flush()

    def close(self) -> None:
        """Flush, end the gzip stream, fsync and close."""
        if self._fh is None:
            return
        self.flush()
        if self._zip is not None:
            self._fh.write(self._zip.flush(zlib.Z_FINISH))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None


class LiveEvents(Sequence[Event]):
    """The events a recorder holds in memory, addressed by their history ``index``.

    ``len()`` is the number of events recorded so far (the next index); iteration yields the
    events kept in memory, in order (every event without a sink; :func:`kept_live` ones with
    one); ``events[i]`` is the event with index ``i`` (``LookupError`` if it was only streamed
    to the sink) and ``events[i:]`` the kept events with an index of at least ``i``, so an
    incremental reader (``cursor = len(events)``; next time ``events[cursor:]``) sees every
    kept event once.
    """

    __slots__ = ("_recorder",)

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __len__(self) -> int:
        return self._recorder.count

    def __iter__(self) -> Iterator[Event]:
        return iter(self._recorder._kept)

    def __eq__(self, other: object) -> bool:
        """Equal to a list or tuple of the same kept events (and to another view)."""
        if isinstance(other, LiveEvents):
            other = list(other)
        if isinstance(other, list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable view, like the list it stands for

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Event]: ...
    def __getitem__(self, i: int | slice) -> Event | Sequence[Event]:
        kept = self._recorder._kept
        if isinstance(i, slice):
            if i.step not in (None, 1) or i.stop is not None:
                raise ValueError("only events[i:] slices are supported")
            start = i.start or 0
            return kept[_first_at_or_after(kept, start) :]
        index = i + len(self) if i < 0 else i
        pos = _first_at_or_after(kept, index)
        if pos < len(kept) and kept[pos].index == index:
            return kept[pos]
        raise LookupError(f"event {i} is not kept in memory (it is in the history file)")


def _first_at_or_after(kept: list[Event], index: int) -> int:
    """Position of the first kept event with ``index >= index`` (binary search)."""
    lo, hi = 0, len(kept)
    while lo < hi:
        mid = (lo + hi) // 2
        if kept[mid].index < index:
            lo = mid + 1
        else:
            hi = mid
    return lo


class Recorder:
    """Appends events on the loop; the single writer of a run's history (module doc)."""

    def __init__(self, clock: Clock, sink: JsonlSink | None = None) -> None:
        self.clock = clock
        self._sink: JsonlSink | None = None
        self._file: Path | None = None  # the sink's file once attached: history() reads it
        self._kept: list[Event] = []
        self._after_close: list[Event] = []  # recorded after close(): in memory only
        self._count = 0
        self._next_op_id = 0
        self._view = LiveEvents(self)
        if sink is not None:
            self.attach(sink)

    @property
    def events(self) -> LiveEvents:
        """The events held in memory (:class:`LiveEvents`; ``len()`` counts all recorded)."""
        return self._view

    @property
    def count(self) -> int:
        """How many events were recorded (the next event's index)."""
        return self._count

    def _append(self, event: Event) -> None:
        self._count += 1
        sink = self._sink
        if sink is None:
            self._kept.append(event)
            if self._file is not None:
                self._after_close.append(event)
            return
        sink.append(event)
        if kept_live(event):
            self._kept.append(event)

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
            index=self._count,
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
            index=self._count,
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
            index=self._count,
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
        event = Mark(index=self._count, t_ns=self.clock.now_ns(), name=name, data=data or {})
        self._append(event)
        return event

    def attach(self, sink: JsonlSink) -> None:
        """Start writing to ``sink``, beginning with every event recorded so far (preflight
        calls made before the run directory existed are not lost); from now on only the
        :func:`kept_live` events stay in memory."""
        if self._sink is not None or self._file is not None:
            raise RuntimeError("the recorder already has a sink")
        self._sink, self._file = sink, sink.path
        for event in self._kept:
            sink.append(event)
        self._kept = [e for e in self._kept if kept_live(e)]
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
        """Everything recorded, as an immutable :class:`History`: from memory without a sink,
        else read back from the sink's file (plus what came after :meth:`close`)."""
        if self._file is None:
            return History(tuple(self._kept))
        self.flush()
        loaded = read_history(self._file).history.events
        return History(loaded + tuple(self._after_close))


async def run_flusher(recorder: Recorder, interval_s: float = FLUSH_INTERVAL_S) -> None:
    """Flush ``recorder`` every ``interval_s`` until cancelled (run it in the run's TaskGroup)."""
    try:
        while True:
            await asyncio.sleep(interval_s)
            recorder.flush()
    finally:
        recorder.flush()
