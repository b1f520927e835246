"""The one seam under the HTTP client: a transport sends a :class:`~lagrace.api.calls.Call`.

A :class:`Transport` has one job (httpx's model): send the call's method, path, query and JSON
body and return the HTTP status and body bytes, or raise when there is no (whole) HTTP answer.
It notes on :class:`Progress` that the request has left and the status once it arrived, so the
client can tell "not sent" (``fail``) from "sent, answer lost" (``info``) and a 4xx whose body
broke from a 2xx whose body broke. It neither records nor classifies: that is
:meth:`HttpNodeClient._call <lagrace.api.client.HttpNodeClient>`'s job alone.

* :class:`AiohttpTransport` is the real one: one ``ClientSession`` on its own
  ``TCPConnector`` (the node's connection pool, connections reused); "sent" is noted by the
  session's request class once aiohttp has written the request's headers (where its
  ``on_request_headers_sent`` trace signal fires; a ``TraceConfig`` would make aiohttp await
  every trace hook of every request, 13% of the hammer's CPU in ``bench/``); bodies are read
  with a size cap.
* :class:`lagrace.testing.ScriptedTransport` answers from a script, for unit tests.

What a transport may raise (anything else is a bug and propagates)::

    OSError
     +-- TransportError      no HTTP answer, described exactly as it is to be recorded
    aiohttp.ClientError      aiohttp's connect, disconnect and payload errors
    TimeoutError             a deadline inside the transport
    ProtocolError            a body over the size cap (a LagraceError)
"""

from __future__ import annotations

import contextvars
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiohttp
import yarl

from lagrace.api.calls import Call, PointsJson
from lagrace.errors import ProtocolError

MAX_BODY_BYTES: Final = 8 * 1024 * 1024
_JSON: Final = {"Content-Type": "application/json"}
_URL_CACHE: Final = 1024  # distinct (path, query) pairs kept per transport


@dataclass(slots=True)
class Progress:
    """How far one request got: ``sent`` once its headers were written, then ``status``."""

    sent: bool = False
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer: status and body bytes."""

    status: int
    body: bytes


class TransportError(OSError):
    """No HTTP answer; the text is recorded as is (a fake's refusal, timeout or disconnect)."""


class Transport(Protocol):
    """Sends calls to one node (module doc)."""

    async def send(self, call: Call, progress: Progress) -> Response:
        """Send ``call``; note on ``progress`` that it has left and the status; raise if there
        is no whole HTTP answer."""
        ...

    async def aclose(self) -> None:
        """Release connections; no call is sent afterwards."""
        ...


# The Progress of the call the current task is sending (set around each request).
_PROGRESS: Final[contextvars.ContextVar[Progress | None]] = contextvars.ContextVar(
    "lagrace_progress", default=None
)


class _NotingRequest(aiohttp.ClientRequest):
    """aiohttp's request; once ``send`` has written the headers (aiohttp has handed them to
    the connection when it returns), the current call's :class:`Progress` says "sent"."""

    async def send(self, conn: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        response = await super().send(conn)
        progress = _PROGRESS.get()
        if progress is not None:
            progress.sent = True
        return response


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    if resp.content_length is not None:
        if resp.content_length > cap:
            raise ProtocolError(f"response body of {resp.content_length} bytes exceeds {cap} bytes")
        return await resp.read()  # a declared length within the cap: one read, no chunk loop
    data = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > cap:
            raise ProtocolError(f"response body exceeds {cap} bytes")
    return bytes(data)


class AiohttpTransport:
    """HTTP over one aiohttp session; create it inside a coroutine (aiohttp requires it).

    The API key goes into the session's headers only. The TCP connect is bounded by
    ``connect_s``; waiting for a free pooled connection is bounded by the caller's deadline (a
    load generator must not fail requests it merely queued).
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        connect_s: float = 2.0,
        pool_size: int = 256,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._url = url
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], yarl.URL] = {}
        self._max_body = max_body_bytes
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool_size),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_s),
            headers={"api-key": api_key} if api_key else {},
            request_class=_NotingRequest,
            raise_for_status=False,
        )

    def _full_url(self, path: str, params: Mapping[str, str]) -> yarl.URL:
        """The request URL with its query, built once per distinct call shape (the hammer
        sends one shape thousands of times)."""
        key = (path, tuple(params.items()))
        url = self._urls.get(key)
        if url is None:
            if len(self._urls) >= _URL_CACHE:
                self._urls.clear()
            query = f"?{urllib.parse.urlencode(key[1])}" if params else ""
            url = self._urls[key] = yarl.URL(f"{self._url}{path}{query}")
        return url

    async def send(self, call: Call, progress: Progress) -> Response:
        """One request; the body is read whole, up to the cap. A :class:`PointsJson` body goes
        as its bytes (serialised once, by the hammer); any other body through aiohttp's JSON."""
        body = call.body
        raw = body.data if isinstance(body, PointsJson) else None
        token = _PROGRESS.set(progress)
        try:
            return await self._request(call, body, raw, progress)
        finally:
            _PROGRESS.reset(token)

    async def _request(
        self, call: Call, body: Any, raw: bytes | None, progress: Progress
    ) -> Response:
        async with self._session.request(
            call.method,
            self._full_url(call.path, call.params),
            json=None if raw is not None else body,
            data=raw,
            headers=_JSON if raw is not None else None,
            allow_redirects=False,
        ) as resp:
            progress.status = resp.status
            return Response(resp.status, await _read_capped(resp, self._max_body))

    async def aclose(self) -> None:
        """Close the session and its connection pool."""
        await self._session.close()
