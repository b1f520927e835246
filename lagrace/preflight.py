"""Preflight: check the target before anything is sent that could change it.

Reads only (``GET /``, ``GET /cluster``, ``GET /telemetry``, through :mod:`lagrace.discovery`)
and raises the specific :class:`~lagrace.errors.ClusterError` for each way a target can be
unusable: unreachable, not Qdrant, not in cluster mode, without the ``staging`` feature,
refusing our API key, or a cluster with peers that no given URL reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lagrace.api.protocol import NodeApi
from lagrace.clock import Clock
from lagrace.discovery import check_staging, discover
from lagrace.errors import ClusterError
from lagrace.plan import NodeRef


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the checks found: nodes with peer ids, the leader, versions, p2p URIs."""

    nodes: tuple[NodeRef, ...]
    leader_peer: int | None
    leader_node: int
    versions: dict[int, str]
    p2p_uris: dict[int, str]  # peer id -> p2p URI


async def preflight(
    apis: Sequence[NodeApi], clock: Clock, *, need_staging: bool = True
) -> Preflight:
    """Discover every node, check ``staging``, and insist that every peer is reachable."""
    view = await discover(apis, clock, worker="preflight")
    if need_staging:
        await check_staging(apis, worker="preflight")
    missing = set(view.peers) - {n.peer_id for n in view.nodes}
    if missing:
        raise ClusterError(
            f"the cluster has peers that no --nodes URL reaches: {sorted(missing)}; "
            "give every node's URL"
        )
    nodes = tuple(NodeRef(n.index, n.url, n.peer_id) for n in view.nodes)
    leader = view.leader
    return Preflight(
        nodes=nodes,
        leader_peer=view.leader_peer_id,
        leader_node=leader.index if leader is not None else nodes[0].node,
        versions={n.index: n.version for n in view.nodes},
        p2p_uris=dict(view.peers),
    )
