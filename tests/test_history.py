"""Tests of the history: dense indices, JSONL round trip, torn tails, SIGKILL of a writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lagrace.clock import ManualClock
from lagrace.errors import HistoryError
from lagrace.events import (
    NO_ARGS,
    Complete,
    Invoke,
    OpArgs,
    Outcome,
    event_from_json,
    event_to_json,
)
from lagrace.history import read_history
from lagrace.recorder import JsonlSink, Recorder


def _record_some(recorder: Recorder, clock: ManualClock) -> None:
    recorder.mark("phase", {"phase": "race"})
    inv = recorder.invoke(worker="hammer-0", op="upsert", node=1, peer_id=11, request="x")
    clock.advance(1_000)
    recorder.observe("log", node=2, peer_id=22, data={"message": "m", "at_ns": 5})
    recorder.complete(inv, outcome=Outcome.FAIL, status=400, error="Wrong input: no")


def test_indices_are_dense_and_ops_pair(tmp_path: Path) -> None:
    """Every event gets the next index; an invoke pairs with its completion."""
    clock = ManualClock()
    recorder = Recorder(clock, JsonlSink(tmp_path / "h.jsonl"))
    _record_some(recorder, clock)
    recorder.close()
    history = recorder.history()
    assert [e.index for e in history] == [0, 1, 2, 3]
    (op,) = history.operations("upsert")
    assert op.outcome is Outcome.FAIL
    assert op.latency_ns == 1_000
    loaded = read_history(tmp_path / "h.jsonl")
    assert not loaded.torn_tail
    assert loaded.history == history


def test_event_json_roundtrip_leaves_out_nulls() -> None:
    """JSON form omits None fields and rebuilds the same event."""
    inv = Invoke(
        index=0, t_ns=1, op_id=0, worker="w", op="root", node=None, peer_id=None, request=""
    )
    obj = event_to_json(inv)
    assert "node" not in obj
    assert event_from_json(obj) == inv
    done = Complete(0, 2, 0, "w", "root", 1, 2, Outcome.INFO, error="timeout")
    assert event_from_json(json.loads(json.dumps(event_to_json(done)))) == done


def test_typed_args_round_trip_and_older_invokes_load() -> None:
    """An invoke's typed args survive JSON; an invoke written before them has empty args."""
    args = OpArgs(collection="c", wait=True, ordering="strong", points=8, params={"x": [1]})
    inv = Invoke(0, 1, 0, "hammer-0", "upsert", 1, 11, "PUT /collections/c/points", args=args)
    obj = json.loads(json.dumps(event_to_json(inv)))
    assert obj["args"] == {
        "collection": "c",
        "wait": True,
        "ordering": "strong",
        "points": 8,
        "params": {"x": [1]},
    }
    assert event_from_json(obj) == inv
    del obj["args"]
    older = event_from_json(obj)
    assert isinstance(older, Invoke)
    assert older.args == NO_ARGS
    assert "args" not in event_to_json(older)
    slow = event_from_json({**obj, "args": {"target_peer": 7, "duration_s": 5}})
    assert isinstance(slow, Invoke)
    assert slow.args == OpArgs(target_peer=7, duration_s=5.0)


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"collection": 3},
        {"wait": "yes"},
        {"duration_s": True},
        {"points": 1.5},
        {"params": [1]},
    ],
)
def test_malformed_args_are_history_errors(bad: object) -> None:
    """Typed args of the wrong type are a HistoryError, not a crash later."""
    obj = {"index": 0, "t_ns": 0, "type": "invoke", "op_id": 0, "worker": "w", "op": "o"}
    with pytest.raises(HistoryError):
        event_from_json({**obj, "args": bad})


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    """A partial last line is dropped and reported; complete events before it are kept."""
    clock = ManualClock()
    path = tmp_path / "h.jsonl"
    recorder = Recorder(clock, JsonlSink(path))
    _record_some(recorder, clock)
    recorder.close()
    with path.open("a") as fh:
        fh.write('{"index": 4, "t_ns": 9, "type": "ma')
    loaded = read_history(path)
    assert loaded.torn_tail
    assert len(loaded.history) == 4


def test_corruption_in_the_middle_is_an_error(tmp_path: Path) -> None:
    """Only the tail may be torn: a bad line in the middle raises HistoryError."""
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"index":0,"t_ns":0,"type":"mark","name":"a"}\nnot json\n'
        '{"index":1,"t_ns":0,"type":"mark","name":"b"}\n'
    )
    with pytest.raises(HistoryError, match=":2:"):
        read_history(path)


def test_gap_in_indices_is_an_error(tmp_path: Path) -> None:
    """A missing index means a lost event, which the reader refuses."""
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"index":0,"t_ns":0,"type":"mark","name":"a"}\n'
        '{"index":2,"t_ns":0,"type":"mark","name":"b"}\n'
    )
    with pytest.raises(HistoryError, match="index 2"):
        read_history(path)


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from lagrace.clock import SystemClock
    from lagrace.recorder import JsonlSink, Recorder, run_flusher

    async def main() -> None:
        recorder = Recorder(SystemClock(), JsonlSink(Path(sys.argv[1])))
        async with asyncio.TaskGroup() as tg:
            tg.create_task(run_flusher(recorder))
            i = 0
            while True:
                recorder.mark("tick", {"i": i, "pad": "x" * 200})
                i += 1
                if i % 50 == 0:
                    await asyncio.sleep(0.001)

    asyncio.run(main())
    """
)


@pytest.mark.timeout(60)
def test_sigkill_of_a_writer_loses_only_the_unflushed_tail(tmp_path: Path) -> None:
    """SIGKILL a process writing a history: the reader returns every complete event."""
    path = tmp_path / "history.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 200_000):
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    loaded = read_history(path)
    events = loaded.history.events
    assert len(events) > 500
    # Every complete line came back, densely indexed, in order.
    assert [e.index for e in events] == list(range(len(events)))
    raw_lines = path.read_bytes().split(b"\n")
    complete_lines = [line for line in raw_lines[:-1] if line.strip()]
    assert len(events) == len(complete_lines)


def test_attach_writes_earlier_events_first(tmp_path: Path) -> None:
    """Events recorded before the sink existed are written when it is attached."""
    clock = ManualClock()
    recorder = Recorder(clock)
    recorder.mark("preflight")
    recorder.attach(JsonlSink(tmp_path / "h.jsonl"))
    recorder.mark("run_start")
    recorder.close()
    names = [getattr(e, "name", None) for e in read_history(tmp_path / "h.jsonl").history]
    assert names == ["preflight", "run_start"]
