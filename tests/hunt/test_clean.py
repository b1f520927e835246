"""The cleanliness check between trials on a real cluster, against the shipped FakeNode."""

from __future__ import annotations

from lagrace.api.models import CollectionCluster, ReplicaView
from lagrace.clock import ManualClock
from lagrace.hunt.clean import delete_leftovers, judge_clean, probe_clean, wait_clean
from lagrace.recorder import Recorder
from lagrace.testing import FakeNode, cluster_status, ok


def _view(peer: int, state: str = "Active") -> CollectionCluster:
    replicas = tuple(ReplicaView(0, p, state if p == 12 else "Active", p == peer) for p in (11, 12))
    return CollectionCluster(peer_id=peer, shard_count=1, replicas=replicas)


def _nodes(
    *, commit2: int = 10, state: str = "Active", listed: tuple[str, ...] = ("mine",)
) -> tuple[Recorder, list[FakeNode]]:
    """Two fake peers (11 the leader) answering every probe the same way each time."""
    recorder = Recorder(ManualClock())
    nodes = []
    for node, peer, commit in ((1, 11, 10), (2, 12, commit2)):
        fake = FakeNode(node, recorder, peer_id=peer)
        fake.always("cluster", ok(cluster_status(peer, leader=11, commit=commit)))
        fake.always("list_collections", ok({"collections": [{"name": n} for n in listed]}))
        fake.always("collection_cluster", ok(_view(peer, state)))
        fake.always("delete_collection", ok(True))
        nodes.append(fake)
    return recorder, nodes


async def test_clean_cluster_is_clean() -> None:
    """Same commit, nothing pending, every replica Active, no leftover: clean."""
    recorder, nodes = _nodes()
    got = await probe_clean(nodes, recorder, lambda name: False)
    assert got.clean
    assert got.why is None


async def test_differing_commits_are_unclean() -> None:
    """A peer behind on commit is not clean, and the reason says so."""
    recorder, nodes = _nodes(commit2=9)
    got = await probe_clean(nodes, recorder, lambda name: False)
    assert not got.clean
    assert got.why is not None
    assert "commits differ" in got.why


async def test_a_dead_replica_of_any_collection_is_unclean() -> None:
    """A replica not Active in some view (of a collection not ours) is unclean."""
    recorder, nodes = _nodes(state="Dead")
    got = await probe_clean(nodes, recorder, lambda name: False)
    assert not got.clean
    assert got.why == "node 1 last saw mine shard 0 replica 12 Dead"


async def test_leftovers_are_unclean_and_deleted() -> None:
    """A collection an earlier trial created is a leftover; only those are deleted."""
    recorder, nodes = _nodes(listed=("new_collection_abc", "users"))
    mine = {"new_collection_abc"}.__contains__
    got = await probe_clean(nodes, recorder, mine)
    assert not got.clean
    assert "new_collection_abc" in (got.why or "")
    deleted = await delete_leftovers(nodes, ["new_collection_abc", "users"], mine)
    assert deleted == ["new_collection_abc"]
    paths = [c.path for c in nodes[0].calls_of("delete_collection")]
    assert len(paths) == 1
    assert paths[0].endswith("/new_collection_abc")


async def test_wait_clean_gives_up_at_the_bound() -> None:
    """An unclean cluster is reported with its reason once the bound passes."""
    recorder, nodes = _nodes(commit2=9)
    got = await wait_clean(nodes, recorder, lambda name: False, bound_s=0.05)
    assert not got.clean


def test_judge_clean_needs_every_node() -> None:
    """Without an answer from every node the cluster is not clean."""
    got = judge_clean({}, {}, 3, (), ())
    assert not got.clean
