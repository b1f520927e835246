"""Tests for lagrace.report.trace against a checker of the trace-event format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lagrace.report.rundir import load_model
from lagrace.report.trace import WORKERS_PID, format_trace
from tests.report.fixtures import EXISTING, NODES
from tests.report.tracecheck import check_trace


@pytest.fixture(scope="module")
def race_trace(race_dir: Path) -> dict[str, Any]:
    """The trace of the reproduced race."""
    return format_trace(load_model(race_dir))


@pytest.mark.parametrize("which", ["race_dir", "clean_dir", "partial_dir"])
def test_traces_pass_the_checker(which: str, request: pytest.FixtureRequest) -> None:
    """Every run's trace is a valid, sorted trace-event object with pid/tid metadata."""
    trace = format_trace(load_model(request.getfixturevalue(which)))
    assert check_trace(trace) == []
    assert trace["displayTimeUnit"] == "ms"


def test_checker_catches_broken_traces() -> None:
    """The checker is not a rubber stamp: unsorted ts, negative dur, unnamed tracks fail."""
    trace = {
        "displayTimeUnit": "ms",
        "traceEvents": [
            {"name": "a", "ph": "X", "ts": 5.0, "dur": -1, "pid": 1, "tid": 1},
            {"name": "b", "ph": "i", "ts": 1.0, "pid": 1, "tid": 1, "s": "x"},
            {"name": "c", "ph": "Q", "pid": 1, "tid": 1},
        ],
    }
    problems = "\n".join(check_trace(trace))
    for fragment in ("dur -1", "not sorted", "instant scope", "bad or missing ph", "missing ts",
                     "no process_name", "no thread_name"):  # fmt: skip
        assert fragment in problems


def _named(trace: dict[str, Any], what: str) -> dict[tuple[int, int], str]:
    return {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == what
    }


def test_one_process_per_peer_and_one_for_workers(race_trace: dict[str, Any]) -> None:
    """Peers are pids 1..3 (the target says so), workers share one process, a track each."""
    processes = _named(race_trace, "process_name")
    assert processes[(2, 0)] == f"node 2 (peer {NODES[2]}) target"
    assert processes[(WORKERS_PID, 0)] == "workers"
    threads = _named(race_trace, "thread_name")
    worker_threads = {name for (pid, _), name in threads.items() if pid == WORKERS_PID}
    assert {"setup", "lag-0", "burst-0", "hammer-0", "driver"} <= worker_threads
    assert threads[(1, 10)] == EXISTING


def test_slow_down_and_replica_state_slices(race_trace: dict[str, Any]) -> None:
    """The slow-down is an X slice on node 2; replica periods are slices in µs."""
    events = race_trace["traceEvents"]
    (slow,) = [e for e in events if e.get("cat") == "slow_down"]
    assert (slow["pid"], slow["ts"], slow["dur"]) == (2, 5_030_000.0, 5_000_000.0)
    dead = [e for e in events if e.get("cat") == "replica_state" and e["name"] == "Dead"]
    assert sorted(e["pid"] for e in dead) == [1, 2, 3]
    node1 = next(e for e in dead if e["pid"] == 1)
    assert node1["ts"] == 10_400_000.001
    assert node1["dur"] == 1_100_000.0
    assert node1["args"]["replicas"] == f"shard 1 peer {NODES[2]}: Dead"


def test_operations_and_warn_instants(race_trace: dict[str, Any]) -> None:
    """Every operation is an X event with its outcome; WARN lines are thread instants."""
    events = race_trace["traceEvents"]
    ops = [e for e in events if e.get("cat", "").startswith("op.")]
    assert len(ops) == 140 + 3 + 1
    info = [e for e in ops if e["cat"] == "op.info"]
    assert len(info) == 2
    assert all(e["dur"] == 2_000_000.0 for e in info)
    warns = [e for e in events if e.get("cat") == "log.warn"]
    assert len(warns) == 4
    assert all(e["ph"] == "i" and e["s"] == "t" for e in warns)


def test_overlapping_operations_of_one_worker_get_their_own_tracks() -> None:
    """Open-loop ops that overlap go to '<worker> #k' threads so slices nest properly."""
    from lagrace.clock import ManualClock
    from lagrace.events import Outcome
    from lagrace.recorder import Recorder
    from lagrace.report.model import build_model

    clock = ManualClock()
    rec = Recorder(clock)
    first = rec.invoke(worker="hammer-0", op="upsert", node=1, peer_id=7, request="r")
    clock.advance(10)
    second = rec.invoke(worker="hammer-0", op="upsert", node=1, peer_id=7, request="r")
    clock.advance(10)
    rec.complete(first, outcome=Outcome.OK)
    rec.complete(second, outcome=Outcome.OK)
    trace = format_trace(build_model(rec.history(), {}, None))
    assert check_trace(trace) == []
    tids = {e["tid"] for e in trace["traceEvents"] if e["ph"] == "X"}
    assert len(tids) == 2
    assert set(_named(trace, "thread_name").values()) >= {"hammer-0", "hammer-0 #1"}
