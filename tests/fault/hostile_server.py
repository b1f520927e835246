"""A misbehaving Qdrant: the fake node of ``tests.api.qdrant_app`` with one route made hostile.

:class:`Hostile` describes one bad answer (status, content type, body, a lying
``Content-Length``, a trickle); :data:`hostile_answers` generates them with hypothesis. The
server answers healthy bodies everywhere except on the paths the answer targets, and counts
the hostile answers it actually served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import strategies as st

from tests.api.qdrant_app import (
    NodeState,
    cluster_result,
    collection_cluster_result,
    make_app,
    three_nodes,
)

CAP_BYTES = 64 * 1024  # the clients under test get this body cap, so "huge" stays cheap


@dataclass(frozen=True)
class Hostile:
    """One bad answer, served to every request whose path starts with ``where``."""

    where: str
    status: int
    content_type: str | None
    body: bytes
    declared_length: int | None = None  # a Content-Length that may lie; more = truncated
    trickle: bool = False  # a few bytes at a time until the client gives up


def _real_bodies() -> list[bytes]:
    state = three_nodes()[0]
    state.collections["c"] = {"shard_number": 2}
    envelope = {"status": "ok", "time": 0.001}
    results = [
        cluster_result(state),
        collection_cluster_result(state, "c"),
        {"app": {"features": {"staging": True}}, "id": "x"},
        True,
        {"operation_id": 3, "status": "completed"},
    ]
    bodies = [json.dumps({"result": r, **envelope}).encode() for r in results]
    bodies.append(json.dumps({"title": "qdrant - vector search engine", "version": "1"}).encode())
    return bodies


REAL_BODIES = _real_bodies()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A real body with one key of its result (or of itself) replaced by random JSON."""
    obj: Any = json.loads(draw(st.sampled_from(REAL_BODIES)))
    target = obj["result"] if isinstance(obj.get("result"), dict) else obj
    if isinstance(target, dict) and target:
        key = draw(st.sampled_from(sorted(target)))
        target[key] = draw(json_values)
    return json.dumps(obj).encode()


bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"result": v, "status": "ok", "time": 0.0}).encode()),
    st.sampled_from(REAL_BODIES).flatmap(lambda b: st.integers(0, len(b) - 1).map(lambda n: b[:n])),
    _mutated(),
    st.just(b" " * (CAP_BYTES + 1024)),  # huge (beyond the client's cap)
)

hostile_answers = st.builds(
    Hostile,
    where=st.sampled_from(["/", "/cluster", "/telemetry", "/collections", ""]),
    status=st.sampled_from([200, 200, 200, 201, 202, 204, 301, 400, 401, 404, 408, 409, 500, 503]),
    content_type=st.sampled_from(
        [None, "application/json", "text/html", "text/plain", "application/octet-stream"]
    ),
    body=bodies,
    declared_length=st.none() | st.integers(0, 4096),
    trickle=st.sampled_from([False, False, False, True]),
)


class HostileNode:
    """Serve ``state`` healthily, except for ``hostile`` (settable per example)."""

    def __init__(self, state: NodeState) -> None:
        self.state = state
        self.hostile: Hostile | None = None
        self.served = 0

    def app(self) -> web.Application:
        app = make_app(self.state)

        @web.middleware
        async def misbehave(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            bad = self.hostile
            if bad is None or not request.path.startswith(bad.where or "/"):
                return await handler(request)
            self.served += 1
            return await _answer(request, bad)

        app.middlewares.insert(0, misbehave)
        return app


async def _answer(request: web.Request, bad: Hostile) -> web.StreamResponse:
    resp = web.StreamResponse(status=bad.status)
    if bad.content_type is not None:
        resp.headers["Content-Type"] = bad.content_type
    if bad.declared_length is not None:
        resp.content_length = bad.declared_length
    body = bad.body
    if bad.declared_length is not None and bad.declared_length < len(body):
        body = body[: bad.declared_length]
    with contextlib.suppress(ConnectionError):
        await resp.prepare(request)
        if bad.trickle:
            for i in range(min(len(body), 40)):
                await resp.write(body[i : i + 1])
                await asyncio.sleep(0.02)
        else:
            await resp.write(body)
        if bad.declared_length is not None and bad.declared_length > len(body):
            assert request.transport is not None
            request.transport.abort()  # promised more than it sends: a truncated body
    return resp


@contextlib.asynccontextmanager
async def hostile_cluster() -> AsyncIterator[tuple[list[HostileNode], list[str]]]:
    """Three fake nodes (one consistent cluster) on 127.0.0.1, port 0, in this loop."""
    nodes = [HostileNode(s) for s in three_nodes()]
    for node in nodes:
        node.state.collections["c"] = {"shard_number": 2}
    servers = [TestServer(n.app(), shutdown_timeout=0.2) for n in nodes]
    async with contextlib.AsyncExitStack() as stack:
        for server in servers:
            await server.start_server()
            stack.push_async_callback(server.close)
        yield nodes, [str(s.make_url("")).rstrip("/") for s in servers]
