"""Preflight: check the target before anything is sent that could change it.

Reads only (``GET /``, ``GET /cluster``, ``GET /telemetry``, and on v1.16.x the side-effect-free
``staging`` probe of notes §4.8, through :mod:`lagrace.race.discovery`) and raises the specific
:class:`~lagrace.errors.ClusterError` for each way a target can be unusable: unreachable, not
Qdrant, not in cluster mode, without the ``staging`` feature, refusing our API key, or a cluster
with peers that no given URL reaches. A peer still frozen by an earlier race (it answers
``GET /cluster`` but nothing that needs its table of contents) is waited for, up to
``frozen_wait_s``; then :class:`~lagrace.errors.FrozenPeerError` (exit 2) says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from lagrace.api.protocol import NodeApi
from lagrace.clock import Clock, sleep
from lagrace.errors import ClusterError, FrozenPeerError, sole_error
from lagrace.plan import NodeRef
from lagrace.race.discovery import ClusterView, detect_builds, discover, require_staging
from lagrace.timebase import NS_PER_S
from lagrace.versions import BuildInfo

FROZEN_RETRY_S: Final = 5.0  # how often a frozen peer is asked again


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the checks found: nodes with peer ids, the leader, versions, p2p URIs."""

    nodes: tuple[NodeRef, ...]
    leader_peer: int | None
    leader_node: int
    versions: dict[int, str]
    p2p_uris: dict[int, str]  # peer id -> p2p URI
    builds: dict[int, BuildInfo] = field(default_factory=dict)  # node index -> build
    frozen_waited_s: float = 0.0  # how long preflight waited for a frozen peer to thaw


async def _builds_once(apis: Sequence[NodeApi], view: ClusterView) -> dict[int, BuildInfo]:
    try:
        return await detect_builds(apis, view, worker="preflight")
    except BaseExceptionGroup as group:
        frozen = sole_error(group, FrozenPeerError)
        if frozen is not None:
            raise frozen from None
        raise


async def preflight(
    apis: Sequence[NodeApi],
    clock: Clock,
    *,
    need_staging: bool = True,
    frozen_wait_s: float = 0.0,
    retry_s: float = FROZEN_RETRY_S,
) -> Preflight:
    """Discover every node, read each build (version, ``staging``, debug or release), and
    insist that every peer is reachable; wait up to ``frozen_wait_s`` for a frozen peer."""
    started = clock.now_ns()
    retries = int(frozen_wait_s // retry_s)  # bounded by count, whatever the clock says
    for attempt in itertools.count():
        view = await discover(apis, clock, worker="preflight")
        try:
            builds = await _builds_once(apis, view)
            break
        except FrozenPeerError as exc:
            waited = (clock.now_ns() - started) / NS_PER_S
            if attempt >= retries:
                raise FrozenPeerError(
                    f"{exc}; still so after waiting {waited:.0f} s. An earlier race's lock "
                    "pile-up holds it until Qdrant's internal gRPC timeouts fire (three "
                    "attempts of grpc_timeout_ms + 2 s: about 3 min with the default 60 s, "
                    "about 21 s with --grpc-timeout-ms 5000); try again later"
                ) from None
            await sleep(clock, retry_s)
    if need_staging:
        for api in apis:
            require_staging(api.node, api.url, builds[api.node])
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
        builds=builds,
        frozen_waited_s=(clock.now_ns() - started) / NS_PER_S,
    )
