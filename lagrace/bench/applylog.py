"""Each peer's apply progress from its own log (notes §4.2): exact indices, µs timestamps.

With ``storage::content_manager::consensus_manager=debug`` a peer logs ``Applying committed
entry with index N`` before applying entry N and ``Successfully applied consensus operation
entry. Index: N`` after it (a user error logs ``Failed to apply collection meta operation
entry with user error`` instead; the entry still counts as applied). Lines logged inside the
entry name it: ``Creating collection C`` / ``Deleting collection C`` for a create/delete, and
``TestSlowDown: sleeping for 0ms on peer P`` on a no-op's target. Qdrant stamps lines with
microseconds; on one host the server's clock is the driver's, so the resolution is 1 µs (on
other hosts add their clock offset). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from lagrace.analysis import logtexts
from lagrace.events import OBS_LOG, Observe

LOG_RESOLUTION_NS: Final = 1_000  # Qdrant's log timestamps carry microseconds
_META: Final = re.compile(r"^(?P<verb>Creating|Deleting) collection (?P<collection>\S+)")


@dataclass(slots=True)
class LoggedEntry:
    """One entry as one peer's log shows it."""

    index: int
    started_ns: int
    applied_ns: int | None = None
    collection: str | None = None
    verb: str | None = None  # "create" | "delete"
    slow_down_ms: int | None = None
    user_error: bool = False

    @property
    def apply_ns(self) -> int | None:
        """How long the peer was inside this entry."""
        return None if self.applied_ns is None else self.applied_ns - self.started_ns


@dataclass(slots=True)
class PeerLog:
    """Every entry one node's log showed, by index."""

    node: int
    entries: dict[int, LoggedEntry] = field(default_factory=dict)

    def applied_ns(self, index: int) -> int | None:
        """When this node logged entry ``index`` as applied."""
        entry = self.entries.get(index)
        return None if entry is None else entry.applied_ns

    def index_of(self, verb: str, collection: str) -> int | None:
        """The index of the entry that created/deleted ``collection`` on this node."""
        return next(
            (
                e.index
                for e in self.entries.values()
                if e.verb == verb and e.collection == collection
            ),
            None,
        )


def _at(event: Observe) -> int:
    at = event.data.get("at_ns")
    return at if isinstance(at, int) else event.t_ns


def peer_logs(events: Iterable[Observe]) -> dict[int, PeerLog]:
    """The apply lines of every node's ``log`` observations, entry by entry."""
    logs: dict[int, PeerLog] = {}
    open_entry: dict[int, LoggedEntry] = {}
    for event in events:
        if event.kind != OBS_LOG or event.node is None:
            continue
        message = str(event.data.get("message", ""))
        node, at = event.node, _at(event)
        log = logs.setdefault(node, PeerLog(node))
        current = open_entry.get(node)
        if m := logtexts.APPLYING_ENTRY.match(message):
            entry = LoggedEntry(int(m.group("index")), at)
            log.entries[entry.index] = entry
            open_entry[node] = entry
        elif m := logtexts.APPLIED_ENTRY.match(message):
            done = log.entries.get(int(m.group("index")))
            if done is not None and done.applied_ns is None:
                done.applied_ns = at
            open_entry.pop(node, None)
        elif current is None:
            continue
        elif message.startswith(logtexts.USER_ERROR_PREFIX):
            current.applied_ns, current.user_error = at, True
            open_entry.pop(node, None)
        elif m := _META.match(message):
            current.verb = "create" if m.group("verb") == "Creating" else "delete"
            current.collection = m.group("collection")
        elif m := logtexts.SLOW_DOWN_SLEEPING.search(message):
            current.slow_down_ms = int(m.group("ms"))
    return logs
