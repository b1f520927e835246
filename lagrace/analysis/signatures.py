"""Detector (a): the symptom WARNs in the server logs, per peer (notes §4.2, §4.5, §4.7, §9.5).

Two built-in signatures, both *user errors at apply time* that every peer logs when it applies
the entry:

* ``dead_expected_active`` — ``... Replica X of shard Y has state Some(Dead), but expected
  Some(Active)``;
* ``last_active_replica`` — ``... Cannot deactivate the last active replica X of shard Y``;

plus user regexes (``custom:<name>``). The benign ``... has state Some(Active), but expected
Some(Initializing)`` echoes (notes §9.7) match neither. The collection is attributed from the
latest preceding ``Set shard replica state SetShardReplicaState { collection_name: .., shard_id:
Y, peer_id: X, .. }`` DEBUG line of the same node (the WARN for an entry follows its Set line).
"""

from __future__ import annotations

import re
from typing import Final

from lagrace.analysis import logtexts
from lagrace.analysis.findings import SignatureHit
from lagrace.analysis.inputs import AnalysisInput
from lagrace.events import OBS_LOG, Observe
from lagrace.history import History

DEAD_EXPECTED_ACTIVE: Final = "dead_expected_active"
LAST_ACTIVE_REPLICA: Final = "last_active_replica"
CUSTOM_PREFIX: Final = "custom:"

BUILTIN: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (DEAD_EXPECTED_ACTIVE, logtexts.DEAD_EXPECTED_ACTIVE),
    (LAST_ACTIVE_REPLICA, logtexts.LAST_ACTIVE_REPLICA),
)


def log_at_ns(event: Observe) -> int:
    """A log line's server time on the run axis (the recording time if the line has none)."""
    at = event.data.get("at_ns")
    return at if isinstance(at, int) and not isinstance(at, bool) else event.t_ns


def log_message(event: Observe) -> str:
    """The message of a ``log`` observation ('' if missing)."""
    message = event.data.get("message")
    return message if isinstance(message, str) else ""


def _group_int(match: re.Match[str], name: str) -> int | None:
    if name not in match.re.groupindex:
        return None
    value = match.group(name)
    return int(value) if value is not None and value.isdigit() else None


def _group_str(match: re.Match[str], name: str) -> str | None:
    if name not in match.re.groupindex:
        return None
    return match.group(name)


def _attribute(
    set_lines: list[tuple[str, int, int]], shard: int | None, replica: int | None
) -> str | None:
    """The collection of the latest Set line of this node for (shard, replica)."""
    for collection, set_shard, set_peer in reversed(set_lines):
        if (shard is None or set_shard == shard) and (replica is None or set_peer == replica):
            return collection
    return None


def find_signatures(history: History, inp: AnalysisInput) -> tuple[SignatureHit, ...]:
    """Every log line matching a built-in or custom signature, in history order."""
    hits: list[SignatureHit] = []
    set_lines: dict[int | None, list[tuple[str, int, int]]] = {}
    for event in history.observations(OBS_LOG):
        message = log_message(event)
        set_match = logtexts.SET_REPLICA_STATE.search(message)
        if set_match is not None:
            set_lines.setdefault(event.node, []).append(
                (set_match["collection"], int(set_match["shard"]), int(set_match["peer"]))
            )
        patterns = [*BUILTIN, *((CUSTOM_PREFIX + c.name, c.regex) for c in inp.custom_signatures)]
        for name, regex in patterns:
            match = regex.search(message)
            if match is None:
                continue
            replica, shard = _group_int(match, "replica"), _group_int(match, "shard")
            collection = _group_str(match, "collection") or _attribute(
                set_lines.get(event.node, []), shard, replica
            )
            hits.append(
                SignatureHit(
                    signature=name,
                    node=event.node,
                    peer_id=event.peer_id if event.peer_id is not None else inp.peer_of(event.node),
                    at_ns=log_at_ns(event),
                    message=message,
                    replica_peer=replica,
                    shard=shard,
                    collection=collection,
                )
            )
    return tuple(hits)


def count_by_signature(hits: tuple[SignatureHit, ...]) -> dict[str, int]:
    """How many hits each signature has, in first-seen order."""
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit.signature] = counts.get(hit.signature, 0) + 1
    return counts
