"""Detector (b): replicas of the pre-existing collection(s) leaving ``Active`` (notes §3, §4.6).

Over ``collection_cluster`` observations (each node's own consensus view): a replica that one
observer had seen ``Active`` and then sees in any other state starts a :class:`Disruption`,
which lasts until that observer sees it ``Active`` again (or the end of the run). Every state in
between is kept. A replica missing from a snapshot, or a snapshot with ``visible: false``,
changes nothing: only states Qdrant reports count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from lagrace.analysis.findings import Disruption
from lagrace.events import OBS_COLLECTION_CLUSTER, Observe
from lagrace.history import History

ACTIVE: Final = "Active"

ReplicaRow = tuple[int, int, str]  # (shard, peer, state)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def replica_rows(data: dict[str, Any]) -> list[ReplicaRow] | None:
    """The ``[shard, peer, state]`` rows of a visible snapshot; ``None`` when not visible.

    Malformed rows are skipped (the format is documented in docs/run-directory.md).
    """
    if not data.get("visible", False):
        return None
    rows: list[ReplicaRow] = []
    for row in data.get("replicas") or ():
        if (
            isinstance(row, list | tuple)
            and len(row) == 3
            and _is_int(row[0])
            and _is_int(row[1])
            and isinstance(row[2], str)
        ):
            rows.append((row[0], row[1], row[2]))
    return rows


def collection_of(event: Observe) -> str | None:
    """The collection a ``collection_cluster`` observation is about."""
    name = event.data.get("collection")
    return name if isinstance(name, str) else None


@dataclass(slots=True)
class _Episode:
    first_ns: int
    states: list[str] = field(default_factory=list)


def find_disruptions(history: History, existing: Iterable[str]) -> tuple[Disruption, ...]:
    """Every episode of a replica of an ``existing`` collection leaving Active, per observer."""
    watched = set(existing)
    seen_active: set[tuple[int | None, str, int, int]] = set()
    open_: dict[tuple[int | None, str, int, int], tuple[Observe, _Episode]] = {}
    done: list[Disruption] = []

    def close(key: tuple[int | None, str, int, int], back_ns: int | None) -> None:
        first_obs, episode = open_.pop(key)
        node, collection, shard, peer = key
        done.append(
            Disruption(
                collection=collection,
                shard=shard,
                replica_peer=peer,
                observer_node=node,
                observer_peer=first_obs.peer_id,
                state=episode.states[0],
                states=tuple(episode.states),
                first_ns=episode.first_ns,
                back_active_ns=back_ns,
            )
        )

    for event in history.observations(OBS_COLLECTION_CLUSTER):
        collection = collection_of(event)
        if collection not in watched:
            continue
        rows = replica_rows(event.data)
        if rows is None:
            continue
        for shard, peer, state in rows:
            key = (event.node, collection, shard, peer)
            if state == ACTIVE:
                if key in open_:
                    close(key, event.t_ns)
                seen_active.add(key)
            elif key in open_:
                episode = open_[key][1]
                if episode.states[-1] != state:
                    episode.states.append(state)
            elif key in seen_active:
                open_[key] = (event, _Episode(first_ns=event.t_ns, states=[state]))
    for key in list(open_):
        close(key, None)
    done.sort(
        key=lambda d: (d.first_ns, d.observer_node or 0, d.collection, d.shard, d.replica_peer)
    )
    return tuple(done)


def first_disruption_ns(disruptions: Iterable[Disruption]) -> int | None:
    """When the first replica was first seen leaving Active."""
    return min((d.first_ns for d in disruptions), default=None)
