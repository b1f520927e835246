"""The events of a run's history (Jepsen-style), as plain frozen data.

Four event types share a dense ``index`` (0, 1, 2, ... in append order) and ``t_ns``
(the run clock, :mod:`lagrace.clock`):

* :class:`Invoke`   an operation was sent (``op_id`` pairs it with its completion);
* :class:`Complete` that operation finished with an :data:`Outcome`;
* :class:`Observe`  something seen: a watcher snapshot that changed, a parsed server log line;
* :class:`Mark`     a phase change or other note of the driver.

Outcomes: ``ok`` took effect, ``fail`` did not take effect, ``info`` unknown (a timeout or a
disconnect after sending, a 5xx). The JSON form is documented in ``docs/run-directory.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from lagrace.errors import HistoryError

JsonObject = dict[str, Any]


class Outcome(enum.StrEnum):
    """The result of an operation: took effect, did not, or unknown."""

    OK = "ok"
    FAIL = "fail"
    INFO = "info"


# Observation kinds (``Observe.kind``). Their ``data`` shapes are in docs/run-directory.md.
OBS_CLUSTER: Final = "cluster"
OBS_COLLECTION_CLUSTER: Final = "collection_cluster"
OBS_LOG: Final = "log"
OBS_PROBE_ERROR: Final = "probe_error"

EventType = Literal["invoke", "complete", "observe", "mark"]


@dataclass(frozen=True, slots=True)
class Invoke:
    """An operation was sent to ``node`` (1-based index) / ``peer_id``."""

    index: int
    t_ns: int
    op_id: int
    worker: str
    op: str
    node: int | None
    peer_id: int | None
    request: str
    intended_ns: int | None = None
    type: Literal["invoke"] = field(default="invoke", init=False)


@dataclass(frozen=True, slots=True)
class Complete:
    """The operation ``op_id`` finished."""

    index: int
    t_ns: int
    op_id: int
    worker: str
    op: str
    node: int | None
    peer_id: int | None
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    response: str | None = None
    type: Literal["complete"] = field(default="complete", init=False)


@dataclass(frozen=True, slots=True)
class Observe:
    """Something seen on ``node``: a changed snapshot or a parsed log line."""

    index: int
    t_ns: int
    kind: str
    node: int | None
    peer_id: int | None
    data: JsonObject
    type: Literal["observe"] = field(default="observe", init=False)


@dataclass(frozen=True, slots=True)
class Mark:
    """A phase change or another note of the driver."""

    index: int
    t_ns: int
    name: str
    data: JsonObject
    type: Literal["mark"] = field(default="mark", init=False)


Event = Invoke | Complete | Observe | Mark


def event_to_json(event: Event) -> JsonObject:
    """The JSON object for one event; ``None`` fields are left out."""
    out: JsonObject = {"index": event.index, "t_ns": event.t_ns, "type": event.type}
    for name in event.__slots__:
        if name in ("index", "t_ns", "type"):
            continue
        value = getattr(event, name)
        if value is None:
            continue
        out[name] = value.value if isinstance(value, Outcome) else value
    return out


def _opt_int(obj: JsonObject, key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise HistoryError(f"field {key!r} must be an integer, got {value!r}")
    return value


def _opt_str(obj: JsonObject, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HistoryError(f"field {key!r} must be a string, got {value!r}")
    return value


def _req_int(obj: JsonObject, key: str) -> int:
    value = _opt_int(obj, key)
    if value is None:
        raise HistoryError(f"missing field {key!r}")
    return value


def _req_str(obj: JsonObject, key: str) -> str:
    value = _opt_str(obj, key)
    if value is None:
        raise HistoryError(f"missing field {key!r}")
    return value


def _data(obj: JsonObject) -> JsonObject:
    value = obj.get("data", {})
    if not isinstance(value, dict):
        raise HistoryError(f"field 'data' must be an object, got {value!r}")
    return value


def event_from_json(obj: JsonObject) -> Event:
    """Rebuild an event from its JSON object; :class:`HistoryError` if it is malformed."""
    kind = obj.get("type")
    index, t_ns = _req_int(obj, "index"), _req_int(obj, "t_ns")
    if kind == "invoke":
        return Invoke(
            index=index,
            t_ns=t_ns,
            op_id=_req_int(obj, "op_id"),
            worker=_req_str(obj, "worker"),
            op=_req_str(obj, "op"),
            node=_opt_int(obj, "node"),
            peer_id=_opt_int(obj, "peer_id"),
            request=_opt_str(obj, "request") or "",
            intended_ns=_opt_int(obj, "intended_ns"),
        )
    if kind == "complete":
        try:
            outcome = Outcome(_req_str(obj, "outcome"))
        except ValueError as exc:
            raise HistoryError(f"unknown outcome {obj.get('outcome')!r}") from exc
        return Complete(
            index=index,
            t_ns=t_ns,
            op_id=_req_int(obj, "op_id"),
            worker=_req_str(obj, "worker"),
            op=_req_str(obj, "op"),
            node=_opt_int(obj, "node"),
            peer_id=_opt_int(obj, "peer_id"),
            outcome=outcome,
            status=_opt_int(obj, "status"),
            error=_opt_str(obj, "error"),
            response=_opt_str(obj, "response"),
        )
    if kind == "observe":
        return Observe(
            index=index,
            t_ns=t_ns,
            kind=_req_str(obj, "kind"),
            node=_opt_int(obj, "node"),
            peer_id=_opt_int(obj, "peer_id"),
            data=_data(obj),
        )
    if kind == "mark":
        return Mark(index=index, t_ns=t_ns, name=_req_str(obj, "name"), data=_data(obj))
    raise HistoryError(f"unknown event type {kind!r}")
