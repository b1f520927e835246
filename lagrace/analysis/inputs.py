"""What the detectors need to know besides the history: :class:`AnalysisInput`.

The runner builds one from its scenario; ``lagrace report RUN_DIR`` rebuilds it offline with
:func:`analysis_input_from_history`, which reads the ``run_start`` mark
(docs/run-directory.md) and lets the caller override or add to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lagrace.errors import HistoryError, UsageError
from lagrace.events import Complete, Invoke, Observe
from lagrace.history import History

DEFAULT_STALL_AGE_MS = 1000.0
# A follower observed a poll interval after the leader can trail it by a handful of entries
# during a burst of creates (10 entries per 3-shard RF3 create, notes §5); a lagging peer trails
# by the whole burst. 20 keeps polling skew out while one lagged create burst still shows.
DEFAULT_COMMIT_GAP = 20
DEFAULT_MAX_TIMELINE_ENTRIES = 200


@dataclass(frozen=True, slots=True)
class CustomSignature:
    """A user-given named regex searched in every server log message (``custom:<name>``).

    Named groups ``replica``, ``shard`` (digits) and ``collection`` fill the hit's fields.
    """

    name: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, spec: str) -> CustomSignature:
        """``NAME=REGEX`` (the CLI form); :class:`UsageError` if malformed."""
        name, sep, pattern = spec.partition("=")
        if not sep or not name.strip() or not pattern:
            raise UsageError(f"a custom signature is NAME=REGEX, got {spec!r}")
        return cls.compile(name.strip(), pattern)

    @classmethod
    def compile(cls, name: str, pattern: str) -> CustomSignature:
        """Compile ``pattern``; :class:`UsageError` if it is not a valid regex."""
        try:
            return cls(name=name, regex=re.compile(pattern))
        except re.error as exc:
            raise UsageError(
                f"custom signature {name!r}: invalid regex {pattern!r}: {exc}"
            ) from exc


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a peer counts as stalled without a ``TestSlowDown: sleeping`` line of its own."""

    stall_age_ms: float = DEFAULT_STALL_AGE_MS  # consensus last_update older than this
    commit_gap: int = DEFAULT_COMMIT_GAP  # leader commit minus the peer's, more than this


@dataclass(frozen=True, slots=True)
class AnalysisInput:
    """The scenario facts analysis needs; every one explicit, nothing read from elsewhere."""

    existing_collections: tuple[str, ...]
    new_collections: tuple[str, ...] = ()
    node_peers: Mapping[int, int] = field(default_factory=dict)  # node (1-based) -> peer id
    target_node: int | None = None
    target_peer: int | None = None
    custom_signatures: tuple[CustomSignature, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    peer_uris: Mapping[str, int] = field(default_factory=dict)  # p2p URI -> peer id
    max_timeline_entries: int = DEFAULT_MAX_TIMELINE_ENTRIES

    def peer_of(self, node: int | None) -> int | None:
        """The peer id of ``node``, if known."""
        return None if node is None else self.node_peers.get(node)

    def node_of(self, peer: int | None) -> int | None:
        """The node index of ``peer``, if known."""
        if peer is None:
            return None
        return next((n for n, p in self.node_peers.items() if p == peer), None)

    @property
    def target(self) -> int | None:
        """The target's node index (from ``target_node``, else via ``target_peer``)."""
        return self.target_node if self.target_node is not None else self.node_of(self.target_peer)


def normalise_uri(uri: str) -> str:
    """p2p URIs compare without a trailing slash (Qdrant writes them with one)."""
    return uri.rstrip("/")


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def analysis_input_from_history(
    history: History,
    *,
    existing_collections: Iterable[str] | None = None,
    new_collections: Iterable[str] | None = None,
    custom_signatures: Iterable[CustomSignature] = (),
    thresholds: Thresholds | None = None,
    peer_uris: Mapping[str, int] | None = None,
    max_timeline_entries: int = DEFAULT_MAX_TIMELINE_ENTRIES,
) -> AnalysisInput:
    """Rebuild the :class:`AnalysisInput` of a recorded run from its ``run_start`` mark.

    Keyword arguments override what the mark says. Node -> peer pairs also come from the
    events themselves (every event with both ``node`` and ``peer_id``). The mark's ``nodes``
    entries may carry the p2p URI as ``p2p_uri`` (used to attribute ``send_failures``).
    :class:`HistoryError` if no existing collection is known at all.
    """
    start = history.first_mark("run_start")
    data = start.data if start is not None else {}
    node_peers: dict[int, int] = {}
    uris: dict[str, int] = {}
    for entry in data.get("nodes") or ():
        if not isinstance(entry, dict):
            continue
        node, peer = _int_or_none(entry.get("node")), _int_or_none(entry.get("peer_id"))
        if node is not None and peer is not None:
            node_peers[node] = peer
            uri = entry.get("p2p_uri")
            if isinstance(uri, str) and uri:
                uris[normalise_uri(uri)] = peer
    for event in history:
        if (
            isinstance(event, Invoke | Complete | Observe)
            and event.node is not None
            and event.peer_id is not None
        ):
            node_peers.setdefault(event.node, event.peer_id)
    if peer_uris:
        uris.update({normalise_uri(u): p for u, p in peer_uris.items()})

    existing = (
        tuple(existing_collections)
        if existing_collections is not None
        else _str_tuple(data.get("existing_collection"))
        + _str_tuple(data.get("existing_collections"))
    )
    if not existing:
        where = "the run_start mark" if start is not None else "the history (no run_start mark)"
        raise HistoryError(f"{where} names no existing collection; pass it explicitly")
    new = (
        tuple(new_collections)
        if new_collections is not None
        else _str_tuple(data.get("new_collections"))
    )
    return AnalysisInput(
        existing_collections=existing,
        new_collections=new,
        node_peers=node_peers,
        target_node=_int_or_none(data.get("target_node")),
        target_peer=_int_or_none(data.get("target_peer")),
        custom_signatures=tuple(custom_signatures),
        thresholds=thresholds or Thresholds(),
        peer_uris=uris,
        max_timeline_entries=max_timeline_entries,
    )
