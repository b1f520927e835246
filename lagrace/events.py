"""The events of a run's history (Jepsen-style), as plain frozen data.

Four event types share a dense ``index`` (0, 1, 2, ... in append order) and ``t_ns``
(the run clock, :mod:`lagrace.clock`):

* :class:`Invoke`   an operation was sent (``op_id`` pairs it with its completion);
* :class:`Complete` that operation finished with an :data:`Outcome`;
* :class:`Observe`  something seen: a watcher snapshot that changed, a parsed server log line;
* :class:`Mark`     a phase change or other note of the driver.

Outcomes: ``ok`` took effect, ``fail`` did not take effect, ``info`` unknown (a timeout or a
disconnect after sending, a 5xx). The JSON form is documented in ``docs/run-directory.md``.

What an invoke asks for is structured (:class:`OpArgs`: the collection, a slow-down's target
peer, an upsert's ``wait``/``ordering``/batch size, ...), written by the one HTTP client
(:mod:`lagrace.api.calls`); detectors and renderers read those fields. ``Invoke.request``
is a short text for people (``PUT /collections/c/points?wait=true points=8``) and is never
parsed. Histories written before ``args`` existed load with empty ``OpArgs``.
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _quote  # what json.dumps uses for str
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
class OpArgs:
    """What an operation asks for, as typed fields (``None``: not part of this operation).

    ``collection`` the collection addressed; ``target_peer`` and ``duration_s`` a
    ``test_slow_down``'s peer (``None`` with a duration: every peer, Qdrant's default) and
    length; ``wait``, ``ordering`` and ``points`` (the batch size) an upsert's; ``timeout_s``
    the server-side ``timeout`` query parameter; ``params`` the other parameters of the
    operation as sent (e.g. a create's ``shard_number``), for display and later detectors.
    """

    collection: str | None = None
    target_peer: int | None = None
    duration_s: float | None = None
    wait: bool | None = None
    ordering: str | None = None
    points: int | None = None
    timeout_s: int | None = None
    params: JsonObject | None = field(default=None, hash=False)  # a dict: not hashable


NO_ARGS: Final = OpArgs()


@dataclass(frozen=True, slots=True)
class Invoke:
    """An operation was sent to ``node`` (1-based index) / ``peer_id``.

    ``args`` is what it asks for (:class:`OpArgs`); ``request`` only a text for people.
    """

    index: int
    t_ns: int
    op_id: int
    worker: str
    op: str
    node: int | None
    peer_id: int | None
    request: str
    intended_ns: int | None = None
    args: OpArgs = NO_ARGS
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


def args_to_json(args: OpArgs) -> JsonObject:
    """The JSON object of an invoke's ``args``; ``None`` fields are left out."""
    return {name: value for name in OpArgs.__slots__ if (value := getattr(args, name)) is not None}


def event_to_json(event: Event) -> JsonObject:
    """The JSON object for one event; ``None`` fields and empty ``args`` are left out."""
    out: JsonObject = {"index": event.index, "t_ns": event.t_ns, "type": event.type}
    for name in event.__slots__:
        if name in ("index", "t_ns", "type"):
            continue
        value = getattr(event, name)
        if value is None:
            continue
        if isinstance(value, OpArgs):
            if value != NO_ARGS:
                out[name] = args_to_json(value)
            continue
        out[name] = value.value if isinstance(value, Outcome) else value
    return out


@functools.lru_cache(maxsize=1024)
def _args_text(args: OpArgs) -> str:
    """``,"args":{...}`` of an invoke (empty for no args); cached: the hammer repeats its args."""
    if args == NO_ARGS:
        return ""
    return ',"args":' + json.dumps(args_to_json(args), separators=(",", ":"))


def _opt(key: str, value: int | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f',"{key}":{_quote(value)}'
    if type(value) is int:
        return f',"{key}":{value}'
    return f',"{key}":{json.dumps(value)}'  # a bool or float where an int belongs: as json does


def event_line(event: Event) -> str:
    """The history line of one event: exactly ``json.dumps(event_to_json(event))`` with compact
    separators, built without the generic encoder for invokes and completions (the hammer's
    two events per write; a property test checks both forms agree)."""
    if isinstance(event, Invoke):
        return (
            f'{{"index":{event.index},"t_ns":{event.t_ns},"type":"invoke","op_id":{event.op_id}'
            f',"worker":{_quote(event.worker)},"op":{_quote(event.op)}'
            f"{_opt('node', event.node)}{_opt('peer_id', event.peer_id)}"
            f',"request":{_quote(event.request)}{_opt("intended_ns", event.intended_ns)}'
            f"{_args_text(event.args)}}}"
        )
    if isinstance(event, Complete):
        return (
            f'{{"index":{event.index},"t_ns":{event.t_ns},"type":"complete","op_id":{event.op_id}'
            f',"worker":{_quote(event.worker)},"op":{_quote(event.op)}'
            f"{_opt('node', event.node)}{_opt('peer_id', event.peer_id)}"
            f',"outcome":"{event.outcome.value}"{_opt("status", event.status)}'
            f"{_opt('error', event.error)}{_opt('response', event.response)}}}"
        )
    return json.dumps(event_to_json(event), separators=(",", ":"))


def _checked(obj: JsonObject, key: str, kinds: tuple[type, ...], what: str) -> Any:
    """``obj[key]`` if it is one of ``kinds`` (a bool only where asked for), else ``None``
    when absent; :class:`HistoryError` otherwise."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise HistoryError(f"field {key!r} must be {what}, got {value!r}")
    return value


def _opt_int(obj: JsonObject, key: str) -> int | None:
    value = _checked(obj, key, (int,), "an integer")
    return None if value is None else int(value)


def _opt_str(obj: JsonObject, key: str) -> str | None:
    value = _checked(obj, key, (str,), "a string")
    return None if value is None else str(value)


def _opt_bool(obj: JsonObject, key: str) -> bool | None:
    value = _checked(obj, key, (bool,), "true or false")
    return None if value is None else bool(value)


def _opt_float(obj: JsonObject, key: str) -> float | None:
    value = _checked(obj, key, (int, float), "a number")
    return None if value is None else float(value)


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


def _data(obj: JsonObject, key: str = "data") -> JsonObject:
    value = obj.get(key, {})
    if not isinstance(value, dict):
        raise HistoryError(f"field {key!r} must be an object, got {value!r}")
    return value


def args_from_json(obj: JsonObject) -> OpArgs:
    """Rebuild an invoke's ``args``; a missing object (an older history) gives empty args."""
    params = obj.get("params")
    if params is not None and not isinstance(params, dict):
        raise HistoryError(f"field 'params' must be an object, got {params!r}")
    return OpArgs(
        collection=_opt_str(obj, "collection"),
        target_peer=_opt_int(obj, "target_peer"),
        duration_s=_opt_float(obj, "duration_s"),
        wait=_opt_bool(obj, "wait"),
        ordering=_opt_str(obj, "ordering"),
        points=_opt_int(obj, "points"),
        timeout_s=_opt_int(obj, "timeout_s"),
        params=params,
    )


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
            args=args_from_json(_data(obj, "args")),
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
