"""The Python load generators the benchmarks run, one per child process (``python -m bench.loads``).

Each prints one JSON line of results on stdout and exits; the benchmark scripts pin it to the
generator core and compare. Loads:

* ``lagrace``: lagrace's own upsert hammer (:func:`lagrace.race.workers.hammer`) through its real
  client (:class:`~lagrace.api.client.HttpNodeClient`), :class:`~lagrace.recorder.Recorder` and
  history sink with its flusher, as in a run. ``--record sink`` (as a run), ``memory`` (no
  sink) or ``off`` (events are built but neither kept nor written); ``--mode closed`` (as fast
  as answers come) or ``open --rate R`` (scheduled sends: lateness is measured from the
  recorded ``intended_ns``); ``--watchers N`` polls the endpoint as the run's watchers do and
  ``--tail-lines R`` tails a log file another process appends Qdrant-format lines to.
* ``aiohttp``: the bare loop people write: one ``ClientSession``, ``--workers`` coroutines
  sending one pre-serialised body and reading the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from lagrace import loop as loops
from lagrace.api.client import HttpNodeClient
from lagrace.clock import SystemClock
from lagrace.events import Event, Invoke
from lagrace.history import read_history
from lagrace.plan import NodeRef, Plan, make_points
from lagrace.race.context import RunContext
from lagrace.race.tailer import LogTail, tail_log
from lagrace.race.watchers import WatchState, watch_node
from lagrace.race.workers import hammer
from lagrace.recorder import JsonlSink, Recorder, run_flusher
from lagrace.scenario import Scenario, with_overrides

COLLECTION = "bench_collection"


def upsert_body(batch: int = 10, vector_size: int = 8) -> bytes:
    """The JSON body of one upsert as lagrace sends it (same size for every contender)."""
    points = make_points(random.Random(1), 1_000_000_000, batch, vector_size)
    return json.dumps({"points": points}, separators=(",", ":")).encode()


class NullRecorder(Recorder):
    """Builds every event (the client needs them) but neither keeps nor writes it."""

    def _append(self, event: Event) -> None:
        return


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


async def _log_writer(path: Path, rate: float, stop: asyncio.Event) -> None:
    """Append Qdrant-format log lines at ``rate`` per second (what a tailer follows)."""
    with path.open("a", encoding="utf-8") as fh:
        n = 0
        while not stop.is_set():
            await asyncio.sleep(0.05)
            count = max(1, int(rate * 0.05))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            fh.write(
                "".join(
                    f"{stamp}.{(n + i) % 1_000_000:06d}Z  INFO actix_web::middleware::logger: "
                    f'127.0.0.1 "PUT /collections/{COLLECTION}/points HTTP/1.1" 200 71\n'
                    for i in range(count)
                )
            )
            fh.flush()
            n += count


async def lagrace_load(args: argparse.Namespace) -> dict[str, Any]:
    """lagrace's hammer for ``--seconds`` after ``--warmup``; counts and lateness."""
    clock = SystemClock()
    tmp = Path(tempfile.mkdtemp(prefix="lagrace-bench-load-"))
    history = tmp / ("history.jsonl.gz" if args.gzip else "history.jsonl")
    recorder: Recorder
    if args.record == "off":
        recorder = NullRecorder(clock)
    elif args.record == "memory":
        recorder = Recorder(clock)
    else:
        recorder = Recorder(clock, JsonlSink(history))
    scenario = with_overrides(
        Scenario(),
        {
            "hammer.workers": args.workers,
            "hammer.mode": args.mode,
            "hammer.rate": args.rate,
            "hammer.batch": args.batch,
            "hammer.wait": "true",
            "hammer.peers": "lagging",
        },
    )
    node = NodeRef(1, args.url, 1)
    plan = Plan("bench", COLLECTION, node, (), (), 0)
    rss: list[tuple[float, int]] = []
    async with HttpNodeClient(1, args.url, recorder, peer_id=1) as client:
        ctx = RunContext(scenario, plan, (node,), {1: client}, recorder)
        stop_side = asyncio.Event()
        state = WatchState(nodes=1, clock=clock)
        window: dict[str, float] = {}

        async def measure() -> None:
            await asyncio.sleep(args.warmup)
            window["ok0"], window["t0"] = ctx.stats.ok, time.perf_counter()
            window["cpu0"] = _cpu_s()
            window["i0"] = clock.now_ns()
            t_end = time.perf_counter() + args.seconds
            while (left := t_end - time.perf_counter()) > 0:
                rss.append((args.seconds - left, _rss_kib()))
                await asyncio.sleep(min(left, args.rss_every))
            window["ok1"], window["t1"] = ctx.stats.ok, time.perf_counter()
            window["cpu1"] = _cpu_s()
            window["i1"] = clock.now_ns()
            rss.append((args.seconds, _rss_kib()))
            ctx.stop.set()
            stop_side.set()

        async with asyncio.TaskGroup() as tg:
            flusher = tg.create_task(run_flusher(recorder))
            for w in range(args.watchers):
                tg.create_task(
                    watch_node(
                        client,
                        recorder,
                        state,
                        collections=lambda: (COLLECTION,),
                        interval_s=0.1,
                        stop=stop_side,
                    ),
                    name=f"watch-{w}",
                )
            if args.tail_lines > 0:
                log = tmp / "node-1.log"
                log.touch()
                tg.create_task(_log_writer(log, args.tail_lines, stop_side))
                tg.create_task(tail_log(LogTail(log, 1, 1), recorder, tmp / "raw.log", stop_side))
            workers = [tg.create_task(hammer(ctx, w)) for w in range(args.workers)]
            tg.create_task(measure())
            await asyncio.wait(workers)
            flusher.cancel()
    recorder.close()
    out: dict[str, Any] = {
        "rps": (window["ok1"] - window["ok0"]) / (window["t1"] - window["t0"]),
        "per_cpu_s": (window["ok1"] - window["ok0"]) / (window["cpu1"] - window["cpu0"]),
        "ok": ctx.stats.ok,
        "failed": ctx.stats.failed,
        "rss_kib": rss,
    }
    if args.record == "sink":
        out["history_bytes"] = history.stat().st_size
    if args.record == "sink" and not args.no_readback:
        loaded = read_history(history).history
        late = [
            (e.t_ns - e.intended_ns) / 1e6
            for e in loaded
            if isinstance(e, Invoke)
            and e.intended_ns is not None
            and window["i0"] <= e.intended_ns < window["i1"]
        ]
        out["late_ms"] = late
        out["events"] = len(loaded)
    shutil.rmtree(tmp)  # the load is over; nothing else runs on the loop
    return out


async def timers_load(args: argparse.Namespace) -> dict[str, Any]:
    """The open-loop schedule of ``--workers`` at ``--rate`` with nothing sent: only the
    sleeps, so the lateness measured is what the machine and the loop add (the floor)."""
    clock = SystemClock()
    period_ns = int(1e9 * max(1, args.workers) / args.rate)
    late: list[float] = []
    window: dict[str, int] = {}
    stop = asyncio.Event()

    async def worker() -> None:
        start, seq = clock.now_ns(), 0
        while not stop.is_set():
            intended = start + seq * period_ns
            await clock.sleep_until(intended)
            await asyncio.sleep(0)  # the hammer starts each send in a new task
            if window.get("i0", 1 << 62) <= intended < window.get("i1", 1 << 62):
                late.append((clock.now_ns() - intended) / 1e6)
            seq += 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(args.workers):
            tg.create_task(worker())
        await asyncio.sleep(args.warmup)
        window["i0"] = clock.now_ns()
        await asyncio.sleep(args.seconds)
        window["i1"] = clock.now_ns()
        stop.set()
    return {"rps": len(late) / args.seconds, "per_cpu_s": 0.0, "late_ms": late}


async def _headers_sent(*_args: object) -> None:
    return


async def aiohttp_load(args: argparse.Namespace) -> dict[str, Any]:
    """The bare aiohttp loop: ``--workers`` coroutines, one session, one body."""
    body = upsert_body(args.batch)
    url = f"{args.url}/collections/{COLLECTION}/points?wait=true&ordering=strong"
    headers = {"Content-Type": "application/json"}
    count = 0
    stop = False
    traces = []
    if args.trace:  # what a TraceConfig for "request sent" costs aiohttp (lagrace used one)
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_headers_sent)
        traces.append(trace)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256), trace_configs=traces
    ) as session:

        async def worker() -> None:
            nonlocal count
            while not stop:
                async with session.put(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status == 200:
                        count += 1

        async with asyncio.TaskGroup() as tg:
            for _ in range(args.workers):
                tg.create_task(worker())
            await asyncio.sleep(args.warmup)
            c0, t0, cpu0 = count, time.perf_counter(), _cpu_s()
            await asyncio.sleep(args.seconds)
            c1, t1, cpu1 = count, time.perf_counter(), _cpu_s()
            stop = True
    return {"rps": (c1 - c0) / (t1 - t0), "per_cpu_s": (c1 - c0) / (cpu1 - cpu0)}


def main() -> None:
    """Parse the load's arguments, run it on the chosen loop, print one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("load", choices=("lagrace", "aiohttp", "timers"))
    ap.add_argument("--url", required=True)
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--record", choices=("sink", "memory", "off"), default="sink")
    ap.add_argument("--gzip", action="store_true", help="history.jsonl.gz instead of .jsonl")
    ap.add_argument("--mode", choices=("closed", "open"), default="closed")
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--watchers", type=int, default=0)
    ap.add_argument("--tail-lines", type=float, default=0.0, help="log lines per second")
    ap.add_argument("--rss-every", type=float, default=1.0)
    ap.add_argument("--no-readback", action="store_true", help="skip reading the history back")
    ap.add_argument("--trace", action="store_true", help="aiohttp: lagrace's trace signal")
    args = ap.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        sys.exit("loads target 127.0.0.1 only")
    gc.freeze()
    load = {"lagrace": lagrace_load, "aiohttp": aiohttp_load, "timers": timers_load}[args.load]
    result = loops.run(load(args), args.loop)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
