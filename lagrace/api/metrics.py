"""A pure parser of Prometheus text exposition (``GET /metrics``, notes §2.10).

:func:`parse_samples` turns the text into :class:`Sample` s (comments and blank lines
skipped; a malformed sample line raises :class:`~lagrace.errors.ProtocolError`);
:func:`cluster_metrics` picks the ``cluster_*`` families plus ``collections_total`` and
``collection_dead_replicas`` into :class:`~lagrace.api.models.ClusterMetrics`. Qdrant's
``service.metrics_prefix`` is honoured with ``prefix``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from lagrace.api.models import ClusterMetrics
from lagrace.errors import ProtocolError

_NAME: Final = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_ESCAPES: Final = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample line: ``name{labels} value [timestamp]``."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str | None:
        """The value of one label, if present."""
        return next((v for k, v in self.labels if k == key), None)


def _unescape(text: str) -> str:
    return re.sub(r"\\[\\\"n]", lambda m: _ESCAPES[m.group(0)], text)


def _parse_labels(text: str, lineno: int) -> tuple[tuple[str, str], ...]:
    labels: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if m is None:
            raise ProtocolError(f"metrics line {lineno}: malformed labels {text!r}")
        labels.append((m.group(1), _unescape(m.group(2))))
        pos = m.end()
    return tuple(labels)


def _parse_value(text: str, lineno: int) -> float:
    special = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}
    if text.lower() in special:
        return special[text.lower()]
    try:
        return float(text)
    except ValueError as exc:
        raise ProtocolError(f"metrics line {lineno}: malformed value {text!r}") from exc


def parse_samples(text: str) -> list[Sample]:
    """Every sample of a Prometheus text exposition, in order."""
    samples: list[Sample] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            raise ProtocolError(f"metrics line {lineno}: not a sample: {line[:120]!r}")
        name, labels, value, _timestamp = m.groups()
        samples.append(
            Sample(
                name=name,
                labels=_parse_labels(labels, lineno) if labels else (),
                value=_parse_value(value, lineno),
            )
        )
    return samples


def _as_int(value: float) -> int:
    if not math.isfinite(value):
        raise ProtocolError(f"metrics: expected a finite number, got {value}")
    return int(value)


def cluster_metrics(text: str, prefix: str = "") -> ClusterMetrics:
    """The cluster families of ``GET /metrics`` (fields stay ``None`` when absent)."""
    found: dict[str, float] = {}
    working: bool | None = None
    for sample in parse_samples(text):
        if not sample.name.startswith(prefix):
            continue
        name = sample.name[len(prefix) :]
        if name == "cluster_working_state":
            if sample.label("state") == "working":
                working = sample.value == 1
            continue
        # cluster_commit carries a peer_id label; there is one sample per node.
        found.setdefault(name, sample.value)

    def get_int(name: str) -> int | None:
        return _as_int(found[name]) if name in found else None

    def get_bool(name: str) -> bool | None:
        return found[name] == 1 if name in found else None

    return ClusterMetrics(
        enabled=get_bool("cluster_enabled"),
        peers_total=get_int("cluster_peers_total"),
        term=get_int("cluster_term"),
        commit=get_int("cluster_commit"),
        pending_operations=get_int("cluster_pending_operations_total"),
        voter=get_bool("cluster_voter"),
        last_update_unix_s=found.get("cluster_last_update_timestamp_seconds"),
        working=working,
        collections_total=get_int("collections_total"),
        dead_replicas=get_int("collection_dead_replicas"),
    )
