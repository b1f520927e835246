"""``lagrace run``: race a cluster (the embedded simulated cluster unless ``--nodes`` is given).

Builds the scenario from defaults, ``--scenario FILE`` and options (options win), runs it, prints
the verdict and the lined-up timeline, and exits with the verdict's code. The first SIGINT or
SIGTERM ends the run cleanly (history flushed, run directory marked interrupted, a bounded
attempt to delete what the run created); a second one exits at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lagrace.cli.interrupt import INTERRUPTED, interruptible
from lagrace.cli.progress import make_progress_display
from lagrace.exitcodes import EXIT_CODES_HELP, ExitCode
from lagrace.loop import run as run_on_loop
from lagrace.race.orchestrate import RunOutcome, run_scenario
from lagrace.race.settle import EndReason
from lagrace.render.terminal import format_timeline, format_verdict
from lagrace.scenario import Scenario, scenario_from_file, validate, with_overrides

# option dest -> scenario key
_KEYS: dict[str, str] = {
    "name": "run.name",
    "seed": "run.seed",
    "time_limit": "run.time_limit_s",
    "settle": "run.settle_s",
    "settle_hold": "run.settle_hold_s",
    "settle_quiet": "run.settle_quiet_s",
    "keep": "run.keep",
    "runs_dir": "run.runs_dir",
    "nodes": "cluster.nodes",
    "logs": "cluster.logs",
    "sim_mode": "cluster.sim_mode",
    "sim_nodes": "cluster.sim_nodes",
    "sim_grpc_timeout_ms": "cluster.sim_grpc_timeout_ms",
    "frozen_wait": "run.frozen_wait_s",
    "existing": "existing.name",
    "existing_shards": "existing.shards",
    "existing_rf": "existing.replication_factor",
    "vector_size": "existing.vector_size",
    "preload": "existing.preload",
    "target": "lag.target",
    "slow_down": "lag.duration_s",
    "lag_offset": "lag.offset_s",
    "lag_repeat": "lag.repeat",
    "lag_interval": "lag.interval_s",
    "lag_via": "lag.via",
    "creates": "burst.count",
    "create_concurrency": "burst.concurrency",
    "create_spacing": "burst.spacing_s",
    "create_offset": "burst.offset_s",
    "create_via": "burst.via",
    "create_shards": "burst.shards",
    "create_rf": "burst.replication_factor",
    "create_timeout": "burst.timeout_s",
    "workers": "hammer.workers",
    "batch": "hammer.batch",
    "wait": "hammer.wait",
    "ordering": "hammer.ordering",
    "hammer_peers": "hammer.peers",
    "hammer_mode": "hammer.mode",
    "rate": "hammer.rate",
    "watch_interval": "watch.interval_s",
}


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """The options that override scenario keys (shared by commands that run races)."""
    p = parser.add_argument_group("run")
    p.add_argument("--scenario", type=Path, help="TOML scenario file (options override it)")
    p.add_argument("--name", help="scenario name (run directory runs/<name>/...)")
    p.add_argument("--seed", type=int, help="seed of the run (and of the simulated cluster)")
    p.add_argument("--time-limit", type=float, metavar="S", help="race time limit (default 120)")
    p.add_argument("--settle", type=float, metavar="S", help="bound on convergence after the lag")
    p.add_argument(
        "--settle-hold", type=float, metavar="S", help="how long convergence must hold (3)"
    )
    p.add_argument(
        "--settle-quiet",
        type=float,
        metavar="S",
        help="how long the logs must be free of apply-time user errors before the end (12)",
    )
    p.add_argument("--keep", action="store_true", default=None, help="keep created collections")
    p.add_argument("--runs-dir", help="where run directories go (default ./runs)")
    p.add_argument("--no-report", action="store_true", help="do not render the HTML/PNG report")
    p.add_argument(
        "--frozen-wait",
        type=float,
        metavar="S",
        help="wait this long for a peer still frozen by an earlier race, then exit 2 (240)",
    )
    c = parser.add_argument_group("cluster (default: start the embedded simulated cluster)")
    c.add_argument("--nodes", help="comma-separated node URLs of a running cluster")
    c.add_argument("--logs", help="comma-separated log files of those nodes, in node order")
    c.add_argument("--sim-mode", choices=("buggy", "fixed"), help="simulated cluster's mode")
    c.add_argument("--sim-nodes", type=int, help="simulated cluster size (default 3)")
    c.add_argument(
        "--sim-grpc-timeout-ms",
        type=int,
        metavar="MS",
        help="the simulated cluster's internal gRPC timeout (default 5000)",
    )
    e = parser.add_argument_group("existing collection")
    e.add_argument("--existing", metavar="NAME", help="base name (the run id is appended)")
    e.add_argument("--existing-shards", type=int, metavar="N")
    e.add_argument("--existing-rf", type=int, metavar="N", help="replication factor")
    e.add_argument("--vector-size", type=int, metavar="N")
    e.add_argument("--preload", type=int, metavar="N", help="points loaded before the race")
    lag = parser.add_argument_group("lag (test_slow_down)")
    lag.add_argument("--target", help="node index (1-based) or peer id to slow down (default 2)")
    lag.add_argument("--slow-down", type=float, metavar="S", help="sleep duration, 0..300")
    lag.add_argument("--lag-offset", type=float, metavar="S", help="when, after the race starts")
    lag.add_argument("--lag-repeat", type=int, metavar="N", help="how many slow-downs (0: none)")
    lag.add_argument("--lag-interval", type=float, metavar="S", help="between repeated ones")
    lag.add_argument("--lag-via", metavar="NODE", help="node receiving the proposal (auto)")
    b = parser.add_argument_group("burst (collection creates)")
    b.add_argument("--creates", type=int, metavar="K", help="collections to create (default 1)")
    b.add_argument("--create-concurrency", type=int, metavar="N")
    b.add_argument("--create-spacing", type=float, metavar="S")
    b.add_argument("--create-offset", type=float, metavar="S", help="after the slow-down")
    b.add_argument("--create-via", metavar="NODE", help="node receiving the creates (auto)")
    b.add_argument("--create-shards", type=int, metavar="N")
    b.add_argument("--create-rf", type=int, metavar="N")
    b.add_argument("--create-timeout", type=int, metavar="S", help="server-side ?timeout=")
    h = parser.add_argument_group("hammer (upserts on the existing collection)")
    h.add_argument("--workers", type=int, metavar="U")
    h.add_argument("--batch", type=int, metavar="N")
    h.add_argument("--wait", choices=("true", "false", "mixed"))
    h.add_argument("--ordering", choices=("weak", "medium", "strong"))
    h.add_argument("--hammer-peers", metavar="round-robin|lagging|NODE")
    h.add_argument("--hammer-mode", choices=("closed", "open"))
    h.add_argument("--rate", type=float, metavar="OPS", help="open-loop total rate (ops/s)")
    w = parser.add_argument_group("watch")
    w.add_argument("--watch-interval", type=float, metavar="S", help="poll interval (0.1)")
    w.add_argument(
        "--signature",
        action="append",
        default=[],
        metavar="NAME=REGEX",
        help="an extra log signature that counts as the race (repeatable)",
    )


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Defaults, then the scenario file, then the options."""
    base = scenario_from_file(args.scenario) if args.scenario else Scenario()
    overrides: dict[str, Any] = {key: getattr(args, dest, None) for dest, key in _KEYS.items()}
    if getattr(args, "no_report", False):
        overrides["run.report"] = False
    for spec in getattr(args, "signature", []):
        name, sep, pattern = spec.partition("=")
        if not sep or not name:
            from lagrace.errors import UsageError  # noqa: PLC0415  # only on the error path

            raise UsageError(f"--signature takes NAME=REGEX, got {spec!r}")
        overrides[f"signatures.{name}"] = pattern
    return validate(with_overrides(base, overrides))


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``lagrace run``."""
    parser = subparsers.add_parser(
        "run",
        help="race a cluster (default: the embedded simulated cluster)",
        description=(
            "Race a cluster: the embedded simulated cluster (a model of Qdrant) unless --nodes "
            "is given. Builds the scenario from defaults, --scenario FILE and these options "
            "(options win), runs it, prints the verdict and the lined-up timeline, and exits "
            "with the verdict's code. The first SIGINT/SIGTERM ends the run cleanly (history "
            "flushed, run directory marked interrupted, a bounded attempt to delete what the "
            "run created); a second one exits at once."
        ),
        epilog=EXIT_CODES_HELP,
    )
    add_scenario_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no live progress")
    parser.set_defaults(execute=execute)


_BEFORE_START = "lagrace: interrupted before the run started; nothing was created"


async def _run_with_signals(scenario: Scenario, args: argparse.Namespace) -> RunOutcome | None:
    """Run the scenario; the first SIGINT/SIGTERM cancels it cleanly, a second exits at once
    (:mod:`lagrace.cli.interrupt`). ``None``: interrupted before anything was created."""
    display = make_progress_display(quiet=args.quiet)
    with display:
        got = await interruptible(
            run_scenario(scenario, api_key=args.api_key, on_progress=display.update),
            doing="stopping the run cleanly",
            second_exit=ExitCode.INCONCLUSIVE,
        )
    return None if got is INTERRUPTED else got


def execute(args: argparse.Namespace) -> int:
    """Run the race; print the verdict and timeline; exit with the verdict's code."""
    scenario = scenario_from_args(args)
    outcome = run_on_loop(_run_with_signals(scenario, args), args.loop)
    if outcome is None:
        print(_BEFORE_START, file=sys.stderr)
        return int(ExitCode.INCONCLUSIVE)
    findings = outcome.findings
    print(format_timeline(findings))
    print()
    print(format_verdict(findings))
    print(f"run directory: {outcome.run_dir.path}")
    report = outcome.run_dir.path / "report" / "index.html"
    if report.exists():
        print(f"report: {report}")
    if outcome.report_error:
        print(
            f"lagrace: warning: the report could not be rendered: {outcome.report_error}",
            file=sys.stderr,
        )
    if outcome.result.reason is EndReason.ERROR:
        print(f"lagrace: error: {outcome.result.detail}", file=sys.stderr)
    return int(findings.verdict.exit_code)
