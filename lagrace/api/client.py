"""``HttpNodeClient``: :class:`~lagrace.api.protocol.NodeApi` over a transport, one per node.

Each client sends through one :class:`~lagrace.api.transport.Transport`: by default an
:class:`~lagrace.api.transport.AiohttpTransport` (its own connection pool) opened by
``async with HttpNodeClient(...) as client``; tests inject a scripted one
(:class:`lagrace.testing.FakeNode`). Every call is built by :mod:`lagrace.api.calls` and goes
through one private wrapper, :meth:`HttpNodeClient._call`, the only place that records and
classifies. It

1. records the ``invoke`` (worker, op, node, peer id, typed args, request text, intended time);
2. sends the call under a total deadline (``asyncio.timeout``), so a slow or trickling server
   cannot hang the caller (the transport caps the body's size);
3. decodes the body with the pure parsers of :mod:`lagrace.api.parse`;
4. records the ``complete`` with the outcome from :func:`lagrace.outcomes.classify`, the
   HTTP status, Qdrant's ``status.error`` (or the transport error) and a short summary;
5. returns a :class:`~lagrace.api.models.Reply`.

Transport, HTTP and body problems never escape as exceptions. Cancellation and bugs do, after
their completion is recorded (``info`` / ``fail``: every invoke is completed). The API key goes
to the transport only: it is never part of a history event, an error text or a repr.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import aiohttp
import yarl

from lagrace.api import calls, parse
from lagrace.api.calls import Call, PointsJson, record_invoke
from lagrace.api.metrics import cluster_metrics
from lagrace.api.models import (
    ClusterMetrics,
    ClusterStatus,
    CollectionCluster,
    CollectionInfo,
    Reply,
    UpdateResult,
)
from lagrace.api.protocol import NodeIdentity
from lagrace.api.transport import (
    MAX_BODY_BYTES,
    AiohttpTransport,
    Progress,
    Response,
    Transport,
    TransportError,
)
from lagrace.errors import LagraceError, ProtocolError, UsageError
from lagrace.events import Invoke, Outcome
from lagrace.outcomes import classify
from lagrace.recorder import Recorder

T = TypeVar("T")

_SUMMARY_CHARS: Final = 160
_ERROR_CHARS: Final = 300
_REDACTED: Final = "<api-key>"

# (status, body) -> (value, response summary); raises ProtocolError or ValueError.
Decoder = Callable[[int, bytes], tuple[T, str]]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Client-side deadlines, in seconds.

    ``default_s`` bounds a whole ordinary call (connect, send, read the body);
    ``meta_s`` a meta-operation sent without a server-side ``timeout`` (Qdrant may take ~20-30
    s, notes §5); with a server-side ``timeout=T`` the bound is ``2*T + margin_s`` (create
    waits up to about twice ``T``). ``connect_s`` bounds opening a connection.
    """

    default_s: float = 5.0
    meta_s: float = 60.0
    connect_s: float = 2.0
    margin_s: float = 5.0

    def meta(self, server_timeout_s: float | None) -> float:
        """The client deadline of a meta-operation with this server-side timeout."""
        if server_timeout_s is None:
            return self.meta_s
        return max(self.default_s, 2 * server_timeout_s + self.margin_s)


def base_url(url: str) -> str:
    """Check and normalise a node's HTTP URL (no trailing slash); :class:`UsageError` if bad."""
    text = url.strip()
    try:
        parsed = yarl.URL(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"malformed node URL {url!r}: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise UsageError(f"malformed node URL {url!r}: expected http:// or https://")
    if not parsed.host:
        raise UsageError(f"malformed node URL {url!r}: no host")
    try:
        _ = parsed.port
    except ValueError as exc:
        raise UsageError(f"malformed node URL {url!r}: bad port") from exc
    if parsed.query_string or parsed.fragment or parsed.user or parsed.password:
        raise UsageError(f"malformed node URL {url!r}: no query, fragment or credentials")
    return str(parsed).rstrip("/")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _summary(value: Any) -> str:
    return _clip(json.dumps(value, separators=(",", ":"), default=str), _SUMMARY_CHARS)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        head = raw[:60].decode("utf-8", "replace")
        raise ProtocolError(f"body is not JSON ({exc.__class__.__name__}): {head!r}") from exc


def _enveloped(parser: Callable[[Any], T]) -> Decoder[T]:
    def decode(_status: int, raw: bytes) -> tuple[T, str]:
        result = parse.envelope_result(_json(raw))
        return parser(result), _summary(result)

    return decode


def _bare(parser: Callable[[Any], T]) -> Decoder[T]:
    def decode(_status: int, raw: bytes) -> tuple[T, str]:
        body = _json(raw)
        return parser(body), _summary(body)

    return decode


_UPDATE_RESULT: Final[Decoder[UpdateResult]] = _enveloped(parse.parse_update_result)


def _decode_metrics(_status: int, raw: bytes) -> tuple[ClusterMetrics, str]:
    value = cluster_metrics(raw.decode("utf-8"))
    return value, f"commit={value.commit} term={value.term} working={value.working}"


def _decode_readyz(status: int, raw: bytes) -> tuple[bool, str]:
    text = raw.decode("utf-8", "replace")
    return parse.parse_readyz(status, text), _clip(text.strip(), _SUMMARY_CHARS)


def _error_from_body(status: int, raw: bytes) -> str:
    """Qdrant's ``status.error``, or the start of whatever the body is."""
    try:
        text = parse.error_text(json.loads(raw))
    except ValueError:
        text = None
    if text is not None:
        return text
    body = raw[:200].decode("utf-8", "replace").strip()
    return f"HTTP {status}" + (f": {body}" if body else "")


def _describe(exc: BaseException, deadline_s: float) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, TimeoutError) and not isinstance(exc, aiohttp.ClientError):
        return f"timed out after {deadline_s:g} s"
    if isinstance(exc, LagraceError | TransportError):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class HttpNodeClient(NodeIdentity):
    """One Qdrant node's REST API over aiohttp; every call is recorded in the history."""

    def __init__(
        self,
        node: int,
        url: str,
        recorder: Recorder,
        *,
        api_key: str | None = None,
        timeouts: Timeouts | None = None,
        peer_id: int | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        pool_size: int = 256,
        transport: Transport | None = None,
    ) -> None:
        """``transport``: send through this one (a test's) instead of opening an
        :class:`AiohttpTransport` on ``async with``; ``api_key``, ``max_body_bytes`` and
        ``pool_size`` configure only the latter."""
        super().__init__(node, base_url(url), peer_id)
        self._recorder = recorder
        self._api_key = api_key or None
        self._timeouts = timeouts or Timeouts()
        self._max_body = max_body_bytes
        self._pool_size = pool_size
        self._transport = transport
        self._owns_transport = False

    def __repr__(self) -> str:
        auth = ", api_key=<set>" if self._api_key else ""
        return (
            f"HttpNodeClient(node={self._node}, url={self._url!r}, peer_id={self._peer_id}{auth})"
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._transport is None:
            self._transport = AiohttpTransport(
                self._url,
                api_key=self._api_key,
                connect_s=self._timeouts.connect_s,
                pool_size=self._pool_size,
                max_body_bytes=self._max_body,
            )
            self._owns_transport = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the transport this client opened (an injected one stays open)."""
        if self._owns_transport and self._transport is not None:
            transport, self._transport = self._transport, None
            self._owns_transport = False
            await transport.aclose()

    # -- the one wrapper ------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, _REDACTED) if self._api_key else text

    def _finish(
        self,
        invoke: Invoke,
        *,
        outcome: Outcome,
        status: int | None,
        error: str | None,
        response: str | None,
        value: T | None,
        problem: LagraceError | None = None,
    ) -> Reply[T]:
        error = None if error is None else _clip(self._redact(error), _ERROR_CHARS)
        response = None if response is None else self._redact(response)
        self._recorder.complete(
            invoke, outcome=outcome, status=status, error=error, response=response
        )
        return Reply(
            outcome=outcome,
            value=value if outcome is Outcome.OK else None,
            status=status,
            error=error,
            op_id=invoke.op_id,
            problem=problem,
        )

    async def _call(  # noqa: PLR0917  # the one wrapper: a call and how to read it
        self,
        call: Call,
        decode: Decoder[T],
        worker: str,
        deadline_s: float,
        intended_ns: int | None = None,
        answers: frozenset[int] = frozenset(),
    ) -> Reply[T]:
        if self._transport is None:
            raise RuntimeError(f"{self!r} is not open: use `async with`")
        invoke = record_invoke(
            self._recorder,
            call,
            worker=worker,
            node=self._node,
            peer_id=self._peer_id,
            intended_ns=intended_ns,
            redact=self._redact,
        )
        progress = Progress()
        try:
            async with asyncio.timeout(deadline_s):
                response = await self._transport.send(call, progress)
        except (aiohttp.ClientError, TimeoutError, OSError, ProtocolError) as exc:
            return self._finish(
                invoke,
                outcome=classify(sent=progress.sent, status=progress.status, exc=exc),
                status=progress.status,
                error=_describe(exc, deadline_s),
                response=None,
                value=None,
                problem=exc if isinstance(exc, ProtocolError) else None,
            )
        except BaseException as exc:  # cancelled, or a bug: completed, then re-raised
            self._finish(
                invoke,
                outcome=classify(sent=progress.sent, status=progress.status, exc=exc),
                status=progress.status,
                error=_describe(exc, deadline_s),
                response=None,
                value=None,
            )
            raise
        return self._answered(invoke, response, decode, answers)

    def _answered(
        self, invoke: Invoke, response: Response, decode: Decoder[T], answers: frozenset[int]
    ) -> Reply[T]:
        """Record and return an HTTP answer: an error status, an unreadable body, or a value."""
        status, raw = response.status, response.body
        if not (200 <= status < 300 or status in answers):
            return self._finish(
                invoke,
                outcome=classify(sent=True, status=status, answers=answers),
                status=status,
                error=_error_from_body(status, raw),
                response=None,
                value=None,
            )
        try:
            value, summary = decode(status, raw)
        except (LagraceError, ValueError) as exc:
            problem = exc if isinstance(exc, LagraceError) else ProtocolError(str(exc))
            return self._finish(
                invoke,
                outcome=classify(sent=True, status=status, exc=problem, answers=answers),
                status=status,
                error=str(problem),
                response=_clip(raw[:_SUMMARY_CHARS].decode("utf-8", "replace"), _SUMMARY_CHARS),
                value=None,
                problem=problem,
            )
        return self._finish(
            invoke,
            outcome=classify(sent=True, status=status, answers=answers),
            status=status,
            error=None,
            response=summary,
            value=value,
        )

    # -- service --------------------------------------------------------------------------

    async def root(self, *, worker: str = "driver") -> Reply[dict[str, Any]]:
        """``GET /``: title, version, commit."""
        return await self._call(
            calls.root(), _bare(parse.parse_root), worker, self._timeouts.default_s
        )

    async def readyz(self, *, worker: str = "driver") -> Reply[bool]:
        """``GET /readyz``: ``True`` ready (200), ``False`` not ready (503; latched, notes §2.9)."""
        return await self._call(
            calls.readyz(),
            _decode_readyz,
            worker,
            self._timeouts.default_s,
            answers=frozenset({503}),
        )

    async def telemetry(
        self, details_level: int = 1, *, worker: str = "driver"
    ) -> Reply[dict[str, Any]]:
        """``GET /telemetry?details_level=N``: the raw result object."""
        return await self._call(
            calls.telemetry(details_level),
            _enveloped(parse.parse_object),
            worker,
            self._timeouts.default_s,
        )

    async def staging_enabled(self, *, worker: str = "driver") -> Reply[bool]:
        """Whether the node was built with the ``staging`` cargo feature (telemetry level 1)."""
        return await self._call(
            calls.telemetry(1, note="staging?"),
            _enveloped(parse.staging_feature),
            worker,
            self._timeouts.default_s,
        )

    async def metrics(self, *, worker: str = "driver") -> Reply[ClusterMetrics]:
        """``GET /metrics``: the cluster_* families."""
        return await self._call(calls.metrics(), _decode_metrics, worker, self._timeouts.default_s)

    async def set_logger(self, log_level: str, *, worker: str = "driver") -> Reply[bool]:
        """``POST /logger`` with ``{"log_level": ...}`` (runtime log filter, notes §2.12)."""
        return await self._call(
            calls.set_logger(log_level),
            _enveloped(parse.parse_bool),
            worker,
            self._timeouts.default_s,
        )

    # -- cluster --------------------------------------------------------------------------

    async def cluster(self, *, worker: str = "driver") -> Reply[ClusterStatus]:
        """``GET /cluster``; a node without cluster mode gives ``problem=ClusterModeError``."""
        return await self._call(
            calls.cluster(),
            _enveloped(parse.parse_cluster_status),
            worker,
            self._timeouts.default_s,
        )

    async def cluster_telemetry(
        self, details_level: int = 2, *, timeout_s: int | None = None, worker: str = "driver"
    ) -> Reply[dict[str, Any]]:
        """``GET /cluster/telemetry``: the cluster-wide view (fans out to all peers)."""
        deadline = self._timeouts.default_s if timeout_s is None else timeout_s + 5.0
        return await self._call(
            calls.cluster_telemetry(details_level, timeout_s),
            _enveloped(parse.parse_cluster_telemetry),
            worker,
            deadline,
        )

    # -- collections ----------------------------------------------------------------------

    async def list_collections(self, *, worker: str = "driver") -> Reply[list[str]]:
        """``GET /collections``: names."""
        return await self._call(
            calls.list_collections(),
            _enveloped(parse.parse_collection_names),
            worker,
            self._timeouts.default_s,
        )

    async def get_collection(self, name: str, *, worker: str = "driver") -> Reply[CollectionInfo]:
        """``GET /collections/{name}``."""
        return await self._call(
            calls.collection_info(name),
            _enveloped(parse.parse_collection_info),
            worker,
            self._timeouts.default_s,
        )

    async def collection_exists(self, name: str, *, worker: str = "driver") -> Reply[bool]:
        """``GET /collections/{name}/exists``."""
        return await self._call(
            calls.collection_exists(name),
            _enveloped(parse.parse_exists),
            worker,
            self._timeouts.default_s,
        )

    async def create_collection(
        self,
        name: str,
        body: dict[str, Any],
        *,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """``PUT /collections/{name}?timeout=``."""
        return await self._call(
            calls.create_collection(name, body, timeout_s=timeout_s),
            _enveloped(parse.parse_bool),
            worker,
            self._timeouts.meta(timeout_s),
            intended_ns,
        )

    async def delete_collection(
        self, name: str, *, timeout_s: int | None = None, worker: str = "driver"
    ) -> Reply[bool]:
        """``DELETE /collections/{name}?timeout=``."""
        return await self._call(
            calls.delete_collection(name, timeout_s=timeout_s),
            _enveloped(parse.parse_bool),
            worker,
            self._timeouts.meta(timeout_s),
        )

    async def collection_cluster(
        self, name: str, *, worker: str = "driver"
    ) -> Reply[CollectionCluster]:
        """``GET /collections/{name}/cluster``: this node's view of the replica states."""
        return await self._call(
            calls.collection_cluster(name),
            _enveloped(parse.parse_collection_cluster),
            worker,
            self._timeouts.default_s,
        )

    async def cluster_operation(
        self,
        collection: str,
        operation: dict[str, Any],
        *,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """``POST /collections/{c}/cluster`` with one public operation, e.g.
        ``{"drop_replica": {"shard_id": 0, "peer_id": 7}}``."""
        return await self._call(
            calls.cluster_operation(collection, operation, timeout_s=timeout_s),
            _enveloped(parse.parse_bool),
            worker,
            self._timeouts.meta(timeout_s),
            intended_ns,
        )

    async def test_slow_down(
        self,
        collection: str,
        *,
        peer_id: int | None,
        duration_s: float,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """``POST /collections/{c}/cluster`` with ``{"test_slow_down": {...}}`` (staging only).

        ``peer_id=None`` stalls every peer (notes §2.7).
        """
        return await self._call(
            calls.slow_down(
                collection, peer_id=peer_id, duration_s=duration_s, timeout_s=timeout_s
            ),
            _enveloped(parse.parse_bool),
            worker,
            self._timeouts.meta(timeout_s),
            intended_ns,
        )

    # -- points ---------------------------------------------------------------------------

    async def upsert_points(
        self,
        collection: str,
        points: list[dict[str, Any]] | PointsJson,
        *,
        wait: bool = False,
        ordering: str | None = None,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[UpdateResult]:
        """``PUT /collections/{c}/points`` with a list body ``{"points": [...]}``."""
        deadline = self._timeouts.meta(timeout_s) if wait else self._timeouts.default_s
        return await self._call(
            calls.upsert_points(
                collection, points, wait=wait, ordering=ordering, timeout_s=timeout_s
            ),
            _UPDATE_RESULT,
            worker,
            deadline,
            intended_ns,
        )

    async def count_points(
        self, collection: str, *, exact: bool = True, worker: str = "driver"
    ) -> Reply[int]:
        """``POST /collections/{c}/points/count``."""
        return await self._call(
            calls.count_points(collection, exact=exact),
            _enveloped(parse.parse_count),
            worker,
            self._timeouts.default_s,
        )
