"""Memory and disk: resident size over a long run at a high rate, and the run directory's size.

1. Resident size: the open-loop hammer (client, recorder, gzip history sink and flusher, plus
   a watcher polling every 100 ms and a tailer recording ``--tail-lines`` log lines per
   second, as in a run) at ``--rate`` upserts/s with ``--workers`` workers for ``--minutes``
   against the canned endpoint (:mod:`bench.endpoint`), sampling the generator's RSS every
   ``--every`` seconds. Growth is measured from the first sample after ``--settle`` seconds
   (imports, connection pools and the allocator's arenas are warm, and a backlog of in-flight
   sends, bounded per worker, has built up when the machine cannot keep the rate) to the
   last. ``--compare`` also runs the same load for the same time with a recorder that keeps
   every event (no sink: what lagrace did before the recorder was bounded).
2. Run directory: ``lagrace run`` against its simulated cluster (a model of Qdrant on the same
   machine; only the files' sizes matter here) with ``--run-rate`` upserts/s, then the size of
   each part per 1,000 operations (every invoke: the hammer's upserts, the watchers' polls,
   the burst) and per 1,000 upserts.

    .venv/bin/python -m bench.footprint [--minutes 2] [--rate 2000] [--compare] [--skip-run]
    .venv/bin/python -m bench.footprint --minutes 10   # the issue's figure (docs/performance.md)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.endpoint import ROOT, canned_endpoint, ensure_tools, machine, py_load, run_load
from lagrace.events import Invoke
from lagrace.history import read_history


def _rss(args: argparse.Namespace, url: str, record: str) -> tuple[list[tuple[float, int]], int]:
    """RSS samples (seconds, KiB) of one long run and how many upserts were answered ok."""
    argv = py_load(
        "lagrace", "--url", url, "--mode", "open", "--rate", str(args.rate),
        "--workers", str(args.workers), "--seconds", str(args.minutes * 60),
        "--watchers", "1", "--tail-lines", str(args.tail_lines), "--record", record,
        "--rss-every", str(args.every), "--gzip", "--no-readback",
    )  # fmt: skip
    result = run_load(argv, args.minutes * 60 + 300)
    return [(float(t), int(kib)) for t, kib in result["rss_kib"]], int(result["ok"])


def _growth(samples: list[tuple[float, int]], settle_s: float) -> tuple[int, int, float]:
    after = [kib for t, kib in samples if t >= settle_s] or [samples[-1][1]]
    first, last = after[0], samples[-1][1]
    return first, last, 100.0 * (last - first) / first


def _print_rss(name: str, run: tuple[list[tuple[float, int]], int], settle_s: float) -> None:
    samples, ok = run
    first, last, pct = _growth(samples, settle_s)
    peak = max(kib for _, kib in samples)
    print(
        f"  {name:26} RSS {first / 1024:7.1f} MiB at {settle_s:g} s -> {last / 1024:7.1f} MiB "
        f"at the end ({pct:+.1f}%), peak {peak / 1024:.1f} MiB; {ok} upserts ok "
        f"({ok / max(1.0, samples[-1][0]):.0f}/s over the run)"
    )
    step = max(1, len(samples) // 10)
    print("    " + "  ".join(f"{t:.0f}s:{kib / 1024:.0f}" for t, kib in samples[::step]))


def _run_dir(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="lagrace-bench-run-") as tmp:
        argv = [
            sys.executable, "-m", "lagrace", "run", "--quiet", "--runs-dir", tmp,
            "--slow-down", "4", "--workers", str(args.run_workers), "--rate", str(args.run_rate),
            "--time-limit", "60", "--settle", "30", *args.run_extra.split(),
        ]  # fmt: skip
        done = subprocess.run(  # noqa: S603  # our own CLI, on loopback (the simulated cluster)
            argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode not in (0, 1, 2):
            sys.exit(f"lagrace run failed ({done.returncode}): {done.stderr}")
        run = (Path(tmp) / "latest").resolve()
        history = read_history(run / "history.jsonl.gz").history
        ops = sum(1 for e in history if isinstance(e, Invoke))
        upserts = len(history.operations("upsert"))
        parts: dict[str, int] = {}
        for path in run.rglob("*"):
            if path.is_file():
                top = path.relative_to(run).parts[0]
                parts[top] = parts.get(top, 0) + path.stat().st_size
        total = sum(parts.values())
        print(
            f"2. run directory of `lagrace run --workers {args.run_workers} --rate "
            f"{args.run_rate:g} {args.run_extra}` (simulated cluster): {ops} operations "
            f"({upserts} upserts), {len(history)} events, {total / 1e6:.2f} MB"
        )
        for name, size in sorted(parts.items(), key=lambda kv: -kv[1]):
            print(
                f"  {name:18} {size / 1e3:9.1f} kB  {size / ops:8.1f} B/op  "
                f"{1000 * size / ops / 1e6:7.3f} MB per 1,000 operations"
            )
        print(
            f"  total              {total / 1e3:9.1f} kB  {total / ops:8.1f} B/op  "
            f"{1000 * total / ops / 1e6:7.3f} MB per 1,000 operations, "
            f"{1000 * total / max(1, upserts) / 1e6:.3f} MB per 1,000 upserts"
        )
        print("  (sim/ is the simulated cluster's own logs; logs/ what the tailers collected)")
        print(json.dumps({"ops": ops, "upserts": upserts, "bytes": parts}))


def main() -> None:
    """Measure the RSS over a long run, then a run directory's size."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--rate", type=float, default=2000.0, help="upserts/s of the RSS run")
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--tail-lines", type=float, default=200.0)
    ap.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    ap.add_argument("--settle", type=float, default=60.0, help="growth is measured from here")
    ap.add_argument("--compare", action="store_true", help="also a recorder keeping every event")
    ap.add_argument("--skip-run", action="store_true", help="no lagrace run (run directory)")
    ap.add_argument("--run-rate", type=float, default=400.0)
    ap.add_argument("--run-workers", type=int, default=16)
    ap.add_argument(
        "--run-extra",
        default="",
        help="more `lagrace run` options, e.g. "
        "'--hammer-peers round-robin' (writes through every peer, not the lagging one)",
    )
    args = ap.parse_args()
    ensure_tools()
    print(machine().line())
    print(
        f"1. open-loop hammer at {args.rate:g} upserts/s, {args.workers} workers, a watcher and "
        f"a tailer ({args.tail_lines:g} lines/s), {args.minutes:g} min, canned endpoint:"
    )
    with canned_endpoint() as url:
        _print_rss("bounded recorder (gzip)", _rss(args, url, "sink"), args.settle)
        if args.compare:
            _print_rss("keeping every event", _rss(args, url, "memory"), args.settle)
    if not args.skip_run:
        _run_dir(args)


if __name__ == "__main__":
    main()
