"""The one seam under the HTTP client: a transport sends a :class:`~lagrace.api.calls.Call`.

A :class:`Transport` has one job (httpx's model): send the call's method, path, query and JSON
body and return the HTTP status and body bytes, or raise when there is no (whole) HTTP answer.
It notes on :class:`Progress` that the request has left and the status once it arrived, so the
client can tell "not sent" (``fail``) from "sent, answer lost" (``info``) and a 4xx whose body
broke from a 2xx whose body broke. It neither records nor classifies: that is
:meth:`HttpNodeClient._call <lagrace.api.client.HttpNodeClient>`'s job alone.

* :class:`AiohttpTransport` is the real one: one ``ClientSession`` on its own
  ``TCPConnector`` (the node's connection pool); "sent" comes from aiohttp's
  ``on_request_headers_sent`` trace signal; bodies are read with a size cap.
* :class:`lagrace.testing.ScriptedTransport` answers from a script, for unit tests.

What a transport may raise (anything else is a bug and propagates)::

    OSError
     +-- TransportError      no HTTP answer, described exactly as it is to be recorded
    aiohttp.ClientError      aiohttp's connect, disconnect and payload errors
    TimeoutError             a deadline inside the transport
    ProtocolError            a body over the size cap (a LagraceError)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiohttp

from lagrace.api.calls import Call
from lagrace.errors import ProtocolError

MAX_BODY_BYTES: Final = 8 * 1024 * 1024


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


async def _on_headers_sent(
    _session: aiohttp.ClientSession,
    ctx: Any,  # aiohttp's SimpleNamespace trace context
    _params: aiohttp.TraceRequestHeadersSentParams,
) -> None:
    progress = getattr(ctx, "trace_request_ctx", None)
    if isinstance(progress, Progress):
        progress.sent = True


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    if resp.content_length is not None and resp.content_length > cap:
        raise ProtocolError(f"response body of {resp.content_length} bytes exceeds {cap} bytes")
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
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_on_headers_sent)
        self._url = url
        self._max_body = max_body_bytes
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool_size),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_s),
            headers={"api-key": api_key} if api_key else {},
            trace_configs=[trace],
            raise_for_status=False,
        )

    async def send(self, call: Call, progress: Progress) -> Response:
        """One request; the body is read whole, up to the cap."""
        async with self._session.request(
            call.method,
            f"{self._url}{call.path}",
            params=dict(call.params) or None,
            json=call.body,
            trace_request_ctx=progress,
            allow_redirects=False,
        ) as resp:
            progress.status = resp.status
            return Response(resp.status, await _read_capped(resp, self._max_body))

    async def aclose(self) -> None:
        """Close the session and its connection pool."""
        await self._session.close()
