"""Preflight: check the target before anything is sent that could change it.

Reads only (``GET /``, ``GET /cluster``, ``GET /telemetry``) and raises the specific
:class:`~lagrace.errors.ClusterError` for each way a target can be unusable: unreachable, not
Qdrant, not in cluster mode, without the ``staging`` feature, or missing nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lagrace.api.models import ClusterStatus
from lagrace.api.protocol import NodeApi
from lagrace.errors import (
    ClusterError,
    ClusterModeError,
    NotQdrantError,
    StagingFeatureError,
    UnreachableError,
)
from lagrace.plan import NodeRef


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the checks found: nodes with peer ids, the leader, versions, p2p URIs."""

    nodes: tuple[NodeRef, ...]
    leader_peer: int | None
    leader_node: int
    versions: dict[int, str]
    p2p_uris: dict[int, str]  # peer id -> p2p URI


async def _check_node(api: NodeApi) -> tuple[dict[str, Any], ClusterStatus, dict[str, Any]]:
    root = await api.root(worker="preflight")
    if root.value is None:
        if root.status is None:
            raise UnreachableError(f"node {api.node} ({api.url}) does not answer: {root.error}")
        if root.status in (401, 403):
            raise ClusterError(
                f"node {api.node} ({api.url}) refused the request (HTTP {root.status}): "
                "give its API key with --api-key, or check the one given"
            )
        raise NotQdrantError(
            f"node {api.node} ({api.url}) answered HTTP {root.status} to GET /: not Qdrant"
        )
    title = str(root.value.get("title", ""))
    if "qdrant" not in title.lower() or "version" not in root.value:
        raise NotQdrantError(f"node {api.node} ({api.url}) is not Qdrant (GET / says {title!r})")
    cluster = await api.cluster(worker="preflight")
    if cluster.value is None:
        if cluster.error and "disabled" in cluster.error:
            raise ClusterModeError(
                f"node {api.node} ({api.url}) runs without cluster mode "
                "(set QDRANT__CLUSTER__ENABLED=true)"
            )
        raise NotQdrantError(
            f"node {api.node} ({api.url}) gave no usable /cluster answer: {cluster.error}"
        )
    telemetry = await api.telemetry(1, worker="preflight")
    if telemetry.value is None:
        raise NotQdrantError(
            f"node {api.node} ({api.url}) gave no usable /telemetry answer: {telemetry.error}"
        )
    return root.value, cluster.value, telemetry.value


def _staging(telemetry: dict[str, Any]) -> bool:
    app = telemetry.get("app")
    features = app.get("features") if isinstance(app, dict) else None
    return isinstance(features, dict) and features.get("staging") is True


async def preflight(apis: Sequence[NodeApi], *, need_staging: bool = True) -> Preflight:
    """Check every node concurrently; the same cluster must be behind every URL."""
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(_check_node(api)) for api in apis]
    answers = [t.result() for t in tasks]
    nodes: list[NodeRef] = []
    versions: dict[int, str] = {}
    peer_sets: set[frozenset[int]] = set()
    p2p: dict[int, str] = {}
    for api, (root, status, telemetry) in zip(apis, answers, strict=True):
        if need_staging and not _staging(telemetry):
            raise StagingFeatureError(
                f"node {api.node} ({api.url}) is a Qdrant built without the `staging` cargo "
                "feature, so it has no test_slow_down (build with --features staging)"
            )
        nodes.append(NodeRef(api.node, api.url, status.peer_id))
        versions[api.node] = str(root.get("version"))
        peer_sets.add(frozenset(status.peers))
        p2p.update(status.peers)
    ids = [n.peer_id for n in nodes]
    if len(set(ids)) != len(ids):
        raise ClusterError(f"two URLs reach the same peer (peer ids {ids})")
    known = set().union(*peer_sets) if peer_sets else set()
    missing = known - set(ids)
    if missing:
        raise ClusterError(
            f"the cluster has peers that no --nodes URL reaches: {sorted(missing)}; "
            "give every node's URL"
        )
    leaders = {s.leader for _, s, _ in answers if s.leader}
    leader = next(iter(leaders)) if len(leaders) == 1 else None
    leader_node = next((n.node for n in nodes if n.peer_id == leader), nodes[0].node)
    return Preflight(tuple(nodes), leader, leader_node, versions, p2p)
