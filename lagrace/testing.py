"""Test helpers shipped with lagrace (like ``structlog.testing``): a scriptable fake node.

:class:`FakeNode` implements :class:`~lagrace.api.protocol.NodeApi` in memory. Tests script
its answers per operation (the history's op names: ``cluster``, ``create_collection``,
``upsert``, ...), either as a FIFO queue of :class:`Answer` s or as a standing answer or
callable used when the queue is empty. Like the real client it records an ``invoke`` and a
``complete`` for every call through a :class:`~lagrace.history.Recorder`, never raises for a
scripted failure, and records a cancelled call as ``info`` before re-raising. A call with
nothing scripted raises :class:`UnscriptedCall` (a test bug, not a node failure)::

    node = FakeNode(1, recorder, peer_id=11)
    node.script("cluster", ok(cluster_status(11, leader=11)), refused())
    node.always("readyz", ok(True))
    node.always("upsert", lambda call: ok(UpdateResult(1, "acknowledged"), delay_s=0.01))
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lagrace.api.models import (
    ClusterMetrics,
    ClusterStatus,
    CollectionCluster,
    CollectionInfo,
    Reply,
    UpdateResult,
)
from lagrace.api.parse import staging_feature
from lagrace.api.protocol import NodeIdentity
from lagrace.errors import ClusterModeError, LagraceError, ProtocolError
from lagrace.events import Outcome
from lagrace.history import Recorder


@dataclass(frozen=True, slots=True)
class Answer:
    """What a scripted call answers (see :func:`ok`, :func:`fail`, :func:`info`)."""

    outcome: Outcome
    value: Any = None
    status: int | None = None
    error: str | None = None
    response: str | None = None
    problem: LagraceError | None = None
    delay_s: float = 0.0  # how long the call takes (real seconds on the loop)


@dataclass(frozen=True, slots=True)
class FakeCall:
    """One call the fake received: its op name, worker and arguments."""

    op: str
    worker: str
    args: dict[str, Any]


Script = Answer | Callable[[FakeCall], Answer]


class UnscriptedCall(AssertionError):
    """A FakeNode was called for an operation nobody scripted."""


def ok(
    value: Any = True, *, status: int = 200, response: str | None = None, delay_s: float = 0.0
) -> Answer:
    """A successful answer carrying ``value``."""
    return Answer(Outcome.OK, value, status, None, response or repr(value)[:160], None, delay_s)


def fail(error: str, *, status: int | None = 400, delay_s: float = 0.0) -> Answer:
    """A rejection (4xx with Qdrant's error text, or ``status=None``: nothing was sent)."""
    return Answer(Outcome.FAIL, None, status, error, None, None, delay_s)


def info(error: str, *, status: int | None = None, delay_s: float = 0.0) -> Answer:
    """An unknown outcome: a timeout, a disconnect after sending, a 5xx."""
    return Answer(Outcome.INFO, None, status, error, None, None, delay_s)


def refused() -> Answer:
    """Connection refused: failed, nothing sent."""
    return fail("ClientConnectorError: Cannot connect to host (connection refused)", status=None)


def timed_out(after_s: float = 5.0) -> Answer:
    """The client's deadline passed after sending."""
    return info(f"timed out after {after_s:g} s")


def cluster_disabled() -> Answer:
    """``GET /cluster`` of a node without cluster mode (what the real client returns)."""
    problem = ClusterModeError("cluster mode is disabled (GET /cluster: status 'disabled')")
    return Answer(Outcome.INFO, None, 200, str(problem), None, problem)


def staging_telemetry(enabled: bool = True) -> dict[str, Any]:
    """A ``GET /telemetry?details_level=1`` result reporting the ``staging`` feature."""
    return {"id": "fake", "app": {"name": "qdrant", "features": {"staging": enabled}}}


def cluster_status(
    peer_id: int,
    *,
    peers: dict[int, str] | None = None,
    term: int = 1,
    commit: int = 10,
    pending_operations: int = 0,
    leader: int | None = None,
    is_voter: bool = True,
    thread_status: str = "working",
    last_update_unix_ns: int | None = None,
) -> ClusterStatus:
    """A ``ClusterStatus`` with defaults; role follows ``leader``."""
    return ClusterStatus(
        peer_id=peer_id,
        peers=peers if peers is not None else {peer_id: f"http://fake-{peer_id}:6335/"},
        term=term,
        commit=commit,
        pending_operations=pending_operations,
        leader=leader,
        role=None if leader is None else ("Leader" if leader == peer_id else "Follower"),
        is_voter=is_voter,
        thread_status=thread_status,
        thread_error=None,
        last_update_unix_ns=last_update_unix_ns,
    )


@dataclass
class _Plan:
    queue: deque[Answer] = field(default_factory=deque)
    standing: Script | None = None


class FakeNode(NodeIdentity):
    """An in-memory :class:`~lagrace.api.protocol.NodeApi` with scripted answers."""

    def __init__(
        self, node: int, recorder: Recorder, *, url: str | None = None, peer_id: int | None = None
    ) -> None:
        super().__init__(node, url or f"http://fake-node-{node}:6333", peer_id)
        self._recorder = recorder
        self._plans: dict[str, _Plan] = {}
        self.calls: list[FakeCall] = []

    def __repr__(self) -> str:
        return f"FakeNode(node={self._node}, peer_id={self._peer_id})"

    # -- scripting ------------------------------------------------------------------------

    def script(self, op: str, *answers: Answer) -> None:
        """Queue answers for ``op``, used once each in order."""
        self._plans.setdefault(op, _Plan()).queue.extend(answers)

    def always(self, op: str, answer: Script) -> None:
        """Answer ``op`` with this (or by calling it) whenever its queue is empty."""
        self._plans.setdefault(op, _Plan()).standing = answer

    def calls_of(self, op: str) -> list[FakeCall]:
        """The calls received for one op, in order."""
        return [c for c in self.calls if c.op == op]

    def pending(self, op: str) -> int:
        """Queued answers not used yet."""
        plan = self._plans.get(op)
        return 0 if plan is None else len(plan.queue)

    # -- the one wrapper ------------------------------------------------------------------

    def _answer_for(self, call: FakeCall) -> Answer:
        plan = self._plans.get(call.op)
        if plan is not None and plan.queue:
            return plan.queue.popleft()
        if plan is not None and plan.standing is not None:
            standing = plan.standing
            return standing if isinstance(standing, Answer) else standing(call)
        raise UnscriptedCall(f"{self!r}: nothing scripted for {call.op!r} ({call.args})")

    async def _call(
        self,
        op: str,
        worker: str,
        args: dict[str, Any],
        *,
        intended_ns: int | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> Reply[Any]:
        call = FakeCall(op, worker, args)
        self.calls.append(call)
        answer = self._answer_for(call)  # UnscriptedCall before anything is recorded
        request = " ".join(f"{k}={v!r}"[:60] for k, v in args.items())
        invoke = self._recorder.invoke(
            worker=worker,
            op=op,
            node=self._node,
            peer_id=self._peer_id,
            request=f"{op} {request}".strip(),
            intended_ns=intended_ns,
        )
        try:
            if answer.delay_s > 0:
                await asyncio.sleep(answer.delay_s)
        except asyncio.CancelledError:
            self._recorder.complete(invoke, outcome=Outcome.INFO, error="cancelled")
            raise
        value = answer.value if answer.outcome is Outcome.OK else None
        outcome, error, problem = answer.outcome, answer.error, answer.problem
        if convert is not None and outcome is Outcome.OK:
            try:
                value = convert(value)
            except ProtocolError as exc:
                outcome, error, problem, value = Outcome.INFO, str(exc), exc, None
        self._recorder.complete(
            invoke,
            outcome=outcome,
            status=answer.status,
            error=error,
            response=answer.response if outcome is Outcome.OK else None,
        )
        return Reply(outcome, value, answer.status, error, invoke.op_id, problem)

    # -- NodeApi --------------------------------------------------------------------------

    async def root(self, *, worker: str = "driver") -> Reply[dict[str, Any]]:
        """Scripted ``root``."""
        return await self._call("root", worker, {})

    async def cluster(self, *, worker: str = "driver") -> Reply[ClusterStatus]:
        """Scripted ``cluster``."""
        return await self._call("cluster", worker, {})

    async def telemetry(
        self, details_level: int = 1, *, worker: str = "driver"
    ) -> Reply[dict[str, Any]]:
        """Scripted ``telemetry``."""
        return await self._call("telemetry", worker, {"details_level": details_level})

    async def staging_enabled(self, *, worker: str = "driver") -> Reply[bool]:
        """Reads a scripted ``telemetry`` answer, like the real client."""
        return await self._call("telemetry", worker, {"details_level": 1}, convert=staging_feature)

    async def metrics(self, *, worker: str = "driver") -> Reply[ClusterMetrics]:
        """Scripted ``metrics``."""
        return await self._call("metrics", worker, {})

    async def readyz(self, *, worker: str = "driver") -> Reply[bool]:
        """Scripted ``readyz``."""
        return await self._call("readyz", worker, {})

    async def set_logger(self, log_level: str, *, worker: str = "driver") -> Reply[bool]:
        """Scripted ``set_logger``."""
        return await self._call("set_logger", worker, {"log_level": log_level})

    async def cluster_telemetry(
        self, details_level: int = 2, *, timeout_s: int | None = None, worker: str = "driver"
    ) -> Reply[dict[str, Any]]:
        """Scripted ``cluster_telemetry``."""
        args = {"details_level": details_level, "timeout_s": timeout_s}
        return await self._call("cluster_telemetry", worker, args)

    async def list_collections(self, *, worker: str = "driver") -> Reply[list[str]]:
        """Scripted ``list_collections``."""
        return await self._call("list_collections", worker, {})

    async def get_collection(self, name: str, *, worker: str = "driver") -> Reply[CollectionInfo]:
        """Scripted ``collection_info``."""
        return await self._call("collection_info", worker, {"name": name})

    async def collection_exists(self, name: str, *, worker: str = "driver") -> Reply[bool]:
        """Scripted ``collection_exists``."""
        return await self._call("collection_exists", worker, {"name": name})

    async def create_collection(
        self,
        name: str,
        body: dict[str, Any],
        *,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """Scripted ``create_collection``."""
        args = {"name": name, "body": body, "timeout_s": timeout_s}
        return await self._call("create_collection", worker, args, intended_ns=intended_ns)

    async def delete_collection(
        self, name: str, *, timeout_s: int | None = None, worker: str = "driver"
    ) -> Reply[bool]:
        """Scripted ``delete_collection``."""
        return await self._call("delete_collection", worker, {"name": name, "timeout_s": timeout_s})

    async def collection_cluster(
        self, name: str, *, worker: str = "driver"
    ) -> Reply[CollectionCluster]:
        """Scripted ``collection_cluster``."""
        return await self._call("collection_cluster", worker, {"name": name})

    async def cluster_operation(
        self,
        collection: str,
        operation: dict[str, Any],
        *,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """Scripted ``cluster_operation``."""
        args = {"collection": collection, "operation": operation, "timeout_s": timeout_s}
        return await self._call("cluster_operation", worker, args, intended_ns=intended_ns)

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
        """Scripted ``test_slow_down``."""
        args = {
            "collection": collection,
            "peer_id": peer_id,
            "duration_s": duration_s,
            "timeout_s": timeout_s,
        }
        return await self._call("test_slow_down", worker, args, intended_ns=intended_ns)

    async def upsert_points(
        self,
        collection: str,
        points: list[dict[str, Any]],
        *,
        wait: bool = False,
        ordering: str | None = None,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[UpdateResult]:
        """Scripted ``upsert`` (list body)."""
        args = {
            "collection": collection,
            "points": points,
            "wait": wait,
            "ordering": ordering,
            "timeout_s": timeout_s,
        }
        return await self._call("upsert", worker, args, intended_ns=intended_ns)

    async def upsert_batch(
        self,
        collection: str,
        ids: list[int | str],
        vectors: list[list[float]],
        payloads: list[dict[str, Any]] | None = None,
        *,
        wait: bool = False,
        ordering: str | None = None,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[UpdateResult]:
        """Scripted ``upsert`` (batch body)."""
        args = {
            "collection": collection,
            "ids": ids,
            "vectors": vectors,
            "payloads": payloads,
            "wait": wait,
            "ordering": ordering,
            "timeout_s": timeout_s,
        }
        return await self._call("upsert", worker, args, intended_ns=intended_ns)

    async def count_points(
        self, collection: str, *, exact: bool = True, worker: str = "driver"
    ) -> Reply[int]:
        """Scripted ``count_points``."""
        return await self._call("count_points", worker, {"collection": collection, "exact": exact})
