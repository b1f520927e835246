"""Scheduling precision of the open-loop hammer: actual send time minus intended send time.

The open-loop hammer (``hammer.mode = "open"``, the default of a run) schedules every upsert
and records the schedule in the invoke's ``intended_ns``; the invoke's ``t_ns`` is when the
client hands the request to aiohttp. This script runs the hammer (client, recorder, gzip
history sink and flusher, as in a run) at several rates and worker counts, on uvloop and on
asyncio, alone and with a watcher polling ``/cluster`` and ``/collections/{c}/cluster`` every
100 ms plus a tailer following a log file that grows by ``--tail-lines`` Qdrant-format lines
per second, against the canned endpoint (:mod:`bench.endpoint`), and prints the lateness
percentiles read back from the history of the measured window.

A ``timers`` row is the floor of the machine: the same schedule on the same loop with nothing
sent (only ``sleep_until``), so what the machine's scheduler adds is told apart from what the
driver adds.

    .venv/bin/python -m bench.precision [--rates 200,1000] [--workers 8,64] [--seconds 3]
                                        [--realtime]
"""

from __future__ import annotations

import argparse
import itertools
import sys

from bench.endpoint import (
    alternating,
    canned_endpoint,
    ensure_tools,
    machine,
    percentile,
    py_load,
    run_load,
)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    """Alternate every configuration in rounds; print lateness percentiles and ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rates", type=_ints, default=[200, 1000, 2000], help="upserts per second")
    ap.add_argument("--workers", type=_ints, default=[8, 64])
    ap.add_argument("--loops", default="uvloop,asyncio")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--tail-lines", type=float, default=200.0, help="log lines/s when tailing")
    ap.add_argument(
        "--realtime",
        action="store_true",
        help="run the generator under SCHED_RR (chrt -r 1, as root): on a shared machine the "
        "other work then cannot preempt it, and what is left is the driver's own lateness",
    )
    args = ap.parse_args()
    ensure_tools()
    configs = [
        f"{loop}/{rate}/{workers}/{side}"
        for rate, workers, loop, side in itertools.product(
            args.rates, args.workers, args.loops.split(","), ("alone", "watched", "timers")
        )
    ]
    late: dict[str, list[float]] = {c: [] for c in configs}
    with canned_endpoint() as url:
        for r, config in alternating(configs, args.rounds):
            loop, rate, workers, side = config.split("/")
            argv = py_load(
                "timers" if side == "timers" else "lagrace",
                "--url",
                url,
                "--loop",
                loop,
                "--workers",
                workers,
                "--seconds",
                str(args.seconds),
                "--mode",
                "open",
                "--rate",
                rate,
                "--gzip",
            )
            if side == "watched":
                argv += ["--watchers", "1", "--tail-lines", str(args.tail_lines)]
            result = run_load(argv, args.seconds + 120, realtime=args.realtime)
            late[config] += result["late_ms"]
            p99 = percentile(result["late_ms"], 99)
            print(f"  round {r + 1}: {config:28} p99 {p99:8.3f} ms", flush=True)
    print(f"\n{machine().line()}")
    print(
        f"open-loop hammer against the canned endpoint, generator "
        f"{'under SCHED_RR' if args.realtime else 'at normal priority'}, {args.rounds} round(s) of "
        f"{args.seconds:g} s each; lateness = invoke t_ns - intended_ns, in ms "
        "(timers: the same schedule with nothing sent)"
    )
    print(
        f"  {'loop/rate/workers/side':28} {'sends':>7} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}"
    )
    for config in configs:
        values = late[config]
        if not values:
            print(f"  {config:28} no sends in the window", file=sys.stderr)
            continue
        print(
            f"  {config:28} {len(values):7d} {percentile(values, 50):8.3f} "
            f"{percentile(values, 90):8.3f} {percentile(values, 99):8.3f} {max(values):8.3f}"
        )
    print("ratios of p99 (uvloop / asyncio; watched / alone):")
    for rate, workers in itertools.product(args.rates, args.workers):
        for side in ("alone", "watched"):
            u, a = (
                late.get(f"uvloop/{rate}/{workers}/{side}"),
                late.get(f"asyncio/{rate}/{workers}/{side}"),
            )
            if u and a and percentile(a, 99) > 0:
                ratio = percentile(u, 99) / percentile(a, 99)
                print(f"  {rate}/s {workers} workers {side}: uvloop/asyncio x{ratio:.2f}")
        for loop in args.loops.split(","):
            w, s = (
                late.get(f"{loop}/{rate}/{workers}/watched"),
                late.get(f"{loop}/{rate}/{workers}/alone"),
            )
            if w and s and percentile(s, 99) > 0:
                ratio = percentile(w, 99) / percentile(s, 99)
                print(f"  {rate}/s {workers} workers {loop}: watched/alone x{ratio:.2f}")


if __name__ == "__main__":
    main()
