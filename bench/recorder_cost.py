"""What recording costs: nanoseconds per event, and hammer throughput with recording on vs off.

1. In process: the client's two events per upsert (an invoke and its completion, with the
   typed args and texts a run records) recorded ``--events`` times into a
   :class:`~lagrace.recorder.Recorder`, then flushed: the time to record (on the request path)
   and to encode + compress + write (in the flusher), per event, for the gzip sink of a run,
   the plain JSONL sink, and no sink; plus the generic JSON encoder for reference.
2. Against the canned endpoint (:mod:`bench.endpoint`): the closed-loop hammer with recording
   as in a run (gzip sink and flusher) and with recording off (events built, neither kept nor
   written), in alternating rounds: requests per second and per CPU-second, and the ratio.

    .venv/bin/python -m bench.recorder_cost [--events 200000] [--rounds 4] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.endpoint import alternating, canned_endpoint, ensure_tools, machine, median, py_load
from bench.endpoint import run_load as run_child
from lagrace.api import calls
from lagrace.api.calls import PointsJson, record_invoke
from lagrace.clock import SystemClock
from lagrace.events import Outcome, event_to_json
from lagrace.recorder import JsonlSink, Recorder

RESPONSE = '{"operation_id":123456,"status":"completed"}'


def _per_event(sink: str, events: int, tmp: Path) -> tuple[float, float, int]:
    """(record ns/event, flush ns/event, bytes/event) for one kind of sink."""
    path = tmp / ("h.jsonl.gz" if sink == "gzip" else "h.jsonl")
    recorder = Recorder(SystemClock(), JsonlSink(path) if sink != "none" else None)
    call = calls.upsert_points(
        "existing_collection_a1b2c3", PointsJson(b"{}", 10), wait=True, ordering="strong"
    )
    ops = events // 2
    flush_ns = 0
    t0 = time.perf_counter_ns()
    for k in range(ops):
        invoke = record_invoke(
            recorder, call, worker=f"hammer-{k % 64}", node=2, peer_id=7401336518127712,
            intended_ns=k * 1_000_000,
        )  # fmt: skip
        recorder.complete(invoke, outcome=Outcome.OK, status=200, response=RESPONSE)
        if k % 1000 == 999:  # the flusher's share, measured apart
            f0 = time.perf_counter_ns()
            recorder.flush()
            flush_ns += time.perf_counter_ns() - f0
    total = time.perf_counter_ns() - t0
    recorder.close()
    size = path.stat().st_size if sink != "none" else 0
    return (total - flush_ns) / (2 * ops), flush_ns / (2 * ops), size // (2 * ops)


def _generic_ns(events: int) -> float:
    """ns per event of the generic encoder (json.dumps of event_to_json) for reference."""
    recorder = Recorder(SystemClock())
    call = calls.upsert_points("existing_collection_a1b2c3", PointsJson(b"{}", 10), wait=True)
    invoke = record_invoke(recorder, call, worker="hammer-1", node=2, peer_id=7, intended_ns=1)
    t0 = time.perf_counter_ns()
    for _ in range(events):
        json.dumps(event_to_json(invoke), separators=(",", ":"))
    return (time.perf_counter_ns() - t0) / events


def main() -> None:
    """Print ns per event per sink, then the hammer's throughput with recording on and off."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=64)
    args = ap.parse_args()
    print(machine().line())
    print(f"1. recording {args.events} events (invokes and completions of upserts), per event:")
    with tempfile.TemporaryDirectory() as tmp:
        for sink in ("gzip", "plain", "none"):
            record, flush, size = _per_event(sink, args.events, Path(tmp))
            print(
                f"  {sink:6} sink: record {record:6.0f} ns (request path), encode+write "
                f"{flush:6.0f} ns (flusher), {size:4d} bytes on disk"
            )
    print(f"  generic encoder (json.dumps(event_to_json)): {_generic_ns(20_000):6.0f} ns")
    ensure_tools()
    names = ("recording", "off")
    got: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    with canned_endpoint() as url:
        for r, name in alternating(names, args.rounds):
            argv = py_load("lagrace", "--url", url, "--workers", str(args.workers))
            argv += ["--seconds", str(args.seconds), "--gzip"]
            argv += ["--record", "sink" if name == "recording" else "off"]
            result = run_child(argv, args.seconds + 60)
            got[name].append((result["rps"], result["per_cpu_s"]))
            print(f"  round {r + 1}: {name:9} {result['rps']:8.0f} req/s", flush=True)
    rps = {n: median([x for x, _ in v]) for n, v in got.items()}
    cpu = {n: median([y for _, y in v]) for n, v in got.items()}
    print(
        f"2. closed-loop hammer, {args.workers} connections, canned endpoint, "
        f"{args.rounds} alternating rounds of {args.seconds:g} s (medians):"
    )
    for name in names:
        print(f"  recording {name:9} {rps[name]:8.0f} req/s {cpu[name]:8.0f} req/CPU-s")
    print(
        f"  recording on / off: throughput x{rps['recording'] / rps['off']:.3f}, "
        f"per CPU-second x{cpu['recording'] / cpu['off']:.3f} "
        f"(cost {100 * (1 - cpu['recording'] / cpu['off']):.1f}% of the CPU per request)"
    )


if __name__ == "__main__":
    main()
