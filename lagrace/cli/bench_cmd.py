"""``lagrace bench run`` / ``lagrace bench compare``: consensus apply latency, per peer.

Thin: options become a :class:`~lagrace.bench.config.BenchConfig` (validated before anything is
sent), :func:`lagrace.bench.runner.run_bench` does the work, and the exit code says how it
went. Measurement, resolution and the result format: ``docs/bench.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from lagrace.bench.config import BenchConfig, validate
from lagrace.exitcodes import ExitCode
from lagrace.loop import run as run_on_loop

EXIT_HELP: Final = (
    "exit codes: 0 results written; 1 results written and an apply stall found (a finding); "
    "2 inconclusive: no entry measured, or the driver itself was the bottleneck; "
    "3 usage, configuration or driver error (one line on stderr)"
)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``bench`` with its ``run`` and ``compare`` actions."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmark consensus apply latency per peer (run, compare)",
        description="Measure how long consensus entries take to be answered and applied on "
        "every peer, idle or under load, and compare two benches.",
        epilog=EXIT_HELP,
    )
    actions = parser.add_subparsers(dest="bench_action", metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="run one bench (default: the embedded simulated cluster)",
        description="Propose consensus entries (no-ops, create/delete pairs, or a mix) and "
        "time each one's answer and its apply on every peer. Results: RUN_DIR/bench.json, "
        "bench.txt, plots/.",
        epilog=EXIT_HELP,
    )
    w = run.add_argument_group("workload")
    w.add_argument("--workload", choices=("noop", "create", "mix"), default="noop")
    w.add_argument("--concurrency", type=int, default=1, help="entries in flight (default 1)")
    w.add_argument("--rate", type=float, help="entries per second (open loop); default: closed")
    w.add_argument("--duration", type=float, metavar="S", help="measured seconds (default 10)")
    w.add_argument("--count", type=int, help="measured entries (instead of --duration)")
    w.add_argument("--warmup", type=float, default=1.0, metavar="S", help="not measured (1)")
    w.add_argument("--target", type=int, default=2, help="node the no-ops aim at (2)")
    w.add_argument("--via", type=int, default=1, help="node that proposes every entry (1)")
    c = run.add_argument_group("condition")
    c.add_argument("--load", choices=("idle", "weak", "strong"), default="idle")
    c.add_argument("--load-workers", type=int, default=8, help="hammer workers (8)")
    c.add_argument("--load-rate", type=float, default=25.0, help="upserts per second (25)")
    c.add_argument("--load-peers", default="round-robin", help="round-robin | lagging | NODE")
    c.add_argument("--slow", type=int, metavar="NODE", help="slow this node once measuring")
    c.add_argument("--slow-for", type=float, default=5.0, metavar="S", help="for S seconds (5)")
    m = run.add_argument_group("measurement")
    m.add_argument("--poll", type=float, default=0.01, metavar="S", help="poll interval (0.01)")
    m.add_argument("--stall-factor", type=float, default=10.0, help="stall: x the median (10)")
    m.add_argument("--stall-min", type=float, default=0.5, metavar="S", help="and at least S")
    m.add_argument("--entry-timeout", type=int, default=30, metavar="S", help="server timeout")
    k = run.add_argument_group("cluster and run")
    k.add_argument("--nodes", help="URL,URL,... of a real cluster (default: the simulated one)")
    k.add_argument("--logs", help="LOG,LOG,... the peers' log files (DEBUG apply lines)")
    k.add_argument("--sim-nodes", type=int, default=3)
    k.add_argument("--sim-mode", choices=("buggy", "fixed"), default="buggy")
    k.add_argument("--sim-apply-cost-ms", type=float, help="the model's apply cost per entry")
    k.add_argument("--name", default="bench", help="run directory runs/<name>/... (bench)")
    k.add_argument("--runs-dir", default="runs")
    k.add_argument("--seed", type=int)
    k.add_argument("--keep", action="store_true", help="keep the collections it created")
    run.set_defaults(execute=execute_run)
    compare = actions.add_parser(
        "compare",
        help="print the ratios B / A of two stored benches",
        description="Put two benches' statistics side by side: A, B and B / A for every "
        "kind, metric and peer both have.",
        epilog="exit codes: 0 printed; 3 a directory is not a bench (one line on stderr)",
    )
    compare.add_argument(
        "run_a", metavar="RUN_A", type=Path, help="bench directory (or bench.json)"
    )
    compare.add_argument(
        "run_b", metavar="RUN_B", type=Path, help="bench directory (or bench.json)"
    )
    compare.set_defaults(execute=execute_compare)
    parser.set_defaults(execute=_no_action(parser))


def _no_action(parser: argparse.ArgumentParser) -> Any:
    def execute(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return int(ExitCode.ERROR)

    return execute


def _split(text: str | None) -> tuple[str, ...]:
    return () if not text else tuple(p.strip() for p in text.split(",") if p.strip())


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """The bench the options describe (``UsageError`` if unusable)."""
    return validate(
        BenchConfig(
            workload=args.workload,
            concurrency=args.concurrency,
            rate=args.rate,
            duration_s=None
            if args.count is not None and args.duration is None
            else (args.duration if args.duration is not None else 10.0),
            count=args.count,
            warmup_s=args.warmup,
            load=args.load,
            load_workers=args.load_workers,
            load_rate=args.load_rate,
            load_peers=args.load_peers,
            slow_node=args.slow,
            slow_s=args.slow_for,
            target=args.target,
            via=args.via,
            poll_s=args.poll,
            stall_factor=args.stall_factor,
            stall_min_s=args.stall_min,
            entry_timeout_s=args.entry_timeout,
            name=args.name,
            runs_dir=args.runs_dir,
            seed=args.seed,
            nodes=_split(args.nodes),
            logs=_split(args.logs),
            sim_nodes=args.sim_nodes,
            sim_mode=args.sim_mode,
            sim_apply_cost_ms=args.sim_apply_cost_ms,
            keep=args.keep,
        )
    )


def exit_code(result: dict[str, Any]) -> ExitCode:
    """1 with a stall finding, 2 with nothing measured or the driver as the bottleneck, else 0."""
    if result["entries"]["measured"] == 0 or result["driver"]["bottleneck"]:
        return ExitCode.INCONCLUSIVE
    if result["stalls"]:
        return ExitCode.ANOMALY
    return ExitCode.OK


def execute_run(args: argparse.Namespace) -> int:
    """Run the bench; print its results and where they are."""
    from lagrace.bench.runner import run_bench  # noqa: PLC0415  # keeps `lagrace --help` light

    cfg = config_from_args(args)
    outcome = run_on_loop(
        run_bench(cfg, api_key=args.api_key, on_line=lambda line: print(line, file=sys.stderr)),
        args.loop,
    )
    print(outcome.text)
    print(f"run directory: {outcome.run_dir.path}")
    if outcome.plot_error:
        print(f"lagrace: warning: plots not written: {outcome.plot_error}", file=sys.stderr)
    return int(exit_code(outcome.result))


def execute_compare(args: argparse.Namespace) -> int:
    """Print the ratios of two stored benches."""
    from lagrace.bench.result import compare_results, format_compare, load_result  # noqa: PLC0415

    a, b = load_result(args.run_a), load_result(args.run_b)
    print(format_compare(compare_results(a, b), str(args.run_a), str(args.run_b)))
    return int(ExitCode.OK)
