"""FakeNode: the real client over a scripted transport; answers, encodings, cancellation."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from lagrace.analysis.outages import is_refused
from lagrace.api import calls
from lagrace.api.calls import Call
from lagrace.api.models import (
    CollectionCluster,
    ReplicaView,
    SendFailure,
    ShardTransfer,
    UpdateResult,
)
from lagrace.api.protocol import NodeApi
from lagrace.clock import ManualClock
from lagrace.errors import ClusterModeError, ProtocolError
from lagrace.events import Complete, Invoke, Outcome
from lagrace.race.discovery import detect_builds, discover
from lagrace.recorder import Recorder
from lagrace.testing import (
    REFUSED,
    Answer,
    FakeNode,
    UnscriptedCall,
    cluster_disabled,
    cluster_status,
    fail,
    info,
    ok,
    refused,
    staging_telemetry,
    timed_out,
)


@pytest.fixture
def recorder() -> Recorder:
    """A recorder on a manual clock."""
    return Recorder(ManualClock())


async def test_queue_then_standing_answer(recorder: Recorder) -> None:
    """Queued answers are used once each in order, then the standing answer."""
    fake = FakeNode(2, recorder, peer_id=22)
    node: NodeApi = fake
    fake.script("create_collection", ok(True), fail("Wrong input: exists", status=409))
    fake.always("create_collection", info("Service internal error", status=500))
    replies = [await node.create_collection("c", {}, worker="burst-0") for _ in range(3)]
    assert [(r.outcome, r.status) for r in replies] == [
        (Outcome.OK, 200),
        (Outcome.FAIL, 409),
        (Outcome.INFO, 500),
    ]
    assert replies[0].value is True
    assert replies[1].value is None
    assert replies[1].error == "Wrong input: exists"
    assert fake.pending("create_collection") == 0
    events = recorder.events
    assert [type(e).__name__ for e in events] == ["Invoke", "Complete"] * 3
    first = events[0]
    assert isinstance(first, Invoke)
    assert (first.op, first.worker, first.node, first.peer_id) == (
        "create_collection",
        "burst-0",
        2,
        22,
    )
    done = [e for e in events if isinstance(e, Complete)]
    assert [c.op_id for c in done] == [r.op_id for r in replies]


async def test_callable_answers_see_the_call(recorder: Recorder) -> None:
    """A standing callable gets the call as the client built it: HTTP parts and typed args."""
    fake = FakeNode(1, recorder)

    def answer(call: Call) -> Answer:
        return ok(UpdateResult(call.args.points, "acknowledged"))

    fake.always("upsert", answer)
    reply = await fake.upsert_points("c", [{"id": 1}, {"id": 2}], wait=True, worker="hammer-0")
    assert reply.value == UpdateResult(2, "acknowledged")
    (call,) = fake.calls_of("upsert")
    assert (call.method, call.path, call.params) == (
        "PUT",
        "/collections/c/points",
        {"wait": "true"},
    )
    assert call.body == {"points": [{"id": 1}, {"id": 2}]}
    invoke = recorder.events[0]
    assert isinstance(invoke, Invoke)
    assert (invoke.worker, invoke.args, invoke.request) == (
        "hammer-0",
        call.args,
        "PUT /collections/c/points?wait=true points=2",
    )


async def test_fake_records_what_the_client_records(recorder: Recorder) -> None:
    """The fake's history is the client's: same op, args and request text as calls.py builds."""
    fake = FakeNode(1, recorder, peer_id=11)
    fake.always("test_slow_down", ok(True))
    fake.always("delete_collection", ok(True))
    await fake.test_slow_down("c", peer_id=22, duration_s=5, timeout_s=10, worker="lag-0")
    await fake.delete_collection("new_1", timeout_s=10, worker="cleanup")
    expected = [
        calls.slow_down("c", peer_id=22, duration_s=5, timeout_s=10),
        calls.delete_collection("new_1", timeout_s=10),
    ]
    invokes = [e for e in recorder.events if isinstance(e, Invoke)]
    assert [(i.op, i.args, i.request) for i in invokes] == [
        (c.op, c.args, c.summary) for c in expected
    ]
    assert fake.calls == expected


async def test_models_round_trip_through_the_clients_parsers(recorder: Recorder) -> None:
    """Scripted models are encoded as Qdrant's JSON and parsed back to equal values."""
    fake = FakeNode(1, recorder)
    status = dataclasses.replace(
        cluster_status(11, peers={11: "http://a:6335/", 22: "http://b:6335/"}, leader=22),
        thread_status="stopped_with_err",
        thread_error="boom",
        last_update_unix_ns=1_767_225_600_123_456_789,
        message_send_failures={"http://b:6335/": SendFailure(3, "unreachable", None)},
    )
    view = CollectionCluster(
        11,
        2,
        (
            ReplicaView(0, 11, "Active", True, points_count=5),
            ReplicaView(0, 22, "Dead", False),
            ReplicaView(1, 22, "Partial", False),
        ),
        (ShardTransfer(1, 11, 22, sync=True, method="stream_records"),),
    )
    fake.script("cluster", ok(status))
    fake.script("collection_cluster", ok(view))
    assert (await fake.cluster()).value == status
    assert (await fake.collection_cluster("c")).value == view


async def test_unscripted_call_is_a_test_error(recorder: Recorder) -> None:
    """Calling an op with nothing scripted raises UnscriptedCall; the call is completed first."""
    fake = FakeNode(1, recorder)
    with pytest.raises(UnscriptedCall, match="nothing scripted for 'readyz'"):
        await fake.readyz()
    invoke, done = recorder.events
    assert isinstance(invoke, Invoke)
    assert isinstance(done, Complete)
    assert (done.op_id, done.outcome, done.status) == (invoke.op_id, Outcome.FAIL, None)
    assert done.error is not None
    assert done.error.startswith("UnscriptedCall: ")


async def test_cancelled_call_records_info(recorder: Recorder) -> None:
    """A call cancelled during its delay is recorded as info and re-raises."""
    fake = FakeNode(1, recorder)
    fake.script("cluster", ok(cluster_status(1), delay_s=10))
    task = asyncio.create_task(fake.cluster())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    done = recorder.events[-1]
    assert isinstance(done, Complete)
    assert (done.outcome, done.error) == (Outcome.INFO, "cancelled")


async def test_staging_reads_telemetry_like_the_client(recorder: Recorder) -> None:
    """staging_enabled consumes telemetry answers; a wrong shape is info with a ProtocolError."""
    fake = FakeNode(1, recorder)
    fake.script("telemetry", ok(staging_telemetry(True)), ok(staging_telemetry(False)), ok({}))
    assert (await fake.staging_enabled()).value is True
    assert (await fake.staging_enabled()).value is False
    odd = await fake.staging_enabled()
    assert odd.outcome is Outcome.INFO
    assert isinstance(odd.problem, ProtocolError)
    assert [e.op for e in recorder.events if isinstance(e, Invoke)] == ["telemetry"] * 3


async def test_discovery_runs_on_fakes(recorder: Recorder) -> None:
    """discover and detect_builds work on FakeNodes (the seam runners test against)."""
    peers = {11: "http://p1:6335/", 22: "http://p2:6335/"}
    fakes = [FakeNode(i, recorder) for i in (1, 2)]
    for fake, peer in zip(fakes, (11, 22), strict=True):
        fake.always("root", ok({"title": "qdrant - vector search engine", "version": "1.18.3"}))
        fake.always("cluster", ok(cluster_status(peer, peers=peers, leader=22)))
        fake.always("telemetry", ok(staging_telemetry(True)))
    view = await discover(fakes, ManualClock())
    assert view.leader is not None
    assert view.leader.index == 2
    assert [f.peer_id for f in fakes] == [11, 22]
    assert all(b.staging for b in (await detect_builds(fakes, view)).values())
    fakes[0].script("telemetry", ok(staging_telemetry(False)))
    assert not (await detect_builds(fakes, view))[1].staging
    fakes[1].script("cluster", cluster_disabled())
    with pytest.raises(ClusterModeError):
        await discover(fakes, ManualClock())


async def test_failure_helpers(recorder: Recorder) -> None:
    """refused() is fail without a status, timed_out() info, a 5xx info, a 4xx fail."""
    fake = FakeNode(1, recorder)
    fake.script(
        "count_points",
        refused(),
        timed_out(2),
        info("Service internal error: x", status=500),
        fail("Not found: Collection `c` doesn't exist!", status=404),
    )
    replies = [await fake.count_points("c") for _ in range(4)]
    assert [(r.outcome, r.status, r.error) for r in replies] == [
        (Outcome.FAIL, None, REFUSED),
        (Outcome.INFO, None, "timed out after 2 s"),
        (Outcome.INFO, 500, "Service internal error: x"),
        (Outcome.FAIL, 404, "Not found: Collection `c` doesn't exist!"),
    ]
    assert is_refused(next(e for e in recorder.events if isinstance(e, Complete)))
