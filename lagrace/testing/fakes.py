"""Test helpers shipped with lagrace (like ``structlog.testing``): a scripted Qdrant node.

:class:`ScriptedTransport` is a :class:`~lagrace.api.transport.Transport` that answers each
call from a script, per operation (the history's op names: ``cluster``,
``create_collection``, ``upsert``, ...): a FIFO queue of :class:`Answer` s, then a standing
answer or callable. :class:`FakeNode` is the real :class:`~lagrace.api.client.HttpNodeClient`
over one, so a test sees exactly what the client records, classifies and parses. An answer's
value is encoded into Qdrant's JSON and read back by the client's parsers. A call with nothing
scripted raises :class:`UnscriptedCall` (a test bug, not a node failure)::

    node = FakeNode(1, recorder, peer_id=11)
    node.script("cluster", ok(cluster_status(11, leader=11)), refused())
    node.always("upsert", lambda call: ok(UpdateResult(1, "acknowledged"), delay_s=0.01))
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lagrace.api.calls import Call
from lagrace.api.client import HttpNodeClient, Timeouts
from lagrace.api.models import ClusterStatus, CollectionCluster, UpdateResult
from lagrace.api.transport import Progress, Response, TransportError
from lagrace.clock import Clock, SystemClock, sleep
from lagrace.recorder import Recorder
from lagrace.timebase import format_rfc3339

REFUSED = "ClientConnectorError: Cannot connect to host (connection refused)"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a scripted call answers (see :func:`ok`, :func:`fail`, :func:`info`).

    ``status`` ``None`` is no HTTP answer: ``error`` is then the transport error, after the
    request left if ``sent``. ``value`` is an ``ok`` answer's result, encoded as Qdrant does.
    ``delay_s`` is how long the call takes (real seconds on the loop, after it was sent).
    """

    status: int | None
    value: Any = None
    error: str | None = None
    sent: bool = True
    delay_s: float = 0.0


Script = Answer | Callable[[Call], Answer]


class UnscriptedCall(AssertionError):
    """A scripted node was called for an operation nobody scripted."""


def ok(value: Any = True, *, status: int = 200, delay_s: float = 0.0) -> Answer:
    """A successful answer whose result is ``value`` (a model, or JSON as Qdrant sends it)."""
    return Answer(status, value, delay_s=delay_s)


def fail(error: str, *, status: int | None = 400, delay_s: float = 0.0) -> Answer:
    """A rejection (4xx with Qdrant's error text, or ``status=None``: nothing was sent)."""
    return Answer(status, error=error, sent=status is not None, delay_s=delay_s)


def info(error: str, *, status: int | None = None, delay_s: float = 0.0) -> Answer:
    """An unknown outcome: a 5xx, or (``status=None``) the answer lost after sending."""
    return Answer(status, error=error, delay_s=delay_s)


def refused() -> Answer:
    """Connection refused: failed, nothing sent (recorded as aiohttp's refusal reads)."""
    return fail(REFUSED, status=None)


def timed_out(after_s: float = 5.0) -> Answer:
    """The deadline passed after sending."""
    return info(f"timed out after {after_s:g} s")


def cluster_disabled() -> Answer:
    """``GET /cluster`` of a node without cluster mode."""
    return ok({"status": "disabled"})


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


def _cluster_json(status: ClusterStatus) -> dict[str, Any]:
    thread: dict[str, Any] = {"consensus_thread_status": status.thread_status}
    if status.last_update_unix_ns is not None:
        thread["last_update"] = format_rfc3339(status.last_update_unix_ns, digits=9)
    if status.thread_error is not None:
        thread["err"] = status.thread_error
    return {
        "status": "enabled",
        "peer_id": status.peer_id,
        "peers": {str(p): {"uri": uri} for p, uri in status.peers.items()},
        "raft_info": {
            "term": status.term,
            "commit": status.commit,
            "pending_operations": status.pending_operations,
            "leader": status.leader,
            "role": status.role,
            "is_voter": status.is_voter,
        },
        "consensus_thread_status": thread,
        "message_send_failures": {
            uri: {
                "count": f.count,
                "latest_error": f.latest_error,
                "latest_error_timestamp": None
                if f.latest_error_unix_ns is None
                else format_rfc3339(f.latest_error_unix_ns, digits=9),
            }
            for uri, f in status.message_send_failures.items()
        },
    }


def _collection_cluster_json(view: CollectionCluster) -> dict[str, Any]:
    return {
        "peer_id": view.peer_id,
        "shard_count": view.shard_count,
        "local_shards": [
            {"shard_id": r.shard_id, "state": r.state, "points_count": r.points_count}
            for r in view.replicas
            if r.local
        ],
        "remote_shards": [
            {"shard_id": r.shard_id, "peer_id": r.peer_id, "state": r.state}
            for r in view.replicas
            if not r.local
        ],
        "shard_transfers": [
            {"shard_id": t.shard_id, "from": t.from_peer, "to": t.to_peer, "sync": t.sync}
            | ({} if t.method is None else {"method": t.method})
            for t in view.transfers
        ],
    }


def to_qdrant_json(value: Any) -> Any:
    """A result value as Qdrant's JSON: models encoded, JSON passed through."""
    if isinstance(value, ClusterStatus):
        return _cluster_json(value)
    if isinstance(value, CollectionCluster):
        return _collection_cluster_json(value)
    if isinstance(value, UpdateResult):
        return dataclasses.asdict(value)
    return value


def _body(call: Call, answer: Answer) -> bytes:
    if answer.error is not None:
        return json.dumps({"status": {"error": answer.error}, "time": 0.0}).encode()
    if call.op == "readyz":
        return b"all shards are ready" if answer.value else b"some shards are not ready"
    result = to_qdrant_json(answer.value)
    if call.op == "root":  # the one bare (not enveloped) JSON answer
        return json.dumps(result).encode()
    return json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()


@dataclass
class _Plan:
    queue: deque[Answer] = field(default_factory=deque)
    standing: Script | None = None


class ScriptedTransport:
    """A :class:`~lagrace.api.transport.Transport` answering from per-op scripts."""

    def __init__(self, name: str = "scripted", clock: Clock | None = None) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()  # delays are waited on it (virtual time)
        self._plans: dict[str, _Plan] = {}
        self.calls: list[Call] = []

    def script(self, op: str, *answers: Answer) -> None:
        """Queue answers for ``op``, used once each in order."""
        self._plans.setdefault(op, _Plan()).queue.extend(answers)

    def always(self, op: str, answer: Script) -> None:
        """Answer ``op`` with this (or by calling it) whenever its queue is empty."""
        self._plans.setdefault(op, _Plan()).standing = answer

    def calls_of(self, op: str) -> list[Call]:
        """The calls received for one op, in order."""
        return [c for c in self.calls if c.op == op]

    def pending(self, op: str) -> int:
        """Queued answers not used yet."""
        plan = self._plans.get(op)
        return 0 if plan is None else len(plan.queue)

    def _answer_for(self, call: Call) -> Answer:
        plan = self._plans.get(call.op)
        if plan is not None and plan.queue:
            return plan.queue.popleft()
        if plan is not None and plan.standing is not None:
            standing = plan.standing
            return standing if isinstance(standing, Answer) else standing(call)
        raise UnscriptedCall(f"{self.name}: nothing scripted for {call.op!r} ({call.summary})")

    async def send(self, call: Call, progress: Progress) -> Response:
        """Answer ``call`` from the script (after its delay)."""
        self.calls.append(call)
        answer = self._answer_for(call)
        progress.sent = answer.sent
        if answer.delay_s > 0:
            await sleep(self.clock, answer.delay_s)
        if answer.status is None:
            raise TransportError(answer.error or "no answer")
        progress.status = answer.status
        return Response(answer.status, _body(call, answer))

    async def aclose(self) -> None:
        """Nothing to release."""


class FakeNode(HttpNodeClient):
    """The real client over a :class:`ScriptedTransport`; no ``async with`` needed."""

    def __init__(
        self,
        node: int,
        recorder: Recorder,
        *,
        url: str | None = None,
        peer_id: int | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.transport = ScriptedTransport(f"FakeNode(node={node})", recorder.clock)
        super().__init__(
            node,
            url or f"http://fake-node-{node}:6333",
            recorder,
            peer_id=peer_id,
            timeouts=timeouts,
            transport=self.transport,
        )

    def __repr__(self) -> str:
        return f"FakeNode(node={self.node}, peer_id={self.peer_id})"

    @property
    def calls(self) -> list[Call]:
        """Every call received, in order."""
        return self.transport.calls

    def script(self, op: str, *answers: Answer) -> None:
        """Queue answers for ``op``, used once each in order."""
        self.transport.script(op, *answers)

    def always(self, op: str, answer: Script) -> None:
        """Answer ``op`` with this (or by calling it) whenever its queue is empty."""
        self.transport.always(op, answer)

    def calls_of(self, op: str) -> list[Call]:
        """The calls received for one op, in order."""
        return self.transport.calls_of(op)

    def pending(self, op: str) -> int:
        """Queued answers not used yet."""
        return self.transport.pending(op)
