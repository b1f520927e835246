"""An in-process fake Qdrant REST app (aiohttp) for client, discovery and CLI tests.

Each :class:`NodeState` is one node; :func:`make_app` serves it with Qdrant-shaped bodies
(notes §1-§2, OpenAPI v1.18). ``state.faults`` maps a request path to a misbehaviour
(:data:`FAULTS`) so tests can make one route answer badly. :func:`three_nodes` builds a
consistent 3-node cluster; :func:`serve_in_thread` runs apps on a loop in a background thread
for code that runs its own loop (the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

FAULTS: Final = (
    "non_json",
    "wrong_shape",
    "500",
    "slow",
    "reset",
    "huge",
    "huge_chunked",
    "trickle",
    "not_qdrant",
    "echo_key",
)
HUGE_BYTES: Final = 9 * 1024 * 1024
LAST_UPDATE: Final = "2026-01-01T00:00:00.500000000Z"


@dataclass
class NodeState:
    """One fake node: its cluster status, collections and scripted faults."""

    peer_id: int
    p2p_uri: str
    peers: dict[int, str] = field(default_factory=dict)
    version: str = "1.18.3"
    term: int = 2
    commit: int = 40
    pending: int = 0
    leader: int | None = None
    is_voter: bool = True
    thread_status: str = "working"
    last_update: str = LAST_UPDATE
    send_failures: dict[str, int] = field(default_factory=dict)
    cluster_enabled: bool = True
    staging: bool = True
    staging_in_telemetry: bool = True  # v1.17.0+; v1.16.x reports no features.staging
    frozen: bool = False  # a frozen table of contents: /telemetry and /collections/* hang
    ready: bool = True
    api_key: str | None = None
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    api_keys_seen: list[str | None] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, query


def ok(result: Any, status: int = 200) -> web.Response:
    """Qdrant's success envelope."""
    return web.json_response({"result": result, "status": "ok", "time": 0.0012}, status=status)


def err(status: int, text: str) -> web.Response:
    """Qdrant's error envelope."""
    return web.json_response({"status": {"error": text}, "time": 0.0}, status=status)


def cluster_result(state: NodeState) -> dict[str, Any]:
    """``GET /cluster`` result of a node."""
    if not state.cluster_enabled:
        return {"status": "disabled"}
    thread: dict[str, Any] = {"consensus_thread_status": state.thread_status}
    if state.thread_status == "working":
        thread["last_update"] = state.last_update
    elif state.thread_status == "stopped_with_err":
        thread["err"] = "Failed to apply collection meta operation entry"
    return {
        "status": "enabled",
        "peer_id": state.peer_id,
        "peers": {str(p): {"uri": uri} for p, uri in state.peers.items()},
        "raft_info": {
            "term": state.term,
            "commit": state.commit,
            "pending_operations": state.pending,
            "leader": state.leader,
            "role": "Leader" if state.leader == state.peer_id else "Follower",
            "is_voter": state.is_voter,
        },
        "consensus_thread_status": thread,
        "message_send_failures": {
            uri: {
                "count": n,
                "latest_error": "status: Unavailable",
                "latest_error_timestamp": LAST_UPDATE,
            }
            for uri, n in state.send_failures.items()
        },
    }


def collection_cluster_result(state: NodeState, name: str) -> dict[str, Any]:
    """``GET /collections/{n}/cluster``: every shard replicated on every peer, all Active."""
    shards = int(state.collections[name].get("shard_number", 1))
    others = sorted(p for p in state.peers if p != state.peer_id)
    return {
        "peer_id": state.peer_id,
        "shard_count": shards,
        "local_shards": [
            {"shard_id": s, "points_count": 0, "state": "Active"} for s in range(shards)
        ],
        "remote_shards": [
            {"shard_id": s, "peer_id": p, "state": "Active"} for s in range(shards) for p in others
        ],
        "shard_transfers": [],
    }


def collection_info_result(state: NodeState, name: str) -> dict[str, Any]:
    """``GET /collections/{n}`` result (the fields the spec requires plus counts)."""
    params = state.collections[name]
    return {
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": 0,
        "points_count": int(params.get("points", 0)),
        "segments_count": 2,
        "config": {
            "params": {
                "vectors": params.get("vectors", {"size": 4, "distance": "Cosine"}),
                "shard_number": int(params.get("shard_number", 1)),
                "replication_factor": int(params.get("replication_factor", 1)),
                "write_consistency_factor": 1,
                "on_disk_payload": True,
            },
            "hnsw_config": {
                "m": 16,
                "ef_construct": 100,
                "full_scan_threshold": 10000,
                "max_indexing_threads": 0,
                "on_disk": False,
            },
            "optimizer_config": {
                "deleted_threshold": 0.2,
                "vacuum_min_vector_number": 1000,
                "default_segment_number": 0,
                "flush_interval_sec": 5,
            },
            "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
        },
        "payload_schema": {},
    }


def metrics_text(state: NodeState) -> str:
    """``GET /metrics`` in Prometheus text format."""
    return (
        "# HELP app_info information about qdrant server\n"
        "# TYPE app_info gauge\n"
        f'app_info{{name="qdrant",version="{state.version}"}} 1\n'
        "# HELP cluster_enabled is cluster support enabled\n"
        "# TYPE cluster_enabled gauge\n"
        f"cluster_enabled {int(state.cluster_enabled)}\n"
        f"cluster_peers_total {len(state.peers)}\n"
        f"cluster_term {state.term}\n"
        f'cluster_commit{{peer_id="{state.peer_id}"}} {state.commit}\n'
        f"cluster_pending_operations_total {state.pending}\n"
        f"cluster_voter {int(state.is_voter)}\n"
        "cluster_last_update_timestamp_seconds 1767225600.5\n"
        f'cluster_working_state{{state="working"}} {int(state.thread_status == "working")}\n'
        f'cluster_working_state{{state="stopped"}} {int(state.thread_status != "working")}\n'
        f"collections_total {len(state.collections)}\n"
        "collection_dead_replicas 0\n"
    )


async def _until_closed(request: web.Request, limit_s: float) -> None:
    """Wait until the client went away (or ``limit_s``), so test teardown stays fast."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.02)


async def _fault(request: web.Request, fault: str) -> web.StreamResponse:
    if fault == "non_json":
        return web.Response(text="<html>502 bad gateway</html>", content_type="text/html")
    if fault == "wrong_shape":
        return web.json_response({"result": {"unexpected": 1}, "status": "ok", "time": 0.0})
    if fault == "500":
        return err(
            500,
            "Service internal error: Waiting for consensus operation commit failed. "
            "Timeout set at: 10 seconds",
        )
    if fault == "slow":
        await _until_closed(request, 5.0)
        return ok(True)
    if fault == "echo_key":
        return err(502, f"proxy: upstream rejected api-key {request.headers.get('api-key')}")
    if fault == "not_qdrant":
        return web.json_response({"name": "nginx", "hello": "world"})
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    if fault == "reset":
        resp.content_length = 10_000
        await resp.prepare(request)
        await resp.write(b'{"result": {"peer_id": 1,')
        assert request.transport is not None
        request.transport.abort()
        return resp
    if fault in ("huge", "huge_chunked"):
        if fault == "huge":
            resp.content_length = HUGE_BYTES
        await resp.prepare(request)
        chunk = b" " * (1024 * 1024)
        with contextlib.suppress(ConnectionError):
            for _ in range(HUGE_BYTES // len(chunk)):
                await resp.write(chunk)
        return resp
    if fault == "trickle":
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            await resp.write(b'{"result": true, "status": "ok", ')
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5.0
            while loop.time() < deadline and not (
                request.transport is None or request.transport.is_closing()
            ):
                await resp.write(b" ")
                await asyncio.sleep(0.05)
        return resp
    raise AssertionError(f"unknown fault {fault!r}")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(state: NodeState) -> web.Application:
    """The fake node's aiohttp application."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        state.api_keys_seen.append(request.headers.get("api-key"))
        state.requests.append((request.method, request.path, request.query_string))
        if state.api_key is not None and request.headers.get("api-key") != state.api_key:
            return err(401, "Must provide an API key or an Authorization bearer token")
        fault = state.faults.get(request.path)
        if fault is not None:
            return await _fault(request, fault)
        return await handler(request)

    async def root(_r: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "title": "qdrant - vector search engine",
                "version": state.version,
                "commit": "db8fa43",
            }
        )

    async def cluster(_r: web.Request) -> web.StreamResponse:
        return ok(cluster_result(state))

    async def telemetry(r: web.Request) -> web.StreamResponse:
        level = int(r.query.get("details_level", "0"))
        result: dict[str, Any] = {
            "id": "6c4a5f2e-0000-4000-8000-000000000001",
            "collections": {"number_of_collections": len(state.collections)},
        }
        if level >= 1:
            result["app"] = {
                "name": "qdrant",
                "version": state.version,
                "features": {
                    "debug": True,
                    "service_debug_feature": False,
                    "recovery_mode": False,
                    "gpu": False,
                    "rocksdb": False,
                },
                "startup": "2026-01-01T00:00:00Z",
            }
            if state.staging_in_telemetry:
                result["app"]["features"]["staging"] = state.staging
        if state.frozen:
            await asyncio.sleep(3600)
        return ok(result)

    async def cluster_telemetry(_r: web.Request) -> web.StreamResponse:
        return ok(
            {
                "collections": {},
                "cluster": {"enabled": True, "number_of_peers": len(state.peers), "peers": {}},
            }
        )

    async def metrics(_r: web.Request) -> web.StreamResponse:
        return web.Response(text=metrics_text(state), content_type="text/plain")

    async def readyz(_r: web.Request) -> web.StreamResponse:
        if not state.ready:
            return web.Response(
                status=503, text="some shards are not ready", content_type="text/plain"
            )
        return web.Response(text="all shards are ready", content_type="text/plain")

    async def logger(r: web.Request) -> web.StreamResponse:
        body = await r.json()
        if not isinstance(body, dict):
            return err(400, "Format error in JSON body: expected a map")
        return ok(True)

    async def list_collections(_r: web.Request) -> web.StreamResponse:
        return ok({"collections": [{"name": n} for n in sorted(state.collections)]})

    def missing(name: str) -> web.Response:
        return err(404, f"Not found: Collection `{name}` doesn't exist!")

    async def get_collection(r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        if name not in state.collections:
            return missing(name)
        return ok(collection_info_result(state, name))

    async def exists(r: web.Request) -> web.StreamResponse:
        return ok({"exists": r.match_info["name"] in state.collections})

    async def create(r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        if name in state.collections:
            return err(409, f"Wrong input: Collection `{name}` already exists!")
        body = await r.json()
        state.collections[name] = dict(body)
        return ok(True)

    async def delete(r: web.Request) -> web.StreamResponse:
        return ok(state.collections.pop(r.match_info["name"], None) is not None)

    async def get_cluster(r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        if name not in state.collections:
            return missing(name)
        return ok(collection_cluster_result(state, name))

    async def post_cluster(r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        body = await r.json()  # the body is parsed before the collection is looked up
        if "test_slow_down" in body and not state.staging:
            return err(
                400,
                "Format error in JSON body: data did not match any variant of untagged "
                "enum ClusterOperations at line 1 column 40",
            )
        if state.frozen:
            await asyncio.sleep(3600)
        if name not in state.collections:
            return missing(name)
        if "test_slow_down" in body:
            peer = body["test_slow_down"].get("peer_id")
            if peer is not None and peer not in state.peers:
                return err(400, f"Bad request: Peer {peer} does not exist")
        return ok(True)

    async def upsert(r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        if name not in state.collections:
            return missing(name)
        body = await r.json()
        added = len(body["points"]) if "points" in body else len(body["batch"]["ids"])
        params = state.collections[name]
        params["points"] = int(params.get("points", 0)) + added
        status = "completed" if r.query.get("wait") == "true" else "acknowledged"
        return ok({"operation_id": 7, "status": status})

    async def count(r: web.Request) -> web.StreamResponse:
        name = r.match_info["name"]
        if name not in state.collections:
            return missing(name)
        return ok({"count": int(state.collections[name].get("points", 0))})

    app = web.Application(middlewares=[middleware])
    app.router.add_get("/", root)
    app.router.add_get("/cluster", cluster)
    app.router.add_get("/cluster/telemetry", cluster_telemetry)
    app.router.add_get("/telemetry", telemetry)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/logger", logger)
    app.router.add_get("/collections", list_collections)
    app.router.add_get("/collections/{name}", get_collection)
    app.router.add_put("/collections/{name}", create)
    app.router.add_delete("/collections/{name}", delete)
    app.router.add_get("/collections/{name}/exists", exists)
    app.router.add_get("/collections/{name}/cluster", get_cluster)
    app.router.add_post("/collections/{name}/cluster", post_cluster)
    app.router.add_put("/collections/{name}/points", upsert)
    app.router.add_post("/collections/{name}/points/count", count)
    return app


PEER_IDS: Final = (7401336518127712, 2284560032341188, 5519043368020007)


def three_nodes() -> list[NodeState]:
    """A consistent 3-node cluster; node 1 is the leader."""
    peers = {p: f"http://127.0.0.1:{20000 + 100 * i}/" for i, p in enumerate(PEER_IDS)}
    return [
        NodeState(peer_id=p, p2p_uri=peers[p], peers=dict(peers), leader=PEER_IDS[0])
        for p in PEER_IDS
    ]


@contextlib.contextmanager
def serve_in_thread(states: list[NodeState]) -> Iterator[list[str]]:
    """Serve each state on 127.0.0.1 (port 0) from a loop in a background thread.

    The loop keeps running a moment after the servers are cleaned up, so connections a client
    cut mid-request are closed before the loop is, not left to the garbage collector.
    """
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []
    urls: list[str] = []

    async def start() -> None:
        for state in states:
            runner = web.AppRunner(make_app(state), shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            host, port = runner.addresses[-1][:2]
            urls.append(f"http://{host}:{port}")

    async def stop() -> None:
        for runner in runners:
            await runner.cleanup()
        await asyncio.sleep(0.1)

    thread = threading.Thread(target=loop.run_forever, name="fake-qdrant", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
        yield urls
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def dead_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
