"""Literal histories for tests and scripts: :class:`HistoryBuilder`.

Times are given in milliseconds on the run axis (``t_ms``) and must not go backwards (the
recorder's clock is monotonic); a log line's server time ``at_ms`` may differ from the time it
was recorded, as in real runs. ``peer_id`` defaults from the builder's ``node_peers``.

Events go through the real :class:`~lagrace.recorder.Recorder`, and operations are the real
client's calls (:mod:`lagrace.api.calls`), recorded by the same
:func:`~lagrace.api.calls.record_invoke`: an invoke here has the typed ``args`` and the request
text a run writes::

    b = HistoryBuilder(node_peers={1: 101, 2: 102, 3: 103})
    b.run_start(0, existing="existing", new=["new_1"], target_node=2)
    op = b.invoke(10, upsert("existing", 8), worker="hammer-0", node=1)
    b.complete(op, 25, outcome="fail", status=500, error="boom")
    b.log(30, node=2, level="WARN", target=TARGET_CONSENSUS_MANAGER, message="...")
    history = b.build()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lagrace.analysis import logtexts
from lagrace.api import calls
from lagrace.api.calls import Call, record_invoke
from lagrace.clock import ManualClock
from lagrace.events import (
    OBS_CLUSTER,
    OBS_COLLECTION_CLUSTER,
    OBS_LOG,
    Complete,
    Invoke,
    JsonObject,
    Mark,
    Observe,
    Outcome,
)
from lagrace.history import History
from lagrace.recorder import Recorder
from lagrace.timebase import NS_PER_MS


def ms(t_ms: float) -> int:
    """Milliseconds to run-axis nanoseconds."""
    return round(t_ms * NS_PER_MS)


def upsert(
    collection: str, points: int = 8, *, wait: bool = False, ordering: str | None = None
) -> Call:
    """The client's upsert of ``points`` points into ``collection`` (placeholder vectors)."""
    body = [{"id": i, "vector": [0.0]} for i in range(points)]
    return calls.upsert_points(collection, body, wait=wait, ordering=ordering)


def create(name: str, shards: int = 3, replication_factor: int = 3) -> Call:
    """The client's create of ``name`` with this shape."""
    body = {
        "vectors": {"size": 4, "distance": "Cosine"},
        "shard_number": shards,
        "replication_factor": replication_factor,
    }
    return calls.create_collection(name, body, timeout_s=10)


class _BuilderClock(ManualClock):
    """A manual clock set to each event's time; backwards too when not ``strict``."""

    __slots__ = ("strict",)

    def __init__(self, *, strict: bool) -> None:
        super().__init__()
        self.strict = strict

    def set(self, t_ns: int) -> None:
        """Jump to ``t_ns``; earlier than now is a :class:`ValueError` only when strict."""
        if self.strict:
            super().set(t_ns)
        else:
            self._now = t_ns


class HistoryBuilder:
    """Records events through a :class:`Recorder`; :meth:`build` returns the :class:`History`."""

    def __init__(
        self, node_peers: Mapping[int, int] | None = None, *, strict_time: bool = True
    ) -> None:
        self.node_peers = dict(node_peers or {})
        self._clock = _BuilderClock(strict=strict_time)
        self._recorder = Recorder(self._clock)

    @property
    def strict_time(self) -> bool:
        """Whether time may not go backwards."""
        return self._clock.strict

    def _at(self, t_ms: float) -> Recorder:
        self._clock.set(ms(t_ms))
        return self._recorder

    def _peer(self, node: int | None, peer_id: int | None) -> int | None:
        if peer_id is not None or node is None:
            return peer_id
        return self.node_peers.get(node)

    def build(self) -> History:
        """The history so far."""
        return self._recorder.history()

    # --- raw events -------------------------------------------------------------------------

    def invoke(
        self,
        t_ms: float,
        call: Call,
        *,
        worker: str = "setup",
        node: int | None = 1,
        peer_id: int | None = None,
        intended_ms: float | None = None,
    ) -> Invoke:
        """``call`` sent to ``node``, recorded as the client records it."""
        return record_invoke(
            self._at(t_ms),
            call,
            worker=worker,
            node=node,
            peer_id=self._peer(node, peer_id),
            intended_ns=None if intended_ms is None else ms(intended_ms),
        )

    def complete(
        self,
        invoke: Invoke,
        t_ms: float,
        *,
        outcome: Outcome | str = Outcome.OK,
        status: int | None = None,
        error: str | None = None,
        response: str | None = None,
    ) -> Complete:
        """The completion of ``invoke``."""
        return self._at(t_ms).complete(
            invoke, outcome=Outcome(outcome), status=status, error=error, response=response
        )

    def operation(
        self,
        t_ms: float,
        done_ms: float | None,
        call: Call,
        *,
        worker: str = "setup",
        node: int | None = 1,
        outcome: Outcome | str = Outcome.OK,
        status: int | None = None,
        error: str | None = None,
    ) -> Invoke:
        """An invoke and (unless ``done_ms`` is None) its completion right after."""
        inv = self.invoke(t_ms, call, worker=worker, node=node)
        if done_ms is not None:
            self.complete(inv, done_ms, outcome=outcome, status=status, error=error)
        return inv

    def poll(
        self,
        t_ms: float,
        *,
        node: int,
        status: int | None = None,
        error: str | None = None,
        call: Call | None = None,
    ) -> Complete:
        """A 5 ms poll of ``node`` (``GET /cluster`` unless ``call``) completing at ``t_ms``:
        answered ``status`` (ok), else a ``fail`` with no status and ``error``
        (``REFUSED_EXAMPLE``: nothing listened)."""
        invoke = self.invoke(
            t_ms - 5, call or calls.cluster(), worker=f"watch-cluster-{node}", node=node
        )
        if status is not None:
            return self.complete(invoke, t_ms, outcome="ok", status=status)
        return self.complete(invoke, t_ms, outcome="fail", error=error)

    def observe(
        self,
        t_ms: float,
        kind: str,
        *,
        node: int | None,
        data: JsonObject,
        peer_id: int | None = None,
    ) -> Observe:
        """Any observation."""
        return self._at(t_ms).observe(kind, node=node, peer_id=self._peer(node, peer_id), data=data)

    def mark(self, t_ms: float, name: str, data: JsonObject | None = None) -> Mark:
        """Any mark."""
        return self._at(t_ms).mark(name, data)

    # --- observations -----------------------------------------------------------------------

    def log(
        self,
        t_ms: float,
        *,
        node: int,
        message: str,
        level: str = "WARN",
        target: str = logtexts.TARGET_CONSENSUS_MANAGER,
        at_ms: float | None = None,
        lineno: int | None = None,
    ) -> Observe:
        """A parsed server log line of ``node``; its server time ``at_ms`` defaults to ``t_ms``."""
        data: JsonObject = {
            "at_ns": ms(t_ms if at_ms is None else at_ms),
            "level": level,
            "target": target,
            "message": message,
        }
        if lineno is not None:
            data["lineno"] = lineno
        return self.observe(t_ms, OBS_LOG, node=node, data=data)

    def cluster(
        self,
        t_ms: float,
        *,
        node: int,
        commit: int,
        term: int = 1,
        leader: int | None = None,
        role: str | None = "Follower",
        pending_operations: int = 0,
        last_update_ms: float | None = None,
        last_update_age_ms: float | None = 0.0,
        send_failures: Mapping[str, int] | None = None,
    ) -> Observe:
        """A ``cluster`` snapshot of ``node`` (``stalled`` = age > 1000 ms, as the watcher)."""
        data: JsonObject = {
            "term": term,
            "commit": commit,
            "pending_operations": pending_operations,
            "leader": leader,
            "role": role,
            "is_voter": True,
            "thread_status": "working",
            "last_update_ns": None if last_update_ms is None else ms(last_update_ms),
            "last_update_age_ms": last_update_age_ms,
            "stalled": last_update_age_ms is not None and last_update_age_ms > 1000,
            "send_failures": dict(send_failures or {}),
        }
        return self.observe(t_ms, OBS_CLUSTER, node=node, data=data)

    def collection_cluster(
        self,
        t_ms: float,
        *,
        node: int,
        collection: str,
        replicas: Iterable[tuple[int, int, str]] | None,
        transfers: Sequence[tuple[int, int, int]] = (),
    ) -> Observe:
        """A ``collection_cluster`` snapshot; ``replicas=None`` records ``visible: false`` (404)."""
        data: JsonObject
        if replicas is None:
            data = {"collection": collection, "visible": False, "status": 404}
        else:
            data = {
                "collection": collection,
                "visible": True,
                "replicas": sorted([s, p, st] for s, p, st in replicas),
                "transfers": [list(t) for t in transfers],
            }
        return self.observe(t_ms, OBS_COLLECTION_CLUSTER, node=node, data=data)

    # --- marks ------------------------------------------------------------------------------

    def run_start(
        self,
        t_ms: float,
        *,
        existing: str = "existing",
        new: Sequence[str] = (),
        target_node: int | None = None,
        target_peer: int | None = None,
        run_id: str = "abc123",
        scenario: str = "consensus-lag",
        p2p_uris: Mapping[int, str] | None = None,
    ) -> Mark:
        """The ``run_start`` mark; ``nodes`` from ``node_peers`` (and ``p2p_uri`` if given)."""
        nodes: list[dict[str, Any]] = []
        for node, peer in sorted(self.node_peers.items()):
            entry: dict[str, Any] = {
                "node": node,
                "url": f"http://127.0.0.1:{6330 + node}",
                "peer_id": peer,
            }
            if p2p_uris and node in p2p_uris:
                entry["p2p_uri"] = p2p_uris[node]
            nodes.append(entry)
        if target_peer is None and target_node is not None:
            target_peer = self.node_peers.get(target_node)
        data: JsonObject = {
            "run_id": run_id,
            "scenario": scenario,
            "target_node": target_node,
            "target_peer": target_peer,
            "existing_collection": existing,
            "new_collections": list(new),
            "nodes": nodes,
        }
        return self.mark(t_ms, "run_start", data)

    def phase(self, t_ms: float, phase: str) -> Mark:
        """A ``phase`` mark."""
        return self.mark(t_ms, "phase", {"phase": phase})

    def converged(self, t_ms: float) -> Mark:
        """The ``converged`` mark."""
        return self.mark(t_ms, "converged")

    def run_end(self, t_ms: float, reason: str = "converged", detail: str | None = None) -> Mark:
        """The ``run_end`` mark."""
        data: JsonObject = {"reason": reason}
        if detail is not None:
            data["detail"] = detail
        return self.mark(t_ms, "run_end", data)


EXAMPLE_NODE_PEERS: dict[int, int] = {1: 101, 2: 102, 3: 103}
EXAMPLE_EXISTING = "existing_collection"
EXAMPLE_NEW = "new_abc123_0"


def _all_active(shards: int = 3) -> list[tuple[int, int, str]]:
    return [(s, p, "Active") for s in range(shards) for p in EXAMPLE_NODE_PEERS.values()]


REFUSED_EXAMPLE = (
    "ClientConnectorError: Cannot connect to host 127.0.0.1:6343 ssl:default "
    "[Connect call failed ('127.0.0.1', 6343)]"
)


def example_run(
    *,
    reproduce: bool = True,
    lag: bool = True,
    converge: bool = True,
    converged_mark: bool = True,
    end_reason: str = "converged",
    peer_down: bool = False,
) -> History:
    """A canned, literal three-node run of the scenario (target node 2, peer 102).

    ``reproduce``: a write fails on node 1, replica 102 of ``existing_collection`` shard 0 goes
    Dead (then Partial, Active) in nodes 1 and 3's views, and all three nodes log the
    ``dead_expected_active`` WARN. ``lag``: node 2 sleeps 5 s (else it keeps pace).
    ``converge``: all nodes end on the same commit (else node 2 ends one entry behind and
    replica 102 stays non-Active when reproducing). ``converged_mark``: the driver's mark is
    recorded (else convergence must be derived). ``peer_down``: node 2 refuses connections at
    2.95 s and 3.35 s (it answered at 2.9 s and answers again at 3.9 s), around the evidence
    of ``reproduce``.
    """
    b = HistoryBuilder(EXAMPLE_NODE_PEERS)
    b.run_start(0, existing=EXAMPLE_EXISTING, new=[EXAMPLE_NEW], target_node=2)
    b.phase(1, "setup")
    for node in (1, 2, 3):
        b.collection_cluster(10, node=node, collection=EXAMPLE_EXISTING, replicas=_all_active())
    for node in (1, 2, 3):
        b.cluster(20, node=node, commit=10, leader=101, role="Leader" if node == 1 else "Follower")
    b.phase(1000, "race")
    slow_down = calls.slow_down(EXAMPLE_EXISTING, peer_id=102, duration_s=5.0, timeout_s=10)
    slow = b.invoke(1000, slow_down, worker="lag-0", node=1)
    b.complete(slow, 1040, outcome="ok", status=200, response="true")
    if lag:
        b.log(
            1060,
            node=2,
            level="DEBUG",
            target=logtexts.TARGET_STAGING,
            message=logtexts.format_slow_down_sleeping(5000, 102),
            at_ms=1050,
        )
    create_new = b.invoke(1100, create(EXAMPLE_NEW), worker="burst-0", node=1)
    for node in (1, 3) if lag else (1, 2, 3):
        b.log(
            1130,
            node=node,
            level="INFO",
            target=logtexts.TARGET_META_OPS,
            message=logtexts.format_creating_collection(EXAMPLE_NEW),
            at_ms=1120,
        )
    for node in (1, 3):
        b.cluster(
            1200, node=node, commit=21, leader=101, role="Leader" if node == 1 else "Follower"
        )
    for node in (1, 3):
        b.collection_cluster(
            1250,
            node=node,
            collection=EXAMPLE_NEW,
            replicas=[
                (s, p, "Active" if (p != 102 or not lag) else "Initializing")
                for s in range(3)
                for p in EXAMPLE_NODE_PEERS.values()
            ],
        )
    if lag:
        b.collection_cluster(1260, node=2, collection=EXAMPLE_NEW, replicas=None)
        b.cluster(2200, node=2, commit=11, leader=101, last_update_age_ms=1150.0)
    else:
        b.cluster(1255, node=2, commit=21, leader=101)
        b.collection_cluster(
            1260,
            node=2,
            collection=EXAMPLE_NEW,
            replicas=[(s, p, "Active") for s in range(3) for p in EXAMPLE_NODE_PEERS.values()],
        )
    b.operation(
        2500, 2510, upsert(EXAMPLE_EXISTING, 64, wait=True), worker="hammer-0", node=1, status=200
    )
    if peer_down:
        b.poll(2900, node=2, status=200)
        b.poll(2950, node=2, error=REFUSED_EXAMPLE)
    if reproduce:
        failing = b.invoke(3000, upsert(EXAMPLE_EXISTING, 64, wait=True), worker="hammer-0", node=1)
        b.log(
            3050,
            node=1,
            target=logtexts.TARGET_REPLICA_UPDATE,
            message=logtexts.format_failed_update_shard(
                EXAMPLE_EXISTING, 0, 102, "No target shard 0 found for update"
            ),
        )
        for node in (1, 3):
            b.log(
                3100,
                node=node,
                level="DEBUG",
                target=logtexts.TARGET_META_OPS,
                message=logtexts.format_set_replica_state(
                    EXAMPLE_EXISTING, 0, 102, "Dead", "Active"
                ),
            )
        dead = [(s, p, "Dead" if (s, p) == (0, 102) else "Active") for s, p, _ in _all_active()]
        for node in (1, 3):
            b.collection_cluster(3200, node=node, collection=EXAMPLE_EXISTING, replicas=dead)
        for node in (1, 3):
            b.log(
                3300,
                node=node,
                level="DEBUG",
                target=logtexts.TARGET_META_OPS,
                message=logtexts.format_set_replica_state(
                    EXAMPLE_EXISTING, 0, 102, "Dead", "Active"
                ),
            )
            b.log(3300, node=node, message=logtexts.format_dead_expected_active(102, 0))
    if peer_down:
        b.poll(3350, node=2, error=REFUSED_EXAMPLE)
    if reproduce:
        b.complete(
            failing,
            3400,
            outcome="info",
            status=500,
            error="Some replica of shard 0 failed to apply operation",
        )
    if peer_down:
        b.poll(3900, node=2, status=200)
    b.complete(create_new, 4000, outcome="ok", status=200, response="true")
    if lag:
        b.log(
            6110,
            node=2,
            level="DEBUG",
            target=logtexts.TARGET_STAGING,
            message=logtexts.format_slow_down_finished(102),
            at_ms=6050,
        )
        b.log(
            6120,
            node=2,
            level="INFO",
            target=logtexts.TARGET_META_OPS,
            message=logtexts.format_creating_collection(EXAMPLE_NEW),
            at_ms=6060,
        )
        b.collection_cluster(
            6200,
            node=2,
            collection=EXAMPLE_NEW,
            replicas=[(s, p, "Active") for s in range(3) for p in EXAMPLE_NODE_PEERS.values()],
        )
        if reproduce:
            b.log(
                6210,
                node=2,
                level="DEBUG",
                target=logtexts.TARGET_META_OPS,
                message=logtexts.format_set_replica_state(
                    EXAMPLE_EXISTING, 0, 102, "Dead", "Active"
                ),
                at_ms=6070,
            )
            b.log(6210, node=2, message=logtexts.format_dead_expected_active(102, 0), at_ms=6071)
        for node in (1, 3):
            b.collection_cluster(
                6300,
                node=node,
                collection=EXAMPLE_NEW,
                replicas=[(s, p, "Active") for s in range(3) for p in EXAMPLE_NODE_PEERS.values()],
            )
    b.phase(7000, "settle")
    final_state = "Active" if converge else "Dead"
    if reproduce:
        partial = [
            (s, p, "Partial" if (s, p) == (0, 102) else "Active") for s, p, _ in _all_active()
        ]
        for node in (1, 3):
            b.collection_cluster(7500, node=node, collection=EXAMPLE_EXISTING, replicas=partial)
        healed = [
            (s, p, final_state if (s, p) == (0, 102) else "Active") for s, p, _ in _all_active()
        ]
        for node in (1, 3):
            b.collection_cluster(8000, node=node, collection=EXAMPLE_EXISTING, replicas=healed)
        if not converge:
            b.collection_cluster(8000, node=2, collection=EXAMPLE_EXISTING, replicas=healed)
    for node in (1, 2, 3):
        commit = 24 if (node == 2 and not converge) else 25
        b.cluster(
            8500, node=node, commit=commit, leader=101, role="Leader" if node == 1 else "Follower"
        )
    if converge and converged_mark:
        b.converged(8600)
    b.phase(9000, "cleanup")
    for node in (1, 2, 3):
        b.collection_cluster(9100, node=node, collection=EXAMPLE_NEW, replicas=None)
    b.phase(9500, "done")
    b.run_end(9600, end_reason)
    return b.build()
