"""Tests of the bounded recorder, the gzip history and the fast event lines."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagrace.clock import ManualClock
from lagrace.events import (
    OBS_CLUSTER,
    OBS_LOG,
    Complete,
    Event,
    Invoke,
    Mark,
    Observe,
    OpArgs,
    Outcome,
    event_line,
    event_to_json,
)
from lagrace.history import history_bytes, read_history
from lagrace.race.settle import EchoWatch
from lagrace.recorder import JsonlSink, Recorder, kept_live

_ints = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63))
_text = st.text(max_size=40)
_opt_text = st.one_of(st.none(), _text)
_args = st.builds(
    OpArgs,
    collection=_opt_text,
    target_peer=_ints,
    duration_s=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    wait=st.one_of(st.none(), st.booleans()),
    ordering=_opt_text,
    points=_ints,
    timeout_s=_ints,
    params=st.one_of(st.none(), st.dictionaries(_text, st.integers() | _text, max_size=3)),
)
_invokes = st.builds(
    Invoke,
    index=st.integers(min_value=0),
    t_ns=st.integers(),
    op_id=st.integers(min_value=0),
    worker=_text,
    op=_text,
    node=_ints,
    peer_id=_ints,
    request=_text,
    intended_ns=_ints,
    args=_args,
)
_completes = st.builds(
    Complete,
    index=st.integers(min_value=0),
    t_ns=st.integers(),
    op_id=st.integers(min_value=0),
    worker=_text,
    op=_text,
    node=_ints,
    peer_id=_ints,
    outcome=st.sampled_from(Outcome),
    status=_ints,
    error=_opt_text,
    response=_opt_text,
)


@given(st.one_of(_invokes, _completes))
def test_event_line_is_the_generic_json(event: Event) -> None:
    """The hand-built line of an invoke or completion is byte for byte the generic JSON."""
    assert event_line(event) == json.dumps(event_to_json(event), separators=(",", ":"))


def _record(recorder: Recorder, clock: ManualClock, ops: int) -> None:
    recorder.mark("phase", {"phase": "race"})
    for k in range(ops):
        inv = recorder.invoke(
            worker="hammer-0", op="upsert", node=1, peer_id=11, request="PUT x", intended_ns=k
        )
        clock.advance(1_000)
        recorder.observe(OBS_LOG, node=1, peer_id=11, data={"level": "INFO", "message": "m"})
        recorder.complete(inv, outcome=Outcome.OK, status=200, response="{}")
    recorder.observe(OBS_LOG, node=2, peer_id=22, data={"level": "WARN", "message": "w"})
    recorder.observe(OBS_CLUSTER, node=2, peer_id=22, data={"commit": 3})


@pytest.mark.parametrize("name", ["h.jsonl", "h.jsonl.gz"])
def test_memory_keeps_only_live_events_and_history_reads_back(tmp_path: Path, name: str) -> None:
    """With a sink only marks, snapshots and WARN/ERROR lines stay; history() has everything."""
    clock = ManualClock()
    recorder = Recorder(clock, JsonlSink(tmp_path / name))
    _record(recorder, clock, 100)
    assert len(recorder.events) == recorder.count == 303
    kept = list(recorder.events)
    assert [type(e) for e in kept] == [Mark, Observe, Observe]
    assert all(kept_live(e) for e in kept)
    history = recorder.history()  # mid-run: flushed and read back
    assert [e.index for e in history] == list(range(303))
    recorder.close()
    assert recorder.history() == history
    assert len(history.operations("upsert")) == 100


def test_live_events_index_like_the_history(tmp_path: Path) -> None:
    """events[i] is the kept event with index i; events[i:] the kept ones from i on."""
    clock = ManualClock()
    recorder = Recorder(clock, JsonlSink(tmp_path / "h.jsonl.gz"))
    _record(recorder, clock, 2)
    events = recorder.events
    assert events[0] == recorder.history().events[0]
    with pytest.raises(LookupError):
        _ = events[1]  # an invoke: only in the file
    assert [e.index for e in events[1:]] == [7, 8]
    assert events[-1].index == 8
    assert events == list(events)
    recorder.close()


def test_echo_watch_reads_a_bounded_recorder_incrementally(tmp_path: Path) -> None:
    """The settle check's incremental reader sees every user-error line exactly once."""
    clock = ManualClock()
    recorder = Recorder(clock, JsonlSink(tmp_path / "h.jsonl.gz"))
    watch = EchoWatch()
    message = "Failed to apply collection meta operation entry with user error: x"
    for k in range(3):
        _record(recorder, clock, 5)
        clock.advance(10)
        recorder.observe(OBS_LOG, node=1, peer_id=1, data={"level": "WARN", "message": message})
        assert watch.update(recorder.events) == clock.now_ns()
        assert watch.cursor == recorder.count == 19 * (k + 1)
    recorder.close()


def test_events_after_close_are_part_of_the_history(tmp_path: Path) -> None:
    """A mark recorded after close() (an interrupted run's end) is still in history()."""
    clock = ManualClock()
    recorder = Recorder(clock, JsonlSink(tmp_path / "h.jsonl.gz"))
    _record(recorder, clock, 3)
    recorder.close()
    recorder.mark("run_end", {"reason": "interrupted"})
    history = recorder.history()
    assert history.marks("run_end")
    assert [e.index for e in history] == list(range(len(history)))


def test_gzip_history_is_compressed_and_survives_a_kill(tmp_path: Path) -> None:
    """A flushed but never closed gzip history (a SIGKILL) reads back whole, and small."""
    clock = ManualClock()
    path = tmp_path / "h.jsonl.gz"
    sink = JsonlSink(path)
    recorder = Recorder(clock, sink)
    _record(recorder, clock, 500)
    recorder.flush()  # no close: the gzip stream has no end
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    text = history_bytes(path)
    assert len(raw) * 5 < len(text)
    loaded = read_history(path)
    assert not loaded.torn_tail
    assert len(loaded.history) == recorder.count
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(raw[: len(raw) - 3])  # cut inside the last flushed block
    assert len(read_history(cut).history) <= recorder.count
    recorder.close()


def test_gzip_members_appended_read_as_one(tmp_path: Path) -> None:
    """Two gzip members (a sink reopened on the same file) read as one history."""
    path = tmp_path / "h.jsonl.gz"
    lines = [
        json.dumps({"index": i, "t_ns": i, "type": "mark", "name": "m", "data": {}}) + "\n"
        for i in range(4)
    ]
    members = b""
    for part in (lines[:2], lines[2:]):
        z = zlib.compressobj(1, zlib.DEFLATED, 31)
        members += z.compress("".join(part).encode()) + z.flush()
    path.write_bytes(members)
    assert [e.index for e in read_history(path).history] == [0, 1, 2, 3]


def test_plain_history_still_reads(tmp_path: Path) -> None:
    """A history.jsonl written before compression reads as before."""
    clock = ManualClock()
    recorder = Recorder(clock, JsonlSink(tmp_path / "history.jsonl"))
    _record(recorder, clock, 3)
    recorder.close()
    assert (tmp_path / "history.jsonl").read_bytes().startswith(b'{"index":0')
    assert len(read_history(tmp_path / "history.jsonl").history) == recorder.count
