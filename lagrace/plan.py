"""The plan of a race: what is sent when, to which node, computed before anything is sent.

Pure functions of the scenario, the discovered nodes and a seed. The runner interprets the
plan; tests check it without an event loop.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from lagrace.errors import ScenarioError, UnknownPeerError
from lagrace.scenario import Scenario
from lagrace.timebase import NS_PER_S

DEDUPE_STEP_S: Final = 0.001  # Qdrant merges identical in-flight proposals: vary the duration


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A node of the run: 1-based index, URL and peer id."""

    node: int
    url: str
    peer_id: int


@dataclass(frozen=True, slots=True)
class SlowDownStep:
    """One ``test_slow_down`` proposal."""

    at_ns: int  # relative to the start of the race phase
    via: int  # node that receives the HTTP call (never the target, unless asked)
    target_peer: int | None
    duration_s: float


@dataclass(frozen=True, slots=True)
class CreateStep:
    """One collection creation of the burst."""

    at_ns: int
    via: int
    name: str


@dataclass(frozen=True, slots=True)
class DeleteStep:
    """One collection deleted in the middle of the race (``[delete]``)."""

    at_ns: int  # relative to the start of the race phase
    via: int
    name: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole schedule of a race."""

    run_id: str
    existing: str
    target: NodeRef
    slow_downs: tuple[SlowDownStep, ...]
    creates: tuple[CreateStep, ...]
    lag_end_ns: int  # when the last slow-down should have finished sleeping (nominal)
    deletes: tuple[DeleteStep, ...] = ()  # sent one after another, from the first's time

    @property
    def created_names(self) -> tuple[str, ...]:
        """Every collection the run creates (existing first)."""
        return (self.existing, *(c.name for c in self.creates))

    @property
    def settled_names(self) -> tuple[str, ...]:
        """The collections that must be all Active for the race to have settled: those created
        and not deleted on purpose during the race."""
        deleted = {d.name for d in self.deletes}
        return tuple(n for n in self.created_names if n not in deleted)


MIN_PEER_PREFIX: Final = 4  # a peer-id prefix shorter than this is taken as a node number


def _peer_list(nodes: Sequence[NodeRef]) -> str:
    return ", ".join(f"{n.node}={n.peer_id}" for n in nodes)


def resolve_node(
    nodes: Sequence[NodeRef], spec: str, *, what: str = "node", leader: int | None = None
) -> NodeRef:
    """The node a user means by ``spec``.

    ``2`` (node index, 1-based), a full peer id, a unique peer-id prefix of at least four digits
    (``7401…``), ``node:2`` / ``peer:7401…`` to be explicit, or ``leader``. A number that is one
    node's index and another node's peer id is refused as ambiguous.
    """
    text = spec.strip().rstrip(".…").strip()
    kind, _, rest = text.partition(":")
    if rest and kind in ("node", "peer"):
        text = rest.strip()
    else:
        kind = ""
    if text == "leader" and not kind:
        found = next((n for n in nodes if leader is not None and n.peer_id == leader), None)
        if found is None:
            raise UnknownPeerError(f"{what} {spec!r}: no leader among the given nodes")
        return found
    if not text.isdigit():
        raise UnknownPeerError(f"{what} {spec!r} is neither a node number nor a peer id")
    number = int(text)
    by_index = next((n for n in nodes if n.node == number), None) if kind != "peer" else None
    by_peer = next((n for n in nodes if n.peer_id == number), None) if kind != "node" else None
    if by_index is not None and by_peer is not None and by_index is not by_peer:
        raise UnknownPeerError(
            f"{what} {spec!r} is ambiguous: node {number} or peer {number}; say node:{number} "
            f"or peer:{number}"
        )
    found = by_index or by_peer
    if found is not None:
        return found
    if kind == "node" or (not kind and len(text) < MIN_PEER_PREFIX):
        raise UnknownPeerError(
            f"{what} {spec!r} is not in the cluster: no node {number}, nodes are "
            f"1..{len(nodes)} (peers: {_peer_list(nodes)})"
        )
    if len(text) < MIN_PEER_PREFIX:
        raise UnknownPeerError(f"{what} {spec!r}: no peer {number} (peers: {_peer_list(nodes)})")
    matches = [n for n in nodes if str(n.peer_id).startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UnknownPeerError(
            f"{what} {spec!r} matches several peers: {[n.peer_id for n in matches]}"
        )
    raise UnknownPeerError(
        f"{what} {spec!r} is not in the cluster: no peer id starts with {text!r} "
        f"(peers: {_peer_list(nodes)})"
    )


def _via(nodes: tuple[NodeRef, ...], spec: str, target: NodeRef, leader: int | None) -> NodeRef:
    if spec != "auto":
        return resolve_node(nodes, spec, what="via node", leader=leader)
    others = [n for n in nodes if n.node != target.node]
    if not others:
        return target
    preferred = [n for n in others if n.peer_id == leader]
    return (preferred or others)[0]


def ordering_leader(nodes: Sequence[NodeRef]) -> NodeRef:
    """The write-ordering leader: the peer with the highest id (Qdrant ``update.rs``)."""
    return max(nodes, key=lambda n: n.peer_id)


def refuse_ordering_leader_target(
    scenario: Scenario, nodes: Sequence[NodeRef], target: NodeRef
) -> None:
    """Medium/strong writes are forwarded to the ordering leader; a lagging peer that *is* that
    leader forwards nothing, so no lock cycle can form and the race cannot happen there."""
    if scenario.hammer.ordering == "weak" or scenario.hammer.workers == 0 or len(nodes) < 2:
        return
    if target.peer_id == ordering_leader(nodes).peer_id:
        raise ScenarioError(
            f"lag target node {target.node} (peer {target.peer_id}) is the write-ordering "
            f"leader (highest peer id): {scenario.hammer.ordering} writes through it are not "
            "forwarded, so no lock cycle can form; target another node"
        )


def collection_name(base: str, run_id: str) -> str:
    """Names of created collections carry the run id, so a run never touches another's."""
    return f"{base}_{run_id}"


def make_plan(
    scenario: Scenario, nodes: tuple[NodeRef, ...], run_id: str, leader: int | None
) -> Plan:
    """Schedule slow-downs and creates relative to the race start."""
    if not nodes:
        raise ScenarioError("no nodes to race")
    target = resolve_node(nodes, scenario.lag.target, what="lag target", leader=leader)
    refuse_ordering_leader_target(scenario, nodes, target)
    lag, burst = scenario.lag, scenario.burst
    lag_via = _via(nodes, lag.via, target, leader)
    slow_downs = tuple(
        SlowDownStep(
            at_ns=int((lag.offset_s + i * lag.interval_s) * NS_PER_S),
            via=lag_via.node,
            target_peer=target.peer_id,
            duration_s=round(lag.duration_s + i * DEDUPE_STEP_S, 3),
        )
        for i in range(lag.repeat)
    )
    burst_via = _via(nodes, burst.via, target, leader)
    burst_start_s = lag.offset_s + burst.offset_s
    creates = tuple(
        CreateStep(
            at_ns=int((burst_start_s + k * burst.spacing_s) * NS_PER_S),
            via=burst_via.node,
            name=collection_name(f"{burst.prefix}{k if burst.count > 1 else ''}", run_id),
        )
        for k in range(burst.count)
    )
    existing = collection_name(scenario.existing.name, run_id)
    deletes = _deletes(
        scenario, nodes, target, leader, names=_delete_names(scenario, existing, creates)
    )
    lag_end_ns = max(
        (s.at_ns + int(s.duration_s * NS_PER_S) for s in slow_downs),
        default=max((c.at_ns for c in creates), default=0),
    )
    if not slow_downs and deletes:  # a control run: the race is on until the delete was sent
        lag_end_ns = max(lag_end_ns, deletes[0].at_ns)
    return Plan(
        run_id=run_id,
        existing=existing,
        target=target,
        slow_downs=slow_downs,
        creates=creates,
        lag_end_ns=lag_end_ns,
        deletes=deletes,
    )


def _delete_names(scenario: Scenario, existing: str, creates: tuple[CreateStep, ...]) -> list[str]:
    """What ``[delete]`` deletes: the existing collection, or the first created ones."""
    names = [existing] if scenario.delete.target == "existing" else [c.name for c in creates]
    return names[: scenario.delete.count]


def _deletes(
    scenario: Scenario,
    nodes: tuple[NodeRef, ...],
    target: NodeRef,
    leader: int | None,
    *,
    names: list[str],
) -> tuple[DeleteStep, ...]:
    """The ``[delete]`` steps, all planned at ``delete.offset_s`` (sent one after another)."""
    if not names:
        return ()
    via = _via(nodes, scenario.delete.via, target, leader).node
    at_ns = int(scenario.delete.offset_s * NS_PER_S)
    return tuple(DeleteStep(at_ns=at_ns, via=via, name=n) for n in names)


def hammer_node(
    scenario: Scenario, nodes: tuple[NodeRef, ...], target: NodeRef, worker: int, seq: int
) -> NodeRef:
    """Which node worker ``worker`` sends its ``seq``-th upsert to."""
    peers = scenario.hammer.peers
    if peers == "round-robin":
        return nodes[(worker + seq) % len(nodes)]
    if peers == "lagging":
        return target
    return resolve_node(nodes, peers, what="hammer.peers node")


def hammer_wait(scenario: Scenario, worker: int) -> bool:
    """``wait`` of a worker's upserts: all true, all false, or alternating by worker."""
    mode = scenario.hammer.wait
    if mode == "mixed":
        return worker % 2 == 0
    return mode == "true"


def make_points(
    rng: random.Random, first_id: int, count: int, vector_size: int
) -> list[dict[str, Any]]:
    """``count`` points with consecutive ids and seeded random vectors."""
    return [
        {
            "id": first_id + i,
            "vector": [round(rng.uniform(-1.0, 1.0), 4) for _ in range(vector_size)],
            "payload": {"lagrace": True},
        }
        for i in range(count)
    ]


def worker_first_id(worker: int) -> int:
    """Id ranges per worker never overlap (preload uses worker -1 → ids from 0)."""
    return (worker + 1) * 1_000_000_000
