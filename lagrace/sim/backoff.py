"""Locally disabled replicas and their re-notification backoff (notes §4.6-C).

A coordinator that saw a write to a replica fail disables it *locally* and proposes it
``Dead``: immediately, then again after 1, 2, 4, 8 and every 10 s while the consensus state
of that replica, in this peer's own view, still equals the ``from_state`` it reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from lagrace.sim.replica_states import ReplicaState
from lagrace.timebase import NS_PER_S

BACKOFF_S: tuple[int, ...] = (1, 2, 4, 8, 10)


def backoff_delay_s(notifications: int) -> int:
    """Seconds to wait after the ``notifications``-th notification (1-based) before the next."""
    if notifications < 1:
        return 0
    return BACKOFF_S[min(notifications, len(BACKOFF_S)) - 1]


@dataclass(frozen=True, slots=True)
class ReplicaKey:
    """One replica: collection, shard, peer."""

    collection: str
    shard_id: int
    peer_id: int


@dataclass(slots=True)
class _Disabled:
    from_state: ReplicaState | None
    notifications: int
    next_ns: int


class LocallyDisabled:
    """A coordinator's set of locally disabled replicas with their backoff."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[ReplicaKey, _Disabled] = {}

    def __contains__(self, key: ReplicaKey) -> bool:
        return key in self._entries

    def keys_in_order(self) -> list[ReplicaKey]:
        """The disabled replicas, in the order they were disabled."""
        return list(self._entries)

    def from_state(self, key: ReplicaKey) -> ReplicaState | None:
        """The state reported when ``key`` was disabled."""
        return self._entries[key].from_state

    def disable(self, key: ReplicaKey, from_state: ReplicaState | None, now_ns: int) -> bool:
        """Disable ``key``; True if a notification (a Dead proposal) is due now."""
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Disabled(from_state, 1, now_ns + backoff_delay_s(1) * NS_PER_S)
            return True
        return self._notify_if_due(entry, now_ns)

    def due(self, now_ns: int) -> list[ReplicaKey]:
        """Replicas whose backoff elapsed; each is counted as notified again."""
        return [key for key, entry in self._entries.items() if self._notify_if_due(entry, now_ns)]

    def enable(self, key: ReplicaKey) -> None:
        """Forget ``key`` (its consensus state changed)."""
        self._entries.pop(key, None)

    @staticmethod
    def _notify_if_due(entry: _Disabled, now_ns: int) -> bool:
        if now_ns < entry.next_ns:
            return False
        entry.notifications += 1
        entry.next_ns = now_ns + backoff_delay_s(entry.notifications) * NS_PER_S
        return True
