"""Driver overhead on uvloop vs asyncio, side by side in one run, as ratios.

Starts one simulated cluster (``lagrace sim``, a model of Qdrant), then alternates rounds of a
closed-loop upsert hammer through lagrace's own client and recorder on each event loop. Prints
operations per second and latency percentiles per loop and the uvloop/asyncio ratios. Rounds
alternate so that machine noise hits both loops alike.

    .venv/bin/python bench/driver_loops.py [--rounds 3] [--seconds 3] [--workers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from lagrace.api.client import HttpNodeClient
from lagrace.clock import NS_PER_S, SystemClock
from lagrace.history import Recorder
from lagrace.plan import make_points


async def hammer_round(urls: list[str], seconds: float, workers: int, tag: str) -> list[int]:
    """Closed-loop upserts for ``seconds``; returns the latencies (ns) of ok operations."""
    clock = SystemClock()
    recorder = Recorder(clock)
    latencies: list[int] = []
    rng = random.Random(7)
    async with HttpNodeClient(1, urls[0], recorder) as first:
        await first.create_collection(
            tag,
            {
                "vectors": {"size": 8, "distance": "Cosine"},
                "shard_number": 3,
                "replication_factor": 3,
            },
        )
        clients = [HttpNodeClient(i + 1, u, recorder) for i, u in enumerate(urls)]
        for c in clients:
            await c.__aenter__()
        try:
            end = clock.now_ns() + int(seconds * NS_PER_S)

            async def worker(w: int) -> None:
                seq = 0
                while clock.now_ns() < end:
                    client = clients[(w + seq) % len(clients)]
                    t0 = clock.now_ns()
                    reply = await client.upsert_points(
                        tag, make_points(rng, w * 10_000_000 + seq * 16, 16, 8), worker=f"w{w}"
                    )
                    if reply.ok:
                        latencies.append(clock.now_ns() - t0)
                    seq += 1

            async with asyncio.TaskGroup() as tg:
                for w in range(workers):
                    tg.create_task(worker(w))
        finally:
            for c in clients:
                await c.close()
        await first.delete_collection(tag)
    return latencies


def run_on(kind: str, coro: Callable[[], Coroutine[Any, Any, list[int]]]) -> list[int]:
    """Run one round on a fresh loop of ``kind``."""
    return uvloop.run(coro()) if kind == "uvloop" else asyncio.run(coro())


def pct(values: list[int], q: float) -> float:
    """Percentile ``q`` (0..100) in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] / 1e6


def main() -> None:
    """Alternate rounds on both loops against one simulated cluster and print ratios."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    logs = tempfile.mkdtemp(prefix="lagrace-bench-")
    sim = subprocess.Popen(  # noqa: S603  # our own interpreter and module, fixed arguments
        [
            sys.executable,
            "-m",
            "lagrace",
            "sim",
            "--nodes",
            "3",
            "--json",
            "--seed",
            "1",
            "--log-dir",
            logs,
        ],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert sim.stdout is not None
        urls = [n["url"] for n in json.loads(sim.stdout.readline())["nodes"]]
        results: dict[str, list[tuple[float, list[int]]]] = {"asyncio": [], "uvloop": []}
        for r in range(args.rounds):
            for kind in ("asyncio", "uvloop") if r % 2 == 0 else ("uvloop", "asyncio"):
                tag = f"bench_{kind}_{r}"
                lat = run_on(
                    kind, functools.partial(hammer_round, urls, args.seconds, args.workers, tag)
                )
                results[kind].append((len(lat) / args.seconds, lat))
        print(
            f"simulated cluster (a model of Qdrant), {args.workers} closed-loop workers, "
            f"{args.rounds} alternating rounds of {args.seconds:g} s per loop"
        )
        summary = {}
        for kind, rounds in results.items():
            rates = [r for r, _ in rounds]
            lats = [x for _, lat in rounds for x in lat]
            summary[kind] = (statistics.median(rates), pct(lats, 50), pct(lats, 99))
            print(
                f"  {kind:8} median {summary[kind][0]:8.1f} ops/s   p50 {summary[kind][1]:6.2f} ms"
                f"   p99 {summary[kind][2]:6.2f} ms"
            )
        u, a = summary["uvloop"], summary["asyncio"]
        print(
            f"  ratio uvloop/asyncio: throughput x{u[0] / a[0]:.2f}, p50 x{u[1] / a[1]:.2f}, "
            f"p99 x{u[2] / a[2]:.2f}"
        )
    finally:
        sim.terminate()
        sim.wait(timeout=10)
        shutil.rmtree(logs)


if __name__ == "__main__":
    main()
