"""The runner's cleanup against FakeNodes: it never deletes while a peer is frozen."""

from __future__ import annotations

from pathlib import Path

import pytest

from lagrace.api.models import CollectionCluster, ReplicaView
from lagrace.clock import ManualClock
from lagrace.events import Mark
from lagrace.history import Recorder
from lagrace.plan import NodeRef, make_plan
from lagrace.runner import RunHandles, cleanup
from lagrace.scenario import Scenario
from lagrace.testing import FakeNode, ok, timed_out

NODES = tuple(NodeRef(n, f"http://127.0.0.1:{n}", 100 + n) for n in (1, 2, 3))
VIEW = CollectionCluster(101, 1, (ReplicaView(0, 101, "Active", True),))


def _handles(recorder: Recorder) -> tuple[RunHandles, dict[int, FakeNode]]:
    fakes = {n.node: FakeNode(n.node, recorder, peer_id=n.peer_id) for n in NODES}
    for fake in fakes.values():
        fake.always("collection_cluster", ok(VIEW))
        fake.always("delete_collection", ok(True))
    plan = make_plan(Scenario(), NODES, "abc123", leader=101)
    handles = RunHandles(
        scenario=Scenario(),
        plan=plan,
        nodes=NODES,
        apis=fakes,
        recorder=recorder,
        logs={},
        raw_log_path=lambda node: Path(f"/nonexistent/node-{node}.log"),
    )
    return handles, fakes


def _marks(recorder: Recorder, name: str) -> list[Mark]:
    return [e for e in recorder.events if isinstance(e, Mark) and e.name == name]


NAMES = ["existing_collection_abc123", "new_collection_abc123"]


async def test_without_abandoned_writes_it_deletes_at_once() -> None:
    """Writes drained: no probing, both collections deleted through the leader's node."""
    recorder = Recorder(ManualClock())
    h, fakes = _handles(recorder)
    assert await cleanup(h, list(NAMES), 1, 10.0) == NAMES
    assert len(fakes[1].calls_of("delete_collection")) == 2
    assert all(not f.calls_of("collection_cluster") for f in fakes.values())


async def test_abandoned_writes_wait_for_a_frozen_peer_to_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Node 2 does not answer twice, then does: deletes go out after it answers."""
    monkeypatch.setattr("lagrace.runner.THAW_POLL_S", 0.001)
    recorder = Recorder(ManualClock())
    h, fakes = _handles(recorder)
    fakes[2].script("collection_cluster", timed_out(), timed_out())
    assert await cleanup(h, list(NAMES), 1, 10.0, writes_abandoned=True) == NAMES
    assert len(fakes[2].calls_of("collection_cluster")) == 3
    assert not _marks(recorder, "cleanup_deferred")


async def test_a_peer_still_frozen_defers_the_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Node 2 never answers within the bound: nothing is deleted and the mark names what is left."""
    monkeypatch.setattr("lagrace.runner.THAW_WAIT_S", 0.01)
    monkeypatch.setattr("lagrace.runner.THAW_POLL_S", 0.001)
    recorder = Recorder(ManualClock())
    h, fakes = _handles(recorder)
    fakes[2].always("collection_cluster", timed_out())
    assert await cleanup(h, list(NAMES), 1, 10.0, writes_abandoned=True) == []
    assert all(not f.calls_of("delete_collection") for f in fakes.values())
    (mark,) = _marks(recorder, "cleanup_deferred")
    assert mark.data["left"] == NAMES
