"""Realistic run directories for the report tests, written with the real Recorder and JsonlSink.

* :func:`write_race_run` — the race reproduced: a 5 s slow-down of node 2 (peer 2002), a
  collection created during it, replicas of ``existing_collection`` going Dead, Partial, Active,
  the two symptom WARNs (one with markup in it), failed and unknown upserts, a probe error.
* :func:`write_clean_run` — the same shape, nothing disrupted, and no ``TestSlowDown`` log
  lines (so the slow-down window is derived from the ``test_slow_down`` operation).
* :func:`write_partial_run` — interrupted: no ``findings.json`` and a torn last history line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lagrace.analysis.findings import (
    Disruption,
    Findings,
    PeerLag,
    SignatureHit,
    TimelineEntry,
    Verdict,
    WriteFailure,
    WriteSummary,
    findings_to_json,
)
from lagrace.api import calls
from lagrace.api.calls import Call, record_invoke
from lagrace.clock import ManualClock
from lagrace.events import OBS_CLUSTER, OBS_COLLECTION_CLUSTER, OBS_LOG, OBS_PROBE_ERROR, Outcome
from lagrace.recorder import JsonlSink, Recorder
from lagrace.timebase import NS_PER_MS, NS_PER_S

ANCHOR_UNIX_NS: Final = 1_795_000_000 * NS_PER_S
NODES: Final = {1: 1001, 2: 2002, 3: 3003}
EXISTING: Final = "existing_collection"
RUN_ID: Final = "a1b2c3"
NEW: Final = (f"lagrace_{RUN_ID}_0", f"lagrace_{RUN_ID}_1")
EVIL_WARN: Final = (
    "Failed to update shard existing_collection:1 on peer 2002, error: Service internal error: "
    "<script>alert('x')</script> & \"quoted\""
)
DEAD_WARN: Final = (
    "Failed to apply collection meta operation entry with user error: Wrong input: "
    "Replica 2002 of shard 1 has state Some(Dead), but expected Some(Active)"
)
LAST_WARN: Final = (
    "Failed to apply collection meta operation entry with user error: Wrong input: "
    "Cannot deactivate the last active replica 3003 of shard 1"
)
CONSENSUS_TARGET: Final = "storage::content_manager::consensus_manager"
CREATE_BODY: Final = {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 3,
                      "replication_factor": 3}  # fmt: skip
POINTS: Final = [{"id": i, "vector": [0.1, 0.2, 0.3, 0.4]} for i in range(8)]


def s(seconds: float) -> int:
    """Seconds to run-axis nanoseconds."""
    return round(seconds * NS_PER_S)


@dataclass
class Script:
    """Actions on a Recorder at given instants, replayed in time order on a ManualClock."""

    actions: list[tuple[int, int, Callable[[Recorder], None]]] = field(default_factory=list)

    def at(self, t_ns: int, action: Callable[[Recorder], None]) -> None:
        """Run ``action`` when the clock reads ``t_ns``."""
        self.actions.append((t_ns, len(self.actions), action))

    def op(
        self,
        t_ns: int,
        latency_ns: int | None,
        *,
        worker: str,
        call: Call,
        node: int,
        outcome: Outcome = Outcome.OK,
        status: int | None = 200,
        error: str | None = None,
        response: str | None = None,
    ) -> None:
        """An operation invoked at ``t_ns`` and completed ``latency_ns`` later (never if None)."""
        box: dict[str, Any] = {}

        def invoke(rec: Recorder) -> None:
            box["inv"] = record_invoke(rec, call, worker=worker, node=node, peer_id=NODES[node])

        def complete(rec: Recorder) -> None:
            rec.complete(box["inv"], outcome=outcome, status=status, error=error, response=response)

        self.at(t_ns, invoke)
        if latency_ns is not None:
            self.at(t_ns + latency_ns, complete)

    def observe(self, t_ns: int, kind: str, node: int, data: dict[str, Any]) -> None:
        """An observation of ``node`` at ``t_ns``."""
        self.at(t_ns, lambda rec: _observe(rec, kind, node, data))

    def log(self, t_ns: int, node: int, level: str, target: str, message: str) -> None:
        """A parsed server log line of ``node`` stamped (and recorded 20 ms later) at ``t_ns``."""
        data = {"at_ns": t_ns, "level": level, "target": target, "message": message, "lineno": 1}
        self.observe(t_ns + 20 * NS_PER_MS, OBS_LOG, node, data)

    def mark(self, t_ns: int, name: str, data: dict[str, Any] | None = None) -> None:
        """A driver mark at ``t_ns``."""
        self.at(t_ns, lambda rec: _mark(rec, name, data))

    def replay(self, path: Path, *, torn_tail: bool = False) -> None:
        """Write ``path`` (history.jsonl) by replaying every action in time order."""
        clock = ManualClock(anchor_unix_ns=ANCHOR_UNIX_NS)
        recorder = Recorder(clock, JsonlSink(path))
        for t_ns, _, action in sorted(self.actions, key=lambda a: (a[0], a[1])):
            clock.set(max(t_ns, clock.now_ns()))
            action(recorder)
        recorder.close()
        if torn_tail:
            with path.open("a", encoding="utf-8") as fh:
                fh.write('{"index": 99999, "t_ns": 1, "ty')


def _observe(rec: Recorder, kind: str, node: int, data: dict[str, Any]) -> None:
    rec.observe(kind, node=node, peer_id=NODES[node], data=data)


def _mark(rec: Recorder, name: str, data: dict[str, Any] | None) -> None:
    rec.mark(name, data)


def _replicas(states: dict[tuple[int, int], str] | None = None) -> list[list[Any]]:
    states = states or {}
    return [
        [shard, peer, states.get((shard, peer), "Active")]
        for shard in range(3)
        for peer in sorted(NODES.values())
    ]


def _config(status: str, duration_s: float) -> dict[str, Any]:
    return {
        "run_id": RUN_ID,
        "scenario": "consensus-lag",
        "seed": 1234,
        "status": status,
        "anchor_unix_ns": ANCHOR_UNIX_NS,
        "anchor": "2026-11-18T07:33:20.000000000Z",
        "started": "2026-11-18T07:33:20Z",
        "ended": None if status == "running" else f"+{duration_s}s",
        "versions": {"lagrace": "0.1.0", "python": "3.11.2", "qdrant": {"1": "1.18.3"}},
        "nodes": [
            {"node": n, "url": f"http://127.0.0.1:{6332 + n}", "peer_id": p, "log": None}
            for n, p in NODES.items()
        ],
        "target": {"node": 2, "peer_id": NODES[2]},
        "sim": {"mode": "buggy", "seed": 1},
        "config": {"slow_down_s": 5.0, "creates": 2},
    }


def _common(script: Script, *, race: bool, slow_down_logs: bool) -> None:
    """Setup, watchers, the slow-down, the creates and the upserts; ``race`` adds the damage."""
    script.mark(0, "run_start", {
        "run_id": RUN_ID, "scenario": "consensus-lag", "target_node": 2, "target_peer": NODES[2],
        "existing_collection": EXISTING, "new_collections": list(NEW),
        "nodes": [{"node": n, "url": f"http://127.0.0.1:{6332 + n}", "peer_id": p}
                  for n, p in NODES.items()],
    })  # fmt: skip
    script.mark(0, "phase", {"phase": "setup"})
    script.op(s(0.1), s(0.3), worker="setup", node=1,
              call=calls.create_collection(EXISTING, CREATE_BODY, timeout_s=10))  # fmt: skip
    for n in NODES:
        script.observe(s(0.5) + n, OBS_COLLECTION_CLUSTER, n,
                       {"collection": EXISTING, "visible": True, "replicas": _replicas(),
                        "transfers": []})  # fmt: skip
    script.mark(s(1), "phase", {"phase": "race"})
    # Cluster watchers: commits advance by 1 per 0.5 s; node 2's freezes while it sleeps.
    for step in range(33):
        t = s(0.5 * step)
        for n in NODES:
            frozen = n == 2 and s(5.0) <= t < s(10.0)
            commit = 10 + (10 if frozen else step) if n == 2 else 10 + step
            script.observe(t + n, OBS_CLUSTER, n, {
                "term": 2, "commit": commit, "pending_operations": 1 if frozen else 0,
                "leader": NODES[1], "role": "Leader" if n == 1 else "Follower", "is_voter": True,
                "thread_status": "working", "last_update_ns": t,
                "last_update_age_ms": 900.0 if frozen else 12.5, "stalled": frozen,
                "send_failures": {},
            })  # fmt: skip
    slow_down = calls.slow_down(EXISTING, peer_id=NODES[2], duration_s=5, timeout_s=10)
    script.op(s(5.0), s(0.02), worker="lag-0", node=1, call=slow_down)
    if slow_down_logs:
        staging = "storage::content_manager::staging"
        script.log(s(5.03), 2, "DEBUG", staging,
                   f"TestSlowDown: sleeping for 5000ms on peer {NODES[2]}")  # fmt: skip
        script.log(s(10.03), 2, "DEBUG", staging,
                   f"TestSlowDown: finished sleeping on peer {NODES[2]}")  # fmt: skip
    # Two creates during the lag; node 2 sees them only after it wakes up.
    for i, name in enumerate(NEW):
        t0 = s(5.5 + i)
        script.op(t0, s(0.3), worker="burst-0", node=1,
                  call=calls.create_collection(name, CREATE_BODY, timeout_s=10))  # fmt: skip
        script.log(t0 + s(0.1), 1, "INFO", "storage::content_manager::toc",
                   f"Creating collection {name}")  # fmt: skip
        init = {(sh, p): "Initializing" for sh in range(3) for p in NODES.values()}
        script.observe(t0 + s(0.35), OBS_COLLECTION_CLUSTER, 2,
                       {"collection": name, "visible": False, "status": 404})  # fmt: skip
        for n, seen in ((1, s(0.4)), (3, s(0.5)), (2, s(5.0 - i))):
            script.observe(t0 + seen, OBS_COLLECTION_CLUSTER, n,
                           {"collection": name, "visible": True, "replicas": _replicas(init),
                            "transfers": []})  # fmt: skip
            script.observe(t0 + seen + s(0.6), OBS_COLLECTION_CLUSTER, n,
                           {"collection": name, "visible": True, "replicas": _replicas(),
                            "transfers": []})  # fmt: skip
    # Upserts every 100 ms round-robin over the nodes.
    for k in range(140):
        t = s(1.0 + 0.1 * k)
        node = 1 + k % 3
        upsert = calls.upsert_points(EXISTING, POINTS, wait=True)
        if race and s(10.2) <= t < s(11.0) and node == 2:
            script.op(t, s(2.0), worker="hammer-0", call=upsert, node=node,
                      outcome=Outcome.INFO, status=None, error="timeout after 2.0 s")  # fmt: skip
        elif race and s(10.2) <= t < s(12.0) and node == 3:
            script.op(t, s(0.04), worker="hammer-0", call=upsert, node=node,
                      outcome=Outcome.FAIL, status=400,
                      error="Bad request: No target shard 1 found for update")  # fmt: skip
        else:
            latency = s(0.005 + 0.001 * (k % 4)) + (s(0.03) if node == 2 and s(5) <= t else 0)
            script.op(t, latency, worker="hammer-0", call=upsert, node=node,
                      response="completed")  # fmt: skip
    if race:
        _damage(script)
    script.mark(s(14.0), "converged", {})
    script.mark(s(14.5), "phase", {"phase": "done"})
    script.mark(s(15.5), "run_end", {"reason": "converged"})


def _damage(script: Script) -> None:
    """existing_collection's replica 2002 of shard 1 goes Dead, Partial, Active; the WARNs."""
    update = "collection::shards::replica_set::update"
    script.log(s(10.3), 1, "WARN", update, EVIL_WARN)
    for n, delay in ((1, 0.0), (3, 0.05), (2, 0.2)):
        for state, t in (("Dead", 10.4), ("Partial", 11.5), ("Active", 13.0)):
            script.observe(s(t + delay) + n, OBS_COLLECTION_CLUSTER, n, {
                "collection": EXISTING, "visible": True,
                "replicas": _replicas({(1, NODES[2]): state}),
                "transfers": [[1, NODES[1], NODES[2]]] if state == "Partial" else [],
            })  # fmt: skip
    script.log(s(10.5), 1, "WARN", CONSENSUS_TARGET, DEAD_WARN)
    script.log(s(10.7), 2, "WARN", CONSENSUS_TARGET, DEAD_WARN)
    script.log(s(10.8), 3, "WARN", CONSENSUS_TARGET, LAST_WARN)
    script.observe(s(7.0), OBS_PROBE_ERROR, 2,
                   {"probe": "collection_cluster", "collection": EXISTING,
                    "error": "timeout after 1 s"})  # fmt: skip
    recovered = {"probe": "collection_cluster", "collection": EXISTING, "recovered": True}
    script.observe(s(10.2), OBS_PROBE_ERROR, 2, recovered)


def _race_findings() -> Findings:
    hits = (
        *(
            SignatureHit(
                "dead_expected_active", n, NODES[n], s(t), DEAD_WARN, NODES[2], 1, EXISTING
            )
            for n, t in ((1, 10.5), (2, 10.7))
        ),
        SignatureHit("last_active_replica", 3, NODES[3], s(10.8), LAST_WARN, NODES[3], 1),
    )
    disruptions = tuple(
        Disruption(EXISTING, 1, NODES[2], n, NODES[n], "Dead", ("Dead", "Partial"),
                   s(10.4 + d), s(13.0 + d))
        for n, d in ((1, 0.0), (3, 0.05), (2, 0.2))
    )  # fmt: skip
    failures = tuple(
        WriteFailure(k, "hammer-0", 3, s(10.2), s(10.24), "fail", 400, "No target shard 1")
        for k in range(4)
    )
    return Findings(
        verdict=Verdict.REPRODUCED,
        reasons=(
            "replica 2002 of shard 1 of existing_collection left Active (Dead) on 3 peers",
            "2 'Some(Dead), but expected Some(Active)' WARNs, 1 'last active replica' WARN",
        ),
        signatures=hits,
        disruptions=disruptions,
        writes=WriteSummary(total=140, ok=132, fail=6, info=2, failures=failures),
        lag=(PeerLag(2, NODES[2], 10, 900.0, 3, s(5.03), s(10.03), stalled=True),),
        lag_took_hold=True,
        converged=True,
        timeline=(TimelineEntry(s(5.03), 2, NODES[2], "slow_down", "node 2 sleeps 5000 ms"),),
        first_disruption_ns=s(10.4),
    )


def _clean_findings() -> Findings:
    return Findings(
        verdict=Verdict.NOT_REPRODUCED,
        reasons=("the lag took hold on node 2, no replica of existing_collection left Active",),
        writes=WriteSummary(total=140, ok=140, fail=0, info=0),
        lag=(PeerLag(2, NODES[2], 10, 900.0, 0, stalled=True),),
        lag_took_hold=True,
        converged=True,
    )


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2), encoding="utf-8")


def write_race_run(run_dir: Path) -> Path:
    """A run directory in which the race was reproduced."""
    run_dir.mkdir(parents=True, exist_ok=True)
    script = Script()
    _common(script, race=True, slow_down_logs=True)
    script.replay(run_dir / "history.jsonl")
    _write_json(run_dir / "config.json", _config("complete", 15.5))
    _write_json(run_dir / "findings.json", findings_to_json(_race_findings()))
    return run_dir


def write_clean_run(run_dir: Path) -> Path:
    """A run directory with a slow-down but no disruption, and no TestSlowDown log lines."""
    run_dir.mkdir(parents=True, exist_ok=True)
    script = Script()
    _common(script, race=False, slow_down_logs=False)
    script.replay(run_dir / "history.jsonl")
    _write_json(run_dir / "config.json", _config("complete", 15.5))
    _write_json(run_dir / "findings.json", findings_to_json(_clean_findings()))
    return run_dir


def write_partial_run(run_dir: Path) -> Path:
    """An interrupted run: no findings.json, a torn last history line, status interrupted."""
    run_dir.mkdir(parents=True, exist_ok=True)
    script = Script()
    _common(script, race=True, slow_down_logs=True)
    script.actions = [a for a in script.actions if a[0] < s(11.0)]
    script.replay(run_dir / "history.jsonl", torn_tail=True)
    _write_json(run_dir / "config.json", _config("interrupted", 11.0))
    return run_dir
