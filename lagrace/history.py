"""The read side of a run's history: an immutable sequence of events, and the reader.

:class:`History` holds the events with the queries the detectors and the report need;
:func:`read_history` reads ``history.jsonl`` or ``history.jsonl.gz`` and tolerates the torn
tail a killed writer can leave (a partial last line; in gzip, a stream without its end). The
write side is :mod:`lagrace.recorder`. Pure: nothing here touches the event loop.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lagrace.errors import HistoryError
from lagrace.events import (
    Complete,
    Event,
    Invoke,
    Mark,
    Observe,
    Outcome,
    event_from_json,
)

_GZIP_MAGIC: Final = b"\x1f\x8b"


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
