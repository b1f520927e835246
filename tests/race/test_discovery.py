"""Discovery against three fake nodes on TestServers, the errors it raises, and resolve_node."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from aiohttp.test_utils import TestServer

from lagrace.api.client import HttpNodeClient, Timeouts
from lagrace.clock import ManualClock
from lagrace.errors import (
    ClusterError,
    ClusterModeError,
    FrozenPeerError,
    NotQdrantError,
    UnknownPeerError,
    UnreachableError,
    UsageError,
)
from lagrace.events import Invoke
from lagrace.race.discovery import (
    ClusterView,
    NodeInfo,
    build_view,
    detect_builds,
    discover,
    format_cluster_table,
    parse_node_urls,
    resolve_node,
    view_to_json,
)
from lagrace.recorder import Recorder
from lagrace.timebase import NS_PER_MS, parse_rfc3339
from lagrace.versions import BuildInfo
from tests.api.qdrant_app import (
    LAST_UPDATE,
    PEER_IDS,
    NodeState,
    dead_port,
    make_app,
    three_nodes,
)

FAST = Timeouts(default_s=1.0, connect_s=0.5)
# 1.25 s after the fake nodes' consensus last_update.
NOW_NS = parse_rfc3339(LAST_UPDATE) + 1250 * NS_PER_MS


@pytest.fixture
def states() -> list[NodeState]:
    """A consistent fake 3-node cluster, node 1 leading."""
    return three_nodes()


@pytest.fixture
async def urls(states: list[NodeState]) -> AsyncIterator[list[str]]:
    """The three fake nodes served on loopback."""
    async with AsyncExitStack() as stack:
        out = []
        for state in states:
            server = TestServer(make_app(state), shutdown_timeout=1.0)
            await server.start_server()
            stack.push_async_callback(server.close)
            out.append(str(server.make_url("")).rstrip("/"))
        yield out


async def run_discover(urls: list[str]) -> tuple[ClusterView, list[HttpNodeClient], Recorder]:
    """Discover with real clients on a manual clock set to NOW_NS."""
    clock = ManualClock(anchor_unix_ns=NOW_NS)
    recorder = Recorder(clock)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(HttpNodeClient(i, u, recorder, timeouts=FAST))
            for i, u in enumerate(urls, start=1)
        ]
        view = await discover(clients, clock)
    return view, clients, recorder


async def test_discover_three_nodes(urls: list[str], states: list[NodeState]) -> None:
    """Peer ids map to node indices, the leader is found, peer ids are set on the clients."""
    states[2].send_failures = {"http://127.0.0.1:20100/": 4}
    view, clients, recorder = await run_discover(urls)
    assert [n.peer_id for n in view.nodes] == list(PEER_IDS)
    assert [n.url for n in view.nodes] == urls
    assert view.leader_peer_id == PEER_IDS[0]
    assert view.leader is not None
    assert view.leader.index == 1
    assert [c.peer_id for c in clients] == list(PEER_IDS)
    assert {n.last_update_age_ms for n in view.nodes} == {1250}
    assert view.nodes[2].send_failures_total == 4
    assert set(view.peers) == set(PEER_IDS)
    ops = sorted((e.node, e.op) for e in recorder.events if isinstance(e, Invoke))
    assert ops == [(i, op) for i in (1, 2, 3) for op in ("cluster", "root")]
    assert all(e.worker == "setup" for e in recorder.events if isinstance(e, Invoke))


async def test_unreachable_node(urls: list[str]) -> None:
    """A URL with nothing listening is an UnreachableError naming the node."""
    dead = f"http://127.0.0.1:{dead_port()}"
    with pytest.raises(UnreachableError, match=rf"node 2 \({dead}\) does not answer"):
        await run_discover([urls[0], dead, urls[2]])


async def test_not_qdrant(urls: list[str], states: list[NodeState]) -> None:
    """Something that answers GET / without Qdrant's title is NotQdrantError."""
    states[1].faults["/"] = "not_qdrant"
    with pytest.raises(NotQdrantError, match=r"node 2 .* is not Qdrant"):
        await run_discover(urls)


async def test_cluster_mode_disabled(urls: list[str], states: list[NodeState]) -> None:
    """A node whose /cluster says disabled is ClusterModeError."""
    states[0].cluster_enabled = False
    with pytest.raises(ClusterModeError, match="QDRANT__CLUSTER__ENABLED=true"):
        await run_discover(urls)


async def test_api_key_rejected(urls: list[str], states: list[NodeState]) -> None:
    """A node that wants an API key we did not give says so, in one line."""
    states[2].api_key = "k"
    with pytest.raises(ClusterError, match=r"node 3 .*\(HTTP 401\): give its API key"):
        await run_discover(urls)


async def test_two_clusters_or_the_same_node_twice(
    urls: list[str], states: list[NodeState]
) -> None:
    """URLs reaching different clusters, or one peer twice, are ClusterErrors."""
    states[1].peers = {PEER_IDS[1]: states[1].p2p_uri}
    with pytest.raises(ClusterError, match="different clusters"):
        await run_discover(urls)
    states[1].peers = dict(states[0].peers)
    states[1].peer_id = PEER_IDS[0]
    with pytest.raises(ClusterError, match=f"are the same peer {PEER_IDS[0]}"):
        await run_discover(urls)


async def _builds(urls: list[str], timeouts: Timeouts = FAST) -> dict[int, BuildInfo]:
    recorder = Recorder(ManualClock())
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(HttpNodeClient(i, u, recorder, timeouts=timeouts))
            for i, u in enumerate(urls, start=1)
        ]
        view = await discover(clients, ManualClock())
        try:
            return dict(await detect_builds(clients, view))
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None


async def test_builds_from_telemetry(urls: list[str], states: list[NodeState]) -> None:
    """v1.17.0+: staging and the build kind come from telemetry; no probe is sent."""
    builds = await _builds(urls)
    seen = {n: (b.staging, b.staging_source, b.kind) for n, b in builds.items()}
    assert seen == dict.fromkeys((1, 2, 3), (True, "telemetry", "debug"))
    assert not any(m == "POST" for st in states for m, _, _ in st.requests)


async def test_builds_of_v1_16_come_from_the_probe(
    urls: list[str], states: list[NodeState]
) -> None:
    """v1.16.x reports no staging key: the probe's 404 means staging, its 400 means none."""
    for st in states:
        st.version, st.staging_in_telemetry = "1.16.2", False
    states[1].staging = False
    builds = await _builds(urls)
    assert [(b.staging, b.staging_source) for _, b in sorted(builds.items())] == [
        (True, "probe"),
        (False, "probe"),
        (True, "probe"),
    ]
    posts = [p for st in states for m, p, _ in st.requests if m == "POST"]
    assert posts == ["/collections/lagrace_staging_probe_does_not_exist/cluster"] * 3
    assert all(not st.collections.get("lagrace_staging_probe_does_not_exist") for st in states)


async def test_a_frozen_peer_is_named(urls: list[str], states: list[NodeState]) -> None:
    """/cluster answers but /telemetry hangs: a FrozenPeerError that names the node."""
    states[1].frozen = True
    with pytest.raises(FrozenPeerError, match=r"node 2 .*looks frozen"):
        await _builds(urls)


def test_parse_node_urls() -> None:
    """Comma lists and repeats are split and normalised; bad or repeated URLs are UsageErrors."""
    assert parse_node_urls(["http://a:1/,http://b:2", "http://c:3"]) == (
        "http://a:1",
        "http://b:2",
        "http://c:3",
    )
    with pytest.raises(UsageError, match="malformed node URL 'a:1'"):
        parse_node_urls("a:1")
    with pytest.raises(UsageError, match="given twice"):
        parse_node_urls("http://a:1,http://a:1/")
    with pytest.raises(UsageError, match="no node URLs"):
        parse_node_urls(" , ")


def _node(index: int, peer_id: int, leader: int | None = None) -> NodeInfo:
    return NodeInfo(
        index=index,
        url=f"http://127.0.0.1:{6330 + index}",
        peer_id=peer_id,
        version="1.18.3",
        term=3,
        commit=100 + index,
        pending_operations=0,
        leader=leader,
        role="Leader" if leader == peer_id else "Follower",
        is_voter=True,
        thread_status="working",
        thread_error=None,
        last_update_age_ms=120,
    )


def _view(peer_ids: tuple[int, ...] = PEER_IDS, leader: int | None = PEER_IDS[1]) -> ClusterView:
    nodes = [_node(i, p, leader) for i, p in enumerate(peer_ids, start=1)]
    peers = {p: f"http://127.0.0.1:{20000 + i}/" for i, p in enumerate(peer_ids)}
    return build_view(nodes, [peers] * len(nodes))


@pytest.mark.parametrize(
    ("spec", "index"),
    [
        ("2", 2),
        (" 3 ", 3),
        ("node:1", 1),
        (str(PEER_IDS[2]), 3),
        (f"peer:{PEER_IDS[0]}", 1),
        ("7401", 1),
        ("7401…", 1),
        ("5519...", 3),
        ("leader", 2),
    ],
)
def test_resolve_node(spec: str, index: int) -> None:
    """Node numbers, peer ids, unique prefixes and 'leader' resolve to the right node."""
    assert resolve_node(_view(), spec).index == index


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("4", "no node 4"),
        ("node:9", "no node 9"),
        ("9999", "no peer id starts with '9999'"),
        ("peer:2", "no peer 2 "),
        ("peer:2284999", "no peer id starts with '2284999'"),
        ("abc", "neither a node number nor a peer id"),
        ("", "neither"),
    ],
)
def test_resolve_node_errors(spec: str, needle: str) -> None:
    """Unknown specs raise UnknownPeerError with a one-line reason."""
    with pytest.raises(UnknownPeerError, match=needle):
        resolve_node(_view(), spec)


def test_resolve_node_ambiguity_and_no_leader() -> None:
    """A number that is one node's index and another's peer id must be made explicit."""
    view = _view(peer_ids=(3, 1, 2), leader=None)
    with pytest.raises(UnknownPeerError, match="ambiguous"):
        resolve_node(view, "1")
    assert resolve_node(view, "peer:1").index == 2
    assert resolve_node(view, "node:1").peer_id == 3
    with pytest.raises(UnknownPeerError, match="no leader"):
        resolve_node(view, "leader")
    prefixes = _view(peer_ids=(12345, 12346, 999999), leader=None)
    with pytest.raises(UnknownPeerError, match="several peers"):
        resolve_node(prefixes, "1234")


def test_format_cluster_table_and_json() -> None:
    """The table has a header, one aligned row per node and the leader line; JSON matches."""
    view = _view()
    stalled = dataclasses.replace(view.nodes[2], last_update_age_ms=None, send_failures={"u": 2})
    view = dataclasses.replace(view, nodes=(*view.nodes[:2], stalled))
    lines = format_cluster_table(view).splitlines()
    assert lines[0].split() == [
        "node", "url", "peer", "id", "role", "leader", "term", "commit", "pending", "thread",
        "last", "update", "ms", "send", "fail",
    ]  # fmt: skip
    assert len(lines) == 5
    assert lines[2].split() == [
        "2", "http://127.0.0.1:6332", str(PEER_IDS[1]), "Leader", "*", "3", "102", "0",
        "working", "120", "0",
    ]  # fmt: skip
    assert lines[3].split()[-2:] == ["-", "2"]
    assert lines[-1] == f"leader: peer {PEER_IDS[1]} (node 2)"
    assert len({line.index("http") for line in lines[1:4]}) == 1
    obj = view_to_json(view)
    assert obj["leader_node"] == 2
    assert [n["is_leader"] for n in obj["nodes"]] == [False, True, False]
    assert obj["nodes"][2]["send_failures"] == {"u": 2}
    outside = dataclasses.replace(view, leader_peer_id=42)
    assert format_cluster_table(outside).endswith("leader: peer 42 (not among the given URLs)")
