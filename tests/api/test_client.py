"""HttpNodeClient against an in-process fake Qdrant: answers, misbehaviour, secrets, cancels."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from lagrace.api.calls import Call, PointsJson
from lagrace.api.client import HttpNodeClient, Timeouts, base_url
from lagrace.api.models import Reply
from lagrace.api.protocol import NodeApi
from lagrace.api.transport import Progress, Response
from lagrace.clock import ManualClock
from lagrace.errors import ClusterModeError, ProtocolError, UsageError
from lagrace.events import Complete, Invoke, OpArgs, Outcome, event_to_json
from lagrace.recorder import Recorder
from tests.api.conftest import FAST
from tests.api.qdrant_app import PEER_IDS, NodeState, dead_port

SECRET = "s3cr3t-api-key-do-not-log"


def completes(recorder: Recorder) -> list[Complete]:
    """The completion events recorded so far."""
    return [e for e in recorder.events if isinstance(e, Complete)]


def invokes(recorder: Recorder) -> list[Invoke]:
    """The invoke events recorded so far."""
    return [e for e in recorder.events if isinstance(e, Invoke)]


def history_json(recorder: Recorder) -> str:
    """The history as the JSONL file would hold it."""
    return "\n".join(json.dumps(event_to_json(e)) for e in recorder.events)


def test_client_satisfies_the_protocol(recorder: Recorder) -> None:
    """HttpNodeClient is a NodeApi (checked by mypy) and reports its identity."""
    api: NodeApi = HttpNodeClient(2, "http://127.0.0.1:6333/", recorder)
    assert (api.node, api.url, api.peer_id) == (2, "http://127.0.0.1:6333", None)


@pytest.mark.parametrize(
    "bad", ["", "127.0.0.1:6333", "ftp://host", "http://", "http://h:99999", "http://h/?a=1"]
)
def test_base_url_rejects_malformed_urls(bad: str) -> None:
    """A malformed node URL is a UsageError."""
    with pytest.raises(UsageError, match="malformed node URL"):
        base_url(bad)


async def test_reads_parse_and_are_recorded(
    client: HttpNodeClient, recorder: Recorder, state: NodeState
) -> None:
    """Every read returns a typed ok Reply and one invoke/complete pair in the history."""
    root = await client.root(worker="setup")
    assert root.ok
    assert root.value is not None
    assert root.value["version"] == "1.18.3"
    cluster = await client.cluster()
    assert cluster.value is not None
    assert cluster.value.peer_id == state.peer_id
    assert set(cluster.value.peers) == set(PEER_IDS)
    assert cluster.value.role == "Leader"
    assert cluster.value.thread_status == "working"
    assert cluster.value.last_update_unix_ns is not None
    telemetry = await client.telemetry(1)
    assert telemetry.value is not None
    assert "app" in telemetry.value
    staging = await client.staging_enabled()
    assert staging.ok
    assert staging.value is True
    metrics = await client.metrics()
    assert metrics.value is not None
    assert (metrics.value.commit, metrics.value.term, metrics.value.working) == (40, 2, True)
    ct = await client.cluster_telemetry()
    assert ct.ok
    ready = await client.readyz()
    assert ready.ok
    assert ready.value is True
    logger = await client.set_logger("INFO,storage::content_manager::staging=debug")
    assert logger.ok
    assert logger.value is True
    names = await client.list_collections()
    assert names.ok
    assert names.value == []

    ops = [
        (i.op, c.op, c.outcome) for i, c in zip(invokes(recorder), completes(recorder), strict=True)
    ]
    assert [op for op, _, _ in ops] == [
        "root",
        "cluster",
        "telemetry",
        "telemetry",
        "metrics",
        "cluster_telemetry",
        "readyz",
        "set_logger",
        "list_collections",
    ]
    assert all(a == b and outcome is Outcome.OK for a, b, outcome in ops)
    first = invokes(recorder)[0]
    assert (first.worker, first.node, first.request) == ("setup", 1, "GET /")
    assert ("GET", "/telemetry", "details_level=1") in state.requests


async def test_collection_lifecycle(client: HttpNodeClient, recorder: Recorder) -> None:
    """Create, inspect, write, count, slow down and delete a collection through the client."""
    body = {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 3}
    created = await client.create_collection("c1", body, timeout_s=10, intended_ns=5)
    assert created.ok
    assert created.value is True
    assert invokes(recorder)[-1].request == "PUT /collections/c1?timeout=10 shard_number=3"
    assert invokes(recorder)[-1].intended_ns == 5
    assert invokes(recorder)[-1].args == OpArgs(
        collection="c1", timeout_s=10, params={"shard_number": 3}
    )
    again = await client.create_collection("c1", body)
    assert again.outcome is Outcome.FAIL
    assert again.status == 409
    assert again.error == "Wrong input: Collection `c1` already exists!"
    assert (await client.collection_exists("c1")).value is True
    info = await client.get_collection("c1")
    assert info.value is not None
    assert info.value.shard_number == 3
    cc = await client.collection_cluster("c1")
    assert cc.value is not None
    assert len(cc.value.replicas) == 9
    assert {r.state for r in cc.value.replicas} == {"Active"}
    points: list[dict[str, Any]] = [{"id": i, "vector": [0.1, 0.2, 0.3, 0.4]} for i in range(3)]
    up = await client.upsert_points("c1", points, wait=True, ordering="strong")
    assert up.value is not None
    assert up.value.status == "completed"
    assert invokes(recorder)[-1].request == (
        "PUT /collections/c1/points?wait=true&ordering=strong points=3"
    )
    assert invokes(recorder)[-1].args == OpArgs(
        collection="c1", wait=True, ordering="strong", points=3
    )
    more = [{"id": i, "vector": [0.0] * 4} for i in (10, 11)]
    unwaited = await client.upsert_points("c1", more)
    assert unwaited.value is not None
    assert unwaited.value.status == "acknowledged"
    assert (await client.count_points("c1")).value == 5
    slow = await client.test_slow_down("c1", peer_id=PEER_IDS[1], duration_s=2.5)
    assert slow.ok
    assert invokes(recorder)[-1].op == "test_slow_down"
    assert invokes(recorder)[-1].args == OpArgs(
        collection="c1", target_peer=PEER_IDS[1], duration_s=2.5
    )
    op = await client.cluster_operation("c1", {"drop_replica": {"shard_id": 0, "peer_id": 1}})
    assert op.ok
    assert invokes(recorder)[-1].op == "cluster_operation"
    deleted = await client.delete_collection("c1", timeout_s=5)
    assert deleted.value is True
    assert invokes(recorder)[-1].args == OpArgs(collection="c1", timeout_s=5)
    missing = await client.collection_cluster("c1")
    assert missing.outcome is Outcome.FAIL
    assert missing.status == 404
    assert missing.error == "Not found: Collection `c1` doesn't exist!"
    assert completes(recorder)[-1].error == missing.error


async def test_peer_id_is_recorded_after_discovery(
    client: HttpNodeClient, recorder: Recorder
) -> None:
    """set_peer_id makes later invokes and completions carry the peer id."""
    await client.readyz()
    client.set_peer_id(PEER_IDS[0])
    await client.readyz()
    peers = [e.peer_id for e in recorder.events if isinstance(e, Invoke | Complete)]
    assert peers == [None, None, PEER_IDS[0], PEER_IDS[0]]


async def test_readyz_503_is_an_answer(client: HttpNodeClient, state: NodeState) -> None:
    """/readyz 503 means not ready: ok with value False, not a failure."""
    state.ready = False
    reply = await client.readyz()
    assert (reply.outcome, reply.value, reply.status) == (Outcome.OK, False, 503)


async def test_staging_off_and_cluster_disabled(client: HttpNodeClient, state: NodeState) -> None:
    """Staging off reads False; a disabled cluster is info with a ClusterModeError problem."""
    state.staging = False
    assert (await client.staging_enabled()).value is False
    state.cluster_enabled = False
    reply = await client.cluster()
    assert reply.outcome is Outcome.INFO
    assert reply.status == 200
    assert isinstance(reply.problem, ClusterModeError)
    assert reply.error is not None
    assert "disabled" in reply.error


@pytest.mark.parametrize(
    ("path", "fault", "status", "needle"),
    [
        ("/cluster", "non_json", 200, "not JSON"),
        ("/cluster", "wrong_shape", 200, "missing field"),
        ("/collections/c1", "500", 500, "Service internal error"),
        ("/cluster", "slow", None, "timed out after 0.6 s"),
        ("/cluster", "reset", 200, "ClientPayloadError"),
        ("/cluster", "huge", 200, "exceeds 8388608 bytes"),
        ("/cluster", "huge_chunked", 200, "exceeds 8388608 bytes"),
        ("/cluster", "trickle", 200, "timed out after 0.6 s"),
    ],
)
async def test_misbehaving_server_gives_info(  # noqa: PLR0917  # pytest passes parameters positionally
    client: HttpNodeClient,
    recorder: Recorder,
    state: NodeState,
    path: str,
    fault: str,
    status: int | None,
    needle: str,
) -> None:
    """Each misbehaviour after sending is recorded as info and never raises."""
    state.faults[path] = fault
    reply: Reply[Any]
    if path == "/cluster":
        reply = await client.cluster()
    else:
        reply = await client.create_collection("c1", {})
    assert reply.outcome is Outcome.INFO
    assert reply.status == status
    assert reply.value is None
    assert reply.error is not None
    assert needle in reply.error
    (done,) = completes(recorder)
    assert (done.outcome, done.status, done.error) == (Outcome.INFO, status, reply.error)
    if fault in ("non_json", "wrong_shape", "huge", "huge_chunked"):
        assert isinstance(reply.problem, ProtocolError)


async def test_refused_port_is_fail(recorder: Recorder) -> None:
    """Nothing listening: the request was never sent, so the outcome is fail."""
    async with HttpNodeClient(3, f"http://127.0.0.1:{dead_port()}", recorder, timeouts=FAST) as c:
        reply = await c.create_collection("c1", {})
    assert reply.outcome is Outcome.FAIL
    assert reply.status is None
    assert reply.error is not None
    assert "ClientConnectorError" in reply.error
    (done,) = completes(recorder)
    assert done.outcome is Outcome.FAIL
    assert done.node == 3


async def test_cancelled_call_records_info_and_propagates(
    client: HttpNodeClient, recorder: Recorder, state: NodeState
) -> None:
    """Cancelling a call in flight records its completion as info and re-raises."""
    state.faults["/cluster"] = "slow"
    task = asyncio.create_task(client.cluster())
    async with asyncio.timeout(5):
        while not state.requests:  # noqa: ASYNC110  # the fake server has no event to await
            await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (done,) = completes(recorder)
    assert (done.outcome, done.error) == (Outcome.INFO, "cancelled")


async def test_an_outer_deadline_cancels_cleanly(client: HttpNodeClient, state: NodeState) -> None:
    """A caller's own asyncio.timeout still fires through the client (no swallowed cancel)."""
    state.faults["/cluster"] = "slow"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await client.cluster()


async def test_api_key_is_sent_but_never_recorded(url: str, state: NodeState) -> None:
    """The api-key header reaches the server, never the history, error texts or reprs."""
    recorder = Recorder(ManualClock())
    state.api_key = SECRET
    async with HttpNodeClient(1, url, recorder, api_key=SECRET, timeouts=FAST) as good:
        assert (await good.root()).ok
        # A hostile proxy echoing the key in its error body is redacted as well.
        state.faults["/cluster"] = "echo_key"
        echoed = await good.cluster()
        assert echoed.outcome is Outcome.INFO
        assert echoed.error is not None
        assert "<api-key>" in echoed.error
        assert SECRET not in repr(good)
        assert "api_key=<set>" in repr(good)
    async with HttpNodeClient(1, url, recorder, api_key="wrong-" + SECRET, timeouts=FAST) as bad:
        denied = await bad.root()
    async with HttpNodeClient(
        1, f"http://127.0.0.1:{dead_port()}", recorder, api_key=SECRET, timeouts=FAST
    ) as gone:
        refused = await gone.root()
    assert state.api_keys_seen[0] == SECRET
    assert denied.outcome is Outcome.FAIL
    assert denied.status == 401
    assert refused.outcome is Outcome.FAIL
    texts = [history_json(recorder)] + [str(r.error) for r in (echoed, denied, refused)]
    assert all(SECRET not in text for text in texts)


async def test_client_must_be_opened(recorder: Recorder) -> None:
    """Calling an unopened client is a programming error, not a recorded call."""
    node = HttpNodeClient(1, "http://127.0.0.1:1", recorder)
    with pytest.raises(RuntimeError, match="not open"):
        await node.root()
    assert recorder.events == []


def test_meta_deadline_follows_server_timeout() -> None:
    """A meta-operation's client deadline is about twice its server-side timeout."""
    timeouts = Timeouts(default_s=5, meta_s=60, margin_s=5)
    assert timeouts.meta(None) == 60
    assert timeouts.meta(10) == 25
    assert timeouts.meta(0) == 5


async def test_collection_names_are_one_path_segment(recorder: Recorder) -> None:
    """A name with '/' or '?' stays inside its path segment: it cannot reach another route."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    seen: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.json_response({"result": {"exists": False}, "status": "ok", "time": 0.0})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        async with HttpNodeClient(1, url, recorder, timeouts=FAST) as client:
            reply = await client.collection_exists("a/../b?x=1")
    assert reply.ok
    assert seen == ["/collections/a%2F..%2Fb%3Fx=1/exists"]  # "=" is legal inside a segment


class _BrokenBody:
    """A transport whose answer's headers arrive (with ``status``) but whose body breaks."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.closed = False

    async def send(self, call: Call, progress: Progress) -> Response:
        """Sent, status received, then the connection drops."""
        progress.sent = True
        progress.status = self.status
        raise aiohttp.ClientPayloadError(f"{call.op}: connection reset while reading")

    async def aclose(self) -> None:
        """Noted, so a test can tell whether the client closed it."""
        self.closed = True


@pytest.mark.parametrize(("status", "outcome"), [(409, Outcome.FAIL), (200, Outcome.INFO)])
async def test_a_broken_body_keeps_the_status_the_transport_saw(
    recorder: Recorder, status: int, outcome: Outcome
) -> None:
    """A rejection whose body broke is still fail; an ok whose body broke is unknown."""
    transport = _BrokenBody(status)
    client = HttpNodeClient(1, "http://node-1:6333", recorder, transport=transport)
    reply = await client.create_collection("c1", {})
    assert (reply.outcome, reply.status) == (outcome, status)
    assert reply.error == "ClientPayloadError: create_collection: connection reset while reading"
    (done,) = completes(recorder)
    assert (done.outcome, done.status, done.error) == (outcome, status, reply.error)


async def test_an_injected_transport_needs_no_opening_and_stays_open(recorder: Recorder) -> None:
    """Calls go through an injected transport at once; closing the client leaves it open."""
    transport = _BrokenBody(500)
    async with HttpNodeClient(1, "http://node-1:6333", recorder, transport=transport) as client:
        assert (await client.root()).outcome is Outcome.INFO
    await client.close()
    assert not transport.closed
    unopened = HttpNodeClient(2, "http://node-2:6333", recorder)
    with pytest.raises(RuntimeError, match="not open"):
        await unopened.root()


async def test_preserialised_points_are_sent_and_recorded_like_dicts(
    client: HttpNodeClient, recorder: Recorder
) -> None:
    """A PointsJson body reaches the server as JSON and records the same invoke as dicts."""
    body = {"vectors": {"size": 2, "distance": "Cosine"}}
    assert (await client.create_collection("pj", body)).ok
    points: list[dict[str, Any]] = [{"id": i, "vector": [0.5, 0.5]} for i in range(2)]
    as_dicts = await client.upsert_points("pj", points, wait=True, ordering="strong")
    text = json.dumps({"points": [{"id": i + 2, "vector": [0.5, 0.5]} for i in range(2)]})
    as_json = await client.upsert_points(
        "pj", PointsJson(text.encode(), 2), wait=True, ordering="strong"
    )
    assert as_dicts.ok
    assert as_json.ok
    first, second = invokes(recorder)[-2:]
    assert (first.request, first.args) == (second.request, second.args)
    assert (await client.count_points("pj")).value == 4
