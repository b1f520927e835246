"""The REST surface of one simulated peer: an aiohttp app with Qdrant's routes and envelopes.

Thin: parse, call ``meta_ops``/``dataplane``/``views``, render. Errors follow notes §1: a
``StorageError`` becomes ``{"status": {"error": ...}, "time": ...}`` with its status; request
parsing errors answer 400/422 with ``time`` 0.0; unknown routes answer an empty 404 as actix does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from lagrace.sim import dataplane, meta_ops, views
from lagrace.sim.bodies import (
    BadBody,
    check_collection_name,
    format_error,
    model_limit,
    parse_cluster_operation,
    parse_create_collection,
    parse_points,
)
from lagrace.sim.peer import SimPeer
from lagrace.sim.storage_errors import (
    ErrorKind,
    StorageError,
    collection_not_found,
    error_envelope,
    ok_envelope,
)
from lagrace.timebase import NS_PER_S

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PEER_KEY = web.AppKey("peer", SimPeer)
STARTED_KEY = web.RequestKey("started_ns", int)
HELPERS_TARGET = "qdrant::actix::helpers"


def _peer(request: web.Request) -> SimPeer:
    return request.app[PEER_KEY]


def _elapsed(request: web.Request) -> float:
    started = request[STARTED_KEY]
    return (_peer(request).clock.now_ns() - started) / NS_PER_S


def _ok(request: web.Request, result: Any) -> web.Response:
    return web.json_response(ok_envelope(result, _elapsed(request)))


def _fail(request: web.Request, error: StorageError) -> web.Response:
    if error.kind is ErrorKind.SERVICE_ERROR:
        _peer(request).log.write("ERROR", HELPERS_TARGET, f"Error processing request: {error}")
    return web.json_response(
        error_envelope(str(error), _elapsed(request)), status=error.http_status
    )


def _apply_result(request: web.Request, result: bool | StorageError) -> web.Response:
    if isinstance(result, StorageError):
        return _fail(request, result)
    return _ok(request, result)


@web.middleware
async def _qdrant_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    peer = _peer(request)
    request[STARTED_KEY] = peer.clock.now_ns()
    if peer.http_delay_s > 0:
        await asyncio.sleep(peer.http_delay_s)
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return web.Response(status=404)
    except BadBody as bad:
        return web.json_response(error_envelope(bad.message, 0.0), status=bad.status)
    except meta_ops.ConsensusTimeout as timeout:
        return _fail(request, timeout.error)
    except dataplane.UpdateFailed as failed:
        return _fail(request, failed.error)


async def _json_body(request: web.Request, *, required: bool = True) -> object:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise format_error("EOF while parsing a value at line 1 column 0")
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise format_error(str(exc)) from None


def _query_uint(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadBody(
            400, f"Deserialize error in query parameters: invalid digit found in string ({name})"
        ) from None
    if value < 1:
        raise BadBody(
            422,
            f"Validation error in query parameters: [{name}: value {value} invalid, "
            "must be 1 or larger]",
        )
    return value


def _query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise BadBody(
            400,
            "Deserialize error in query parameters: provided string was not `true` or "
            f"`false` ({name})",
        )
    return raw == "true"


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    check_collection_name(name)
    return name


# -- service ---------------------------------------------------------------------------------


async def _root(request: web.Request) -> web.Response:
    return web.json_response(views.root(_peer(request)))


async def _cluster(request: web.Request) -> web.Response:
    return _ok(request, views.cluster_status(_peer(request)))


async def _cluster_telemetry(request: web.Request) -> web.Response:
    peer = _peer(request)
    best = max(
        (p for p in peer.directory.values() if p.alive),
        key=lambda p: (p.consensus.peers[p.peer_id].term, p.consensus.peers[p.peer_id].commit),
    )
    collections = {
        name: {
            "id": name,
            "shards": [
                {
                    "id": shard_id,
                    "replicas": [
                        {"peer_id": p, "state": s.value} for p, s in sorted(states.items())
                    ],
                }
                for shard_id, states in sorted(coll.shards.items())
            ],
            "shard_transfers": [
                {"shard_id": t.shard_id, "from": t.from_peer, "to": t.to_peer, "sync": True}
                for t in coll.transfers
            ],
        }
        for name, coll in sorted(best.view.collections.items())
    }
    peers: dict[str, Any] = {}
    for other in sorted(peer.directory.values(), key=lambda p: p.peer_id):
        raft = other.consensus.peers[other.peer_id]
        details = None
        if other.alive:
            details = {
                "version": other.config.mode.version,
                "role": raft.role if raft.leader is not None else None,
                "is_voter": True,
                "term": raft.term,
                "commit": raft.commit,
                "num_pending_operations": raft.pending,
                "consensus_thread_status": views.cluster_status(other)["consensus_thread_status"],
            }
        peers[str(other.peer_id)] = {
            "uri": raft.uri,
            "responsive": other.alive,
            "details": details,
        }
    cluster = {"enabled": True, "number_of_peers": len(peers), "peers": peers}
    return _ok(request, {"collections": collections, "cluster": cluster})


async def _telemetry(request: web.Request) -> web.Response:
    raw = request.query.get("details_level", "0")
    if not raw.isdigit():
        raise BadBody(
            400,
            "Deserialize error in query parameters: invalid digit found in string (details_level)",
        )
    return _ok(request, views.telemetry(_peer(request), int(raw)))


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(text=views.metrics(_peer(request)), content_type="text/plain")


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="healthz check passed", content_type="text/plain")


async def _readyz(request: web.Request) -> web.Response:
    if _peer(request).ready():
        return web.Response(text="all shards are ready", content_type="text/plain")
    return web.Response(status=503, text="some shards are not ready", content_type="text/plain")


async def _logger_get(request: web.Request) -> web.Response:
    return _ok(request, {"log_level": _peer(request).log.filter_spec, "format": "text"})


async def _logger_post(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct LoggerConfig")
    level = body.get("log_level")
    if level is not None:
        if not isinstance(level, str):
            raise format_error("invalid type for `log_level`, expected a string")
        try:
            _peer(request).log.set_filter(level)
        except ValueError as exc:
            raise BadBody(400, f"Bad request: {exc}") from None
    return _ok(request, True)


# -- collections -----------------------------------------------------------------------------


async def _list_collections(request: web.Request) -> web.Response:
    await _peer(request).toc_lookup()
    names = sorted(_peer(request).view.collections)
    return _ok(request, {"collections": [{"name": n} for n in names]})


async def _get_collection(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    await peer.toc_lookup()
    coll = peer.view.collections.get(name)
    if coll is None:
        return _fail(request, collection_not_found(name))
    return _ok(request, views.collection_info(peer, coll))


async def _exists(request: web.Request) -> web.Response:
    await _peer(request).toc_lookup()
    return _ok(request, {"exists": _name(request) in _peer(request).view.collections})


async def _create_collection(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    timeout_s = _query_uint(request, "timeout")
    params = parse_create_collection(
        await _json_body(request, required=False), len(peer.consensus.voters)
    )
    return _apply_result(request, await meta_ops.create_collection(peer, name, params, timeout_s))


async def _delete_collection(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    timeout_s = _query_uint(request, "timeout")
    return _apply_result(request, await meta_ops.delete_collection(peer, name, timeout_s))


async def _collection_cluster(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    await peer.toc_lookup()
    coll = peer.view.collections.get(name)
    if coll is None:
        return _fail(request, collection_not_found(name))
    return _ok(request, views.collection_cluster(peer, coll))


async def _cluster_operation(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    timeout_s = _query_uint(request, "timeout")
    op = parse_cluster_operation(await _json_body(request), staging=peer.config.staging)
    await peer.toc_lookup()
    return _apply_result(request, await meta_ops.slow_down(peer, name, op, timeout_s))


# -- points ----------------------------------------------------------------------------------


async def _upsert(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    wait = _query_bool(request, "wait")
    _query_uint(request, "timeout")  # validated; v1.16.x ignores it, so does the model
    ordering = request.query.get("ordering", "weak")
    if ordering not in dataplane.ORDERINGS:
        raise BadBody(
            400,
            "Deserialize error in query parameters: unknown variant "
            f"`{ordering}`, expected one of `weak`, `medium`, `strong`",
        )
    batch = parse_points(await _json_body(request))
    coll = peer.view.collections.get(name)
    if coll is not None:
        for length in batch.vector_lengths:
            if length is None:
                raise model_limit("named vectors are not implemented")
            if length != coll.params.vector_size:
                return _fail(
                    request,
                    StorageError(
                        ErrorKind.BAD_INPUT,
                        f"Vector dimension error: expected dim: {coll.params.vector_size}, "
                        f"got {length}",
                    ),
                )
    result = await dataplane.upsert(peer, name, batch.ids, wait=wait, ordering=ordering)
    return _ok(request, result)


async def _count(request: web.Request) -> web.Response:
    peer, name = _peer(request), _name(request)
    body = await _json_body(request, required=False)
    if isinstance(body, dict) and body.get("filter") is not None:
        raise model_limit("count with a filter is not implemented")
    await peer.toc_lookup()
    if name not in peer.view.collections:
        return _fail(request, collection_not_found(name))
    return _ok(request, {"count": views.local_points(peer, name)})


def build_app(peer: SimPeer) -> web.Application:
    """The aiohttp application serving one peer."""
    app = web.Application(middlewares=[_qdrant_middleware])
    app[PEER_KEY] = peer
    app.router.add_get("/", _root)
    app.router.add_get("/cluster", _cluster)
    app.router.add_get("/cluster/telemetry", _cluster_telemetry)
    app.router.add_get("/telemetry", _telemetry)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/livez", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/logger", _logger_get)
    app.router.add_post("/logger", _logger_post)
    app.router.add_get("/collections", _list_collections)
    app.router.add_get("/collections/{name}", _get_collection)
    app.router.add_put("/collections/{name}", _create_collection)
    app.router.add_delete("/collections/{name}", _delete_collection)
    app.router.add_get("/collections/{name}/exists", _exists)
    app.router.add_get("/collections/{name}/cluster", _collection_cluster)
    app.router.add_post("/collections/{name}/cluster", _cluster_operation)
    app.router.add_put("/collections/{name}/points", _upsert)
    app.router.add_post("/collections/{name}/points/count", _count)
    return app
