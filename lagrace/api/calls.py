"""What each call to a Qdrant node sends, as data: the HTTP request and its history fields.

One function per operation builds a :class:`Call`: the history's op name, the HTTP method,
path, query and JSON body, the typed :class:`~lagrace.events.OpArgs` recorded with the
invoke, and a short note for the request text people read. Pure: the HTTP client
(:class:`~lagrace.api.client.HttpNodeClient`) sends what these build and records them with
:func:`record_invoke`; the literal-history builder of the tests records the same calls the
same way, so tests see what a run writes.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lagrace.events import NO_ARGS, Invoke, JsonObject, OpArgs
from lagrace.recorder import Recorder

_NOTE_CHARS: Final = 160
_CREATE_KEYS: Final = ("shard_number", "replication_factor", "write_consistency_factor")


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request to a node and what it asks for.

    ``path`` is already quoted (a collection name is one path segment); ``params`` is the
    query; ``body`` the JSON body (a value to serialise, :class:`PointsJson` serialised
    once, or ``None``); ``args`` the typed fields of the invoke; ``note`` a few words for
    :attr:`summary`.
    """

    op: str
    method: str
    path: str
    args: OpArgs = NO_ARGS
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    note: str = ""
    text: str = ""  # the summary, when the builder already knows it (the upsert's is cached)

    @property
    def summary(self) -> str:
        """``PUT /collections/c/points?wait=true points=8``: the invoke's text for people."""
        if self.text:
            return self.text
        return _summary(self.method, self.path, tuple(self.params.items()), self.note)


@functools.lru_cache(maxsize=1024)
def _summary(method: str, path: str, params: tuple[tuple[str, str], ...], note: str) -> str:
    """A call's text, cached: the hammer sends the same shape of request thousands of times."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return f"{method} {path}{query}" + (f" {note}" if note else "")


@dataclass(frozen=True, slots=True)
class PointsJson:
    """A batch of points already serialised as the upsert's whole body, ``{"points": [...]}``.

    The hammer builds these from pre-serialised vectors (:mod:`lagrace.race.workers`), so the
    request path neither builds point dicts nor runs the JSON encoder; ``count`` is the batch
    size recorded in the invoke's ``args.points``.
    """

    data: bytes
    count: int

    def __len__(self) -> int:
        return self.count


def record_invoke(
    recorder: Recorder,
    call: Call,
    *,
    worker: str,
    node: int | None,
    peer_id: int | None,
    intended_ns: int | None = None,
    redact: Callable[[str], str] = str,
) -> Invoke:
    """Record the invoke of ``call``: the one place a call becomes a history event."""
    return recorder.invoke(
        worker=worker,
        op=call.op,
        node=node,
        peer_id=peer_id,
        request=redact(call.summary),
        intended_ns=intended_ns,
        args=call.args,
    )


def segment(name: str) -> str:
    """A collection name as one URL path segment (``/`` and ``?`` cannot escape it)."""
    return urllib.parse.quote(name, safe="")


def query(**params: object) -> dict[str, str]:
    """Query parameters as Qdrant reads them: ``None`` left out, booleans ``true``/``false``."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def compact(value: Any) -> str:
    """``value`` as compact JSON, clipped for a summary."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= _NOTE_CHARS else f"{text[: _NOTE_CHARS - 1]}…"


def _collection_path(name: str, tail: str = "") -> str:
    return f"/collections/{segment(name)}{tail}"


# -- service --------------------------------------------------------------------------------


def root() -> Call:
    """``GET /``: title, version, commit."""
    return Call("root", "GET", "/")


def readyz() -> Call:
    """``GET /readyz``."""
    return Call("readyz", "GET", "/readyz")


def telemetry(details_level: int = 1, *, note: str = "") -> Call:
    """``GET /telemetry?details_level=N``."""
    return Call(
        "telemetry",
        "GET",
        "/telemetry",
        OpArgs(params={"details_level": details_level}),
        query(details_level=details_level),
        note=note,
    )


def metrics() -> Call:
    """``GET /metrics``."""
    return Call("metrics", "GET", "/metrics")


def set_logger(log_level: str) -> Call:
    """``POST /logger`` with ``{"log_level": ...}``."""
    return Call(
        "set_logger",
        "POST",
        "/logger",
        OpArgs(params={"log_level": log_level}),
        body={"log_level": log_level},
        note=f"log_level={log_level}",
    )


# -- cluster --------------------------------------------------------------------------------


def cluster() -> Call:
    """``GET /cluster``."""
    return Call("cluster", "GET", "/cluster")


def cluster_telemetry(details_level: int = 2, timeout_s: int | None = None) -> Call:
    """``GET /cluster/telemetry?details_level=N&timeout=S``."""
    return Call(
        "cluster_telemetry",
        "GET",
        "/cluster/telemetry",
        OpArgs(timeout_s=timeout_s, params={"details_level": details_level}),
        query(details_level=details_level, timeout=timeout_s),
    )


# -- collections ----------------------------------------------------------------------------


def list_collections() -> Call:
    """``GET /collections``."""
    return Call("list_collections", "GET", "/collections")


def collection_info(name: str) -> Call:
    """``GET /collections/{name}``."""
    return Call("collection_info", "GET", _collection_path(name), OpArgs(collection=name))


def collection_exists(name: str) -> Call:
    """``GET /collections/{name}/exists``."""
    return Call(
        "collection_exists", "GET", _collection_path(name, "/exists"), OpArgs(collection=name)
    )


def create_collection(name: str, body: JsonObject, *, timeout_s: int | None = None) -> Call:
    """``PUT /collections/{name}?timeout=`` with the collection's config; ``params`` keeps
    its shard number, replication factor and write consistency factor."""
    shape: JsonObject = {k: body[k] for k in _CREATE_KEYS if k in body}
    return Call(
        "create_collection",
        "PUT",
        _collection_path(name),
        OpArgs(collection=name, timeout_s=timeout_s, params=shape or None),
        query(timeout=timeout_s),
        body,
        " ".join(f"{k}={v}" for k, v in shape.items()),
    )


def delete_collection(name: str, *, timeout_s: int | None = None) -> Call:
    """``DELETE /collections/{name}?timeout=``."""
    return Call(
        "delete_collection",
        "DELETE",
        _collection_path(name),
        OpArgs(collection=name, timeout_s=timeout_s),
        query(timeout=timeout_s),
    )


def collection_cluster(name: str) -> Call:
    """``GET /collections/{name}/cluster``."""
    return Call(
        "collection_cluster", "GET", _collection_path(name, "/cluster"), OpArgs(collection=name)
    )


def cluster_operation(
    collection: str, operation: JsonObject, *, timeout_s: int | None = None
) -> Call:
    """``POST /collections/{c}/cluster`` with one public operation (kept in ``params``)."""
    return Call(
        "cluster_operation",
        "POST",
        _collection_path(collection, "/cluster"),
        OpArgs(collection=collection, timeout_s=timeout_s, params=operation),
        query(timeout=timeout_s),
        operation,
        compact(operation),
    )


def slow_down(
    collection: str, *, peer_id: int | None, duration_s: float, timeout_s: int | None = None
) -> Call:
    """``POST /collections/{c}/cluster`` with ``{"test_slow_down": {...}}`` (staging only);
    ``peer_id=None`` stalls every peer."""
    payload: JsonObject = {"duration": duration_s}
    if peer_id is not None:
        payload["peer_id"] = peer_id
    return Call(
        "test_slow_down",
        "POST",
        _collection_path(collection, "/cluster"),
        OpArgs(
            collection=collection, target_peer=peer_id, duration_s=duration_s, timeout_s=timeout_s
        ),
        query(timeout=timeout_s),
        {"test_slow_down": payload},
        f"peer_id={peer_id} duration={duration_s:g}",
    )


# -- points ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _upsert_shape(
    collection: str, wait: bool, ordering: str | None, timeout_s: int | None, count: int
) -> tuple[str, OpArgs, Mapping[str, str], str, str]:
    """Path, args, query, note and text of an upsert: the same for every batch of a worker."""
    args = OpArgs(
        collection=collection, wait=wait, ordering=ordering, points=count, timeout_s=timeout_s
    )
    params = query(wait=wait, ordering=ordering, timeout=timeout_s)
    path, note = _collection_path(collection, "/points"), f"points={count}"
    return path, args, params, note, _summary("PUT", path, tuple(params.items()), note)


def upsert_points(
    collection: str,
    points: Sequence[JsonObject] | PointsJson,
    *,
    wait: bool = False,
    ordering: str | None = None,
    timeout_s: int | None = None,
) -> Call:
    """``PUT /collections/{c}/points?wait=&ordering=&timeout=`` with ``{"points": [...]}``
    (``points`` as dicts, or already serialised as :class:`PointsJson`)."""
    shape = _upsert_shape(collection, wait, ordering, timeout_s, len(points))
    path, args, params, note, text = shape
    body = points if isinstance(points, PointsJson) else {"points": list(points)}
    return Call("upsert", "PUT", path, args, params, body, note, text)


def count_points(collection: str, *, exact: bool = True) -> Call:
    """``POST /collections/{c}/points/count``."""
    return Call(
        "count_points",
        "POST",
        _collection_path(collection, "/points/count"),
        OpArgs(collection=collection, params={"exact": exact}),
        body={"exact": exact},
        note=f"exact={exact}",
    )
