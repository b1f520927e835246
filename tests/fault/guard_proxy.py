"""An HTTP proxy in front of a node that records every request and can demand an API key.

Used by the safety tests: what the proxy recorded is what reached the cluster, independent of
what the driver says it sent. With ``api_key`` set it answers 401 (Qdrant's text) to requests
without the right ``api-key`` header, and never forwards the header upstream.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection", "api-key"})


@dataclass
class GuardProxy:
    """Forwards to ``upstream``; ``requests`` holds (method, path) of every request seen."""

    upstream: str
    api_key: str | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)
    keys_seen: set[str | None] = field(default_factory=set)
    url: str = ""

    def app(self, session: aiohttp.ClientSession) -> web.Application:
        async def forward(request: web.Request) -> web.StreamResponse:
            self.requests.append((request.method, request.path))
            key = request.headers.get("api-key")
            self.keys_seen.add(key)
            if self.api_key is not None and key != self.api_key:
                text = "Must provide an API key or an Authorization bearer token"
                return web.json_response({"status": {"error": text}, "time": 0.0}, status=401)
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
            try:
                async with session.request(
                    request.method,
                    f"{self.upstream}{request.rel_url}",
                    data=await request.read(),
                    headers=headers,
                    allow_redirects=False,
                ) as resp:
                    body = await resp.read()
                    return web.Response(
                        status=resp.status,
                        body=body,
                        content_type=resp.content_type,
                    )
            except aiohttp.ClientError:
                return web.Response(status=502, text="upstream unavailable")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        return app


@contextlib.asynccontextmanager
async def guard_proxies(
    upstreams: list[str], api_key: str | None = None
) -> AsyncIterator[list[GuardProxy]]:
    """One :class:`GuardProxy` per upstream URL, served on 127.0.0.1 (port 0) in this loop."""
    proxies = [GuardProxy(u, api_key) for u in upstreams]
    async with aiohttp.ClientSession() as session, contextlib.AsyncExitStack() as stack:
        for proxy in proxies:
            server = TestServer(proxy.app(session), shutdown_timeout=0.2)
            await server.start_server()
            stack.push_async_callback(server.close)
            proxy.url = str(server.make_url("")).rstrip("/")
        yield proxies
