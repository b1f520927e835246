"""Discovery: who is behind each node URL, which peer id it has, and who leads.

The only I/O is :func:`discover` (``GET /`` and ``GET /cluster`` on every node at once) and
:func:`detect_builds` (telemetry; the ``staging`` probe where telemetry does not say);
everything else is pure: turning replies into :class:`NodeInfo` (raising the specific
:class:`~lagrace.errors.ClusterError` for each way a node can be unusable), assembling the
frozen :class:`ClusterView`, resolving a user's node spec (:func:`resolve_node`), and rendering
(:func:`format_cluster_table`, :func:`view_to_json`).

Node specs: ``2`` (node index, 1-based), a full peer id, a unique peer-id prefix of at least
four digits (``7401…``), ``node:2`` / ``peer:7401…`` to be explicit, or ``leader``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lagrace.api.client import base_url
from lagrace.api.models import ClusterStatus, Reply
from lagrace.api.protocol import NodeApi
from lagrace.clock import Clock
from lagrace.errors import (
    ClusterError,
    ClusterModeError,
    FrozenPeerError,
    NotQdrantError,
    StagingFeatureError,
    UnreachableError,
    UsageError,
)
from lagrace.plan import NodeRef
from lagrace.plan import resolve_node as plan_resolve_node
from lagrace.timebase import NS_PER_MS
from lagrace.versions import BuildInfo

_AUTH_STATUSES: Final = (401, 403)


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node as discovery saw it."""

    index: int  # 1-based, the order of the URLs
    url: str
    peer_id: int
    version: str
    term: int
    commit: int
    pending_operations: int
    leader: int | None  # the leader this node knows (None/0: none)
    role: str | None
    is_voter: bool
    thread_status: str
    thread_error: str | None
    last_update_age_ms: int | None  # now - consensus last_update (None unless working)
    send_failures: dict[str, int] = field(default_factory=dict)  # p2p URI -> count

    @property
    def send_failures_total(self) -> int:
        """All consecutive send failures this node reports."""
        return sum(self.send_failures.values())


@dataclass(frozen=True, slots=True)
class ClusterView:
    """Every discovered node, the leader, and all peers the nodes know."""

    nodes: tuple[NodeInfo, ...]
    leader_peer_id: int | None
    peers: dict[int, str]  # peer id -> p2p URI, union of the nodes' views

    @property
    def leader(self) -> NodeInfo | None:
        """The leader's node, if one of the given URLs reaches it."""
        return next((n for n in self.nodes if n.peer_id == self.leader_peer_id), None)

    def by_index(self, index: int) -> NodeInfo | None:
        """Node ``index`` (1-based)."""
        return self.nodes[index - 1] if 1 <= index <= len(self.nodes) else None

    def by_peer(self, peer_id: int) -> NodeInfo | None:
        """The node with this peer id."""
        return next((n for n in self.nodes if n.peer_id == peer_id), None)


# -- pure: URLs -----------------------------------------------------------------------------


def parse_node_urls(spec: str | Sequence[str]) -> tuple[str, ...]:
    """``URL[,URL...]`` (or a list of such strings) → normalised, distinct URLs."""
    items = [spec] if isinstance(spec, str) else list(spec)
    urls = [base_url(part) for item in items for part in item.split(",") if part.strip()]
    if not urls:
        raise UsageError("no node URLs given (expected --nodes URL[,URL...])")
    dupes = sorted({u for u in urls if urls.count(u) > 1})
    if dupes:
        raise UsageError(f"node URL given twice: {', '.join(dupes)}")
    return tuple(urls)


# -- pure: replies -> NodeInfo ----------------------------------------------------------------


def _where(index: int, url: str) -> str:
    return f"node {index} ({url})"


def _auth_message(where: str, status: int) -> str:
    return (
        f"{where} rejected the request (HTTP {status}): "
        "give its API key with --api-key, or check the one given"
    )


def require_root(index: int, url: str, reply: Reply[dict[str, Any]]) -> str:
    """The version from ``GET /``; raise if the node is unreachable or not Qdrant."""
    where = _where(index, url)
    if reply.status is None:
        raise UnreachableError(f"{where} does not answer: {reply.error}")
    if reply.status in _AUTH_STATUSES:
        raise ClusterError(_auth_message(where, reply.status))
    value = reply.value
    if value is None:
        raise NotQdrantError(f"{where} is not Qdrant: GET / answered HTTP {reply.status}")
    title = str(value.get("title", ""))
    if "qdrant" not in title.lower():
        raise NotQdrantError(f"{where} is not Qdrant: GET / has title {title!r}")
    return str(value["version"])


def require_cluster(index: int, url: str, reply: Reply[ClusterStatus]) -> ClusterStatus:
    """The ``GET /cluster`` status; raise if cluster mode is off or the answer is unusable."""
    where = _where(index, url)
    if isinstance(reply.problem, ClusterModeError):
        raise ClusterModeError(
            f"{where} runs without cluster mode (start it with QDRANT__CLUSTER__ENABLED=true)"
        )
    if reply.status is None:
        raise UnreachableError(f"{where} does not answer GET /cluster: {reply.error}")
    if reply.status in _AUTH_STATUSES:
        raise ClusterError(_auth_message(where, reply.status))
    if reply.value is None:
        raise ClusterError(f"{where} gave no usable GET /cluster answer: {reply.error}")
    return reply.value


def node_info(
    index: int, url: str, version: str, status: ClusterStatus, wall_now_ns: int
) -> NodeInfo:
    """One node's row of the view; ``wall_now_ns`` dates the consensus ``last_update``."""
    age = (
        None
        if status.last_update_unix_ns is None
        else (wall_now_ns - status.last_update_unix_ns) // NS_PER_MS
    )
    return NodeInfo(
        index=index,
        url=url,
        peer_id=status.peer_id,
        version=version,
        term=status.term,
        commit=status.commit,
        pending_operations=status.pending_operations,
        leader=status.leader or None,
        role=status.role,
        is_voter=status.is_voter,
        thread_status=status.thread_status,
        thread_error=status.thread_error,
        last_update_age_ms=age,
        send_failures={uri: f.count for uri, f in status.message_send_failures.items()},
    )


def build_view(nodes: Sequence[NodeInfo], peers: Sequence[dict[int, str]]) -> ClusterView:
    """Check that the nodes form one cluster and pick the leader most of them report."""
    seen: dict[int, NodeInfo] = {}
    for node in nodes:
        other = seen.get(node.peer_id)
        if other is not None:
            raise ClusterError(
                f"node {other.index} ({other.url}) and node {node.index} ({node.url}) "
                f"are the same peer {node.peer_id}"
            )
        seen[node.peer_id] = node
    known: dict[int, str] = {}
    for view in peers:
        known.update(view)
    for node, view in zip(nodes, peers, strict=True):
        strangers = [n for n in nodes if n.peer_id not in view]
        if strangers:
            s = strangers[0]
            raise ClusterError(
                f"node {s.index} (peer {s.peer_id}) is not in the cluster of node {node.index} "
                f"(peer {node.peer_id}): the URLs reach different clusters"
            )
    votes = Counter(n.leader for n in nodes if n.leader)
    leader = votes.most_common(1)[0][0] if votes else None
    return ClusterView(nodes=tuple(nodes), leader_peer_id=leader, peers=known)


# -- pure: resolving a node spec --------------------------------------------------------------


def resolve_node(view: ClusterView, spec: str) -> NodeInfo:
    """The node a user means by ``spec`` (grammar: :func:`lagrace.plan.resolve_node`)."""
    refs = [NodeRef(n.index, n.url, n.peer_id) for n in view.nodes]
    found = plan_resolve_node(refs, spec, what="node", leader=view.leader_peer_id)
    return view.nodes[refs.index(found)]


# -- pure: rendering --------------------------------------------------------------------------

_COLUMNS: Final = (
    "node",
    "url",
    "peer id",
    "role",
    "leader",
    "term",
    "commit",
    "pending",
    "thread",
    "last update ms",
    "send fail",
)


def _row(view: ClusterView, n: NodeInfo) -> tuple[str, ...]:
    thread = n.thread_status if n.thread_error is None else f"{n.thread_status}: {n.thread_error}"
    return (
        str(n.index),
        n.url,
        str(n.peer_id),
        n.role or "-",
        "*" if n.peer_id == view.leader_peer_id else "",
        str(n.term),
        str(n.commit),
        str(n.pending_operations),
        thread,
        "-" if n.last_update_age_ms is None else str(n.last_update_age_ms),
        str(n.send_failures_total),
    )


def format_cluster_table(view: ClusterView) -> str:
    """A fixed-width table of the nodes plus a line naming the leader."""
    rows = [_COLUMNS, *(_row(view, n) for n in view.nodes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    numeric = {0, 5, 6, 7, 9, 10}
    lines = [
        "  ".join(
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    leader = view.leader
    if view.leader_peer_id is None:
        lines.append("leader: none known")
    elif leader is None:
        lines.append(f"leader: peer {view.leader_peer_id} (not among the given URLs)")
    else:
        lines.append(f"leader: peer {leader.peer_id} (node {leader.index})")
    return "\n".join(lines)


def view_to_json(view: ClusterView) -> dict[str, Any]:
    """The view as one JSON-ready object."""
    leader = view.leader
    return {
        "leader_peer_id": view.leader_peer_id,
        "leader_node": None if leader is None else leader.index,
        "peers": {str(p): uri for p, uri in sorted(view.peers.items())},
        "nodes": [
            {
                "node": n.index,
                "url": n.url,
                "peer_id": n.peer_id,
                "version": n.version,
                "role": n.role,
                "is_leader": n.peer_id == view.leader_peer_id,
                "is_voter": n.is_voter,
                "term": n.term,
                "commit": n.commit,
                "pending_operations": n.pending_operations,
                "leader": n.leader,
                "thread_status": n.thread_status,
                "thread_error": n.thread_error,
                "last_update_age_ms": n.last_update_age_ms,
                "send_failures": n.send_failures,
            }
            for n in view.nodes
        ],
    }


# -- I/O --------------------------------------------------------------------------------------


async def discover(apis: Sequence[NodeApi], clock: Clock, *, worker: str = "setup") -> ClusterView:
    """Ask every node ``GET /`` and ``GET /cluster`` at once; set each api's peer id.

    Raises the specific :class:`~lagrace.errors.ClusterError` of the first (by node index)
    node that is unusable.
    """
    async with asyncio.TaskGroup() as tg:
        roots = [tg.create_task(api.root(worker=worker)) for api in apis]
        clusters = [tg.create_task(api.cluster(worker=worker)) for api in apis]
    now = clock.wall_ns()
    nodes: list[NodeInfo] = []
    peers: list[dict[int, str]] = []
    for api, root, cluster in zip(apis, roots, clusters, strict=True):
        version = require_root(api.node, api.url, root.result())
        status = require_cluster(api.node, api.url, cluster.result())
        nodes.append(node_info(api.node, api.url, version, status, now))
        peers.append(status.peers)
    view = build_view(nodes, peers)
    for api, node in zip(apis, view.nodes, strict=True):
        api.set_peer_id(node.peer_id)
    return view


def telemetry_features(telemetry: dict[str, Any]) -> tuple[bool | None, bool | None]:
    """``(staging, debug)`` of ``GET /telemetry?details_level=1``; ``None`` where not reported
    (v1.16.x reports no ``staging`` key: notes §4.8)."""
    app = telemetry.get("app")
    features = app.get("features") if isinstance(app, dict) else None
    if not isinstance(features, dict):
        return None, None
    staging, debug = features.get("staging"), features.get("debug")
    return (
        staging if isinstance(staging, bool) else None,
        debug if isinstance(debug, bool) else None,
    )


_NO_VARIANT: Final = "did not match any variant"
PROBE_COLLECTION: Final = "lagrace_staging_probe_does_not_exist"
STAGING_HINT: Final = "build it with `cargo build --bin qdrant --features staging`"


def staging_from_probe(index: int, url: str, reply: Reply[bool]) -> bool:
    """Read the side-effect-free probe of notes §4.8: ``test_slow_down`` (duration 0) on a
    collection that does not exist answers 404 with ``staging``, 400 "did not match any
    variant" without it."""
    where = _where(index, url)
    if reply.status == 404:
        return True
    if reply.status == 400 and _NO_VARIANT in (reply.error or ""):
        return False
    if reply.status is None:
        raise FrozenPeerError(
            f"{where} answers GET /cluster but not a request that needs its table of contents "
            f"({reply.error}): its consensus apply looks frozen"
        )
    raise StagingFeatureError(
        f"{where}: cannot tell whether Qdrant has the `staging` cargo feature: the probe "
        f"answered HTTP {reply.status} ({reply.error})"
    )


def require_staging(index: int, url: str, build: BuildInfo) -> None:
    """Raise :class:`StagingFeatureError` unless the node has the ``staging`` feature."""
    if not build.staging:
        raise StagingFeatureError(
            f"{_where(index, url)} is Qdrant {build.version} built without the `staging` cargo "
            f"feature, so it has no test_slow_down: {STAGING_HINT}"
        )


async def detect_build(api: NodeApi, version: str, *, worker: str = "setup") -> BuildInfo:
    """Version, ``staging`` and build kind of one node: from telemetry where it says (v1.17.0+),
    else from the probe. Raises :class:`FrozenPeerError` when the node's table of contents does
    not answer (a request freeze: ``/cluster`` answers, ``/telemetry`` does not)."""
    where = _where(api.node, api.url)
    reply = await api.telemetry(1, worker=worker)
    if reply.status is None:
        raise FrozenPeerError(
            f"{where} answers GET /cluster but not GET /telemetry ({reply.error}): "
            "its consensus apply looks frozen"
        )
    if reply.status in _AUTH_STATUSES:
        raise ClusterError(_auth_message(where, reply.status))
    if reply.value is None:
        raise StagingFeatureError(
            f"{where}: cannot tell whether Qdrant has the `staging` cargo feature "
            f"(GET /telemetry?details_level=1: {reply.error})"
        )
    staging, debug = telemetry_features(reply.value)
    if staging is not None:
        return BuildInfo(version, staging, "telemetry", debug)
    assert api.peer_id is not None, "discover() sets the peer id first"
    probe = await api.test_slow_down(
        PROBE_COLLECTION, peer_id=api.peer_id, duration_s=0, worker=worker
    )
    return BuildInfo(version, staging_from_probe(api.node, api.url, probe), "probe", debug)


async def detect_builds(
    apis: Sequence[NodeApi], view: ClusterView, *, worker: str = "setup"
) -> dict[int, BuildInfo]:
    """Every node's build (node index → :class:`BuildInfo`), asked at once."""
    async with asyncio.TaskGroup() as tg:
        tasks = {
            api.node: tg.create_task(
                detect_build(api, view.nodes[api.node - 1].version, worker=worker)
            )
            for api in apis
        }
    return {node: task.result() for node, task in tasks.items()}
