"""One append-only history per run: the recorder, its JSONL file, and the reader.

:class:`Recorder` lives on the event loop and appends events with a dense index and the
run clock's ``t_ns``. Until a sink is attached it keeps every event in memory. With a
:class:`JsonlSink` (``history.jsonl``, or gzip-compressed ``history.jsonl.gz``) its memory is
bounded: every event goes to the sink, and only what the live logic reads stays in memory
(marks, watcher snapshots, probe errors, WARN/ERROR log lines: :func:`kept_live`); operations
and INFO/DEBUG log lines are streamed out. :meth:`Recorder.history` then reads the whole
history back from the sink's file. The sink serialises queued events only when it flushes:
:func:`run_flusher` flushes every 20 ms, :meth:`Recorder.close` at exit, so nothing is
encoded on a request's path and a process killed with SIGKILL loses at most the last flush
interval. :func:`read_history` reads either form and tolerates the torn tail such a kill can
leave (a partial last line; in gzip, a stream without its end).

:class:`History` is the read side: an immutable sequence of events with the queries the
detectors and the report need.
"""

from __future__ import annotations

import asyncio
import json
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, overload

from lagrace.clock import Clock
from lagrace.errors import HistoryError, RunDirError
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
    event_from_json,
    event_line,
)

# Short, so each flush encodes few events: one flush delays the loop (and the sends due
# meanwhile) by about 5 µs per event queued (bench/precision.py); 20 ms at 1,000 upserts/s is
# 40 events, ~0.2 ms.
FLUSH_INTERVAL_S: Final = 0.02
GZIP_LEVEL: Final = 1  # bench/recorder_cost.py: ~43 B per upsert, a third of level 6's CPU
_GZIP_MAGIC: Final = b"\x1f\x8b"
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


def _gunzip(raw: bytes) -> tuple[bytes, bool]:
    """Decompress every gzip member of ``raw``; ``True`` when the last stream has no end (a
    writer killed after a sync flush: what it flushed is all there)."""
    out: list[bytes] = []
    while raw:
        unzip = zlib.decompressobj(31)
        try:
            out.append(unzip.decompress(raw))
        except zlib.error:
            return b"".join(out), True
        if not unzip.eof:
            return b"".join(out), True
        raw = unzip.unused_data
    return b"".join(out), False


def history_bytes(path: Path) -> bytes:
    """The JSONL text of a history file as bytes, decompressed if it is gzip (as far as it
    goes: a file still being written, or cut by a kill, gives what was flushed)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read history {path}: {exc.strerror}") from exc
    return _gunzip(raw)[0] if raw.startswith(_GZIP_MAGIC) else raw


def read_history(path: Path) -> LoadedHistory:
    """Read a ``history.jsonl`` or ``history.jsonl.gz`` (told apart by the gzip magic number);
    a torn (partial or unparsable) *last* line is dropped.

    Corruption anywhere else raises :class:`HistoryError` naming the line.
    """
    lines = history_bytes(path).split(b"\n")
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
