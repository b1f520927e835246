#!/usr/bin/env python3
"""The consensus-lag reproduction as first described, built on lagrace's library.

Runs one lagrace race with the parameters of the original report: ``existing_collection``
(3 shards, replication factor 3) under upserts, ``test_slow_down`` of node 2's peer for
``--duration`` seconds (default 20) proposed through node 1, and one ``new_collection`` created
through node 1 during the lag. lagrace appends the run id to both names, so a run never touches
a collection it did not create. Prints the findings' timeline and the verdict; the exit code is
the verdict's: 0 not reproduced, 1 reproduced, 2 inconclusive, 3 usage/environment error.

Without ``--nodes`` it races lagrace's embedded simulated cluster (``--mode buggy|fixed``).
Against a ``scripts/run_cluster.sh`` cluster::

    scripts/test_consensus_lag_bug.py --nodes URL,URL,URL --logs LOG,LOG,LOG
    scripts/test_consensus_lag_bug.py --cluster-dir ./cluster   # reads NODES/LOGS from there

As in the original report, ``./scripts/run_cluster.sh 3`` then ``python3
scripts/test_consensus_lag_bug.py`` works with the system's python3: without ``--nodes`` the
script uses the cluster that ``run_cluster.sh`` started in ``$LAGRACE_CLUSTER_DIR`` or
``./cluster`` if there is one (``--sim`` races the simulated cluster instead), and it re-runs
itself with the project's ``.venv`` interpreter, setting that up first with
``scripts/bootstrap.sh`` when it is missing.

The writes are the recipe that reproduced on real Qdrant v1.16.2 (notes §4.8):
``ordering=strong`` and ``wait=true`` upserts through the lagging node 2, 8 workers at 25
writes/s in all; ``--ordering weak`` is the control that does not reproduce.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _ensure_project_python() -> None:
    """Re-run this script with the project's ``.venv`` interpreter unless lagrace imports here;
    create the venv with ``scripts/bootstrap.sh`` first when it does not exist."""
    if importlib.util.find_spec("lagrace") is not None:
        return
    venv_python = REPO / ".venv" / "bin" / "python"
    if os.environ.get("LAGRACE_SCRIPT_REEXEC") == "1":
        sys.stderr.write(
            f"test_consensus_lag_bug.py: error: lagrace does not import with {venv_python}; "
            f"run {REPO / 'scripts' / 'bootstrap.sh'}\n"
        )
        sys.exit(3)
    if not venv_python.exists():
        sys.stderr.write("test_consensus_lag_bug.py: setting up the project's .venv first\n")
        bootstrap = ["bash", str(REPO / "scripts" / "bootstrap.sh")]  # the repo's own script
        setup = subprocess.run(bootstrap, check=False)  # noqa: S603  # fixed argv
        if setup.returncode != 0:
            sys.stderr.write("test_consensus_lag_bug.py: error: scripts/bootstrap.sh failed\n")
            sys.exit(3)
    os.environ["LAGRACE_SCRIPT_REEXEC"] = "1"
    argv = [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]]
    os.execv(argv[0], argv)  # noqa: S606  # this same script under the project's interpreter


if __name__ == "__main__":
    _ensure_project_python()

import argparse  # noqa: E402  # after the interpreter check above, like the lagrace imports
import shlex  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from lagrace.errors import LagraceError, UsageError  # noqa: E402
from lagrace.exitcodes import EXIT_CODES_HELP, ExitCode  # noqa: E402
from lagrace.logsetup import configure_logging  # noqa: E402
from lagrace.loop import run as run_on_loop  # noqa: E402
from lagrace.race.orchestrate import RunOutcome, run_scenario  # noqa: E402
from lagrace.render.terminal import format_timeline, format_verdict  # noqa: E402
from lagrace.scenario import Scenario, validate, with_overrides  # noqa: E402

EXISTING = "existing_collection"
NEW = "new_collection"
LAG_OFFSET_S = 1.0  # the slow-down goes out this long after the race starts
TIME_LIMIT_MARGIN_S = 15.0


def build_parser() -> argparse.ArgumentParser:
    """The script's options."""
    parser = argparse.ArgumentParser(
        prog="test_consensus_lag_bug.py",
        description=__doc__,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("urls", nargs="*", metavar="URL", help="node URLs (or use --nodes)")
    parser.add_argument("--nodes", help="comma-separated node URLs of a running cluster")
    parser.add_argument("--logs", help="comma-separated log files of those nodes, in node order")
    parser.add_argument(
        "--cluster-dir", type=Path, help="read NODES/LOGS from a run_cluster.sh directory"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="slow-down seconds (20)")
    parser.add_argument(
        "--create-offset",
        type=float,
        default=1.0,
        help="seconds after the slow-down to create new_collection (1)",
    )
    parser.add_argument(
        "--settle", type=float, default=60.0, help="bound on settling after the lag (60)"
    )
    parser.add_argument("--workers", type=int, help="upsert workers (lagrace's default, 8)")
    parser.add_argument(
        "--ordering",
        choices=("weak", "medium", "strong"),
        help="write ordering of the upserts (strong; weak is the control)",
    )
    parser.add_argument(
        "--sim", action="store_true", help="race the simulated cluster even if ./cluster runs"
    )
    parser.add_argument("--mode", choices=("buggy", "fixed"), help="simulated cluster's mode")
    parser.add_argument(
        "--sim-grpc-timeout-ms",
        type=int,
        help="the simulated cluster's internal gRPC timeout (5000; a freeze lasts 3 x (MS + 2 s))",
    )
    parser.add_argument("--seed", type=int, help="seed of the run (and of the simulated cluster)")
    parser.add_argument("--keep", action="store_true", help="keep the created collections")
    parser.add_argument("--runs-dir", default="runs", help="where run directories go (./runs)")
    parser.add_argument("--report", action="store_true", help="also render the HTML/PNG report")
    parser.add_argument("--api-key", help="Qdrant API key")
    return parser


def read_cluster_env(directory: Path) -> tuple[str, str]:
    """``NODES`` and ``LOGS`` from a run_cluster.sh ``cluster.env`` (shell-quoted values)."""
    path = directory / "cluster.env"
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"no run_cluster.sh cluster in {directory} ({exc.strerror})") from exc
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        if sep:
            words = shlex.split(raw)
            values[key] = words[0] if words else ""
    nodes = values.get("NODES", "")
    if not nodes:
        raise UsageError(f"{path} names no NODES")
    return nodes, values.get("LOGS", "")


def default_cluster_dir() -> Path | None:
    """``$LAGRACE_CLUSTER_DIR`` or ``./cluster`` when it holds a run_cluster.sh ``cluster.env``
    (where ``./scripts/run_cluster.sh 3`` puts it), else ``None``."""
    directory = Path(os.environ.get("LAGRACE_CLUSTER_DIR") or "cluster")
    return directory if (directory / "cluster.env").is_file() else None


def scenario_for(args: argparse.Namespace) -> Scenario:
    """The lagrace scenario of the original report, with this run's options."""
    nodes: str | None = args.nodes
    logs: str | None = args.logs
    if args.urls:
        if nodes:
            raise UsageError("give the nodes either as arguments or with --nodes, not both")
        nodes = ",".join(args.urls)
    if args.cluster_dir is not None:
        if nodes:
            raise UsageError("--cluster-dir and --nodes exclude each other")
        nodes, env_logs = read_cluster_env(args.cluster_dir)
        logs = logs or env_logs or None
    elif not nodes and not args.sim and not args.mode:
        found = default_cluster_dir()
        if found is not None:
            nodes, env_logs = read_cluster_env(found)
            logs = logs or env_logs or None
            print(f"using the cluster run_cluster.sh started in {found}", file=sys.stderr)
    if args.sim and nodes:
        raise UsageError("--sim races the simulated cluster: give no --nodes or --cluster-dir")
    if nodes and args.mode:
        raise UsageError("--mode applies to the simulated cluster only (no --nodes)")
    if logs and not nodes:
        raise UsageError("--logs needs --nodes")
    overrides: dict[str, Any] = {
        "run.name": "consensus-lag-bug",
        "run.seed": args.seed,
        "run.settle_s": args.settle,
        "run.time_limit_s": LAG_OFFSET_S + args.duration + args.settle + TIME_LIMIT_MARGIN_S,
        "run.keep": args.keep,
        "run.runs_dir": args.runs_dir,
        "run.report": args.report,
        "cluster.nodes": nodes,
        "cluster.logs": logs,
        "cluster.sim_mode": args.mode,
        "cluster.sim_grpc_timeout_ms": args.sim_grpc_timeout_ms,
        "existing.name": EXISTING,
        "existing.shards": 3,
        "existing.replication_factor": 3,
        "lag.target": "2",
        "lag.via": "1",
        "lag.duration_s": args.duration,
        "lag.offset_s": LAG_OFFSET_S,
        "lag.repeat": 1,
        "burst.count": 1,
        "burst.concurrency": 1,
        "burst.prefix": NEW,
        "burst.via": "1",
        "burst.offset_s": args.create_offset,
        "burst.shards": 3,
        "burst.replication_factor": 3,
        "hammer.workers": args.workers,
        "hammer.ordering": args.ordering,
    }
    return validate(with_overrides(Scenario(), overrides))


def print_outcome(outcome: RunOutcome) -> None:
    """The timeline, the verdict and where the run directory is."""
    print(format_timeline(outcome.findings), end="")
    print()
    print(format_verdict(outcome.findings), end="")
    print(f"run directory: {outcome.run_dir.path}")
    if outcome.result.reason == "error":
        print(f"error: {outcome.result.detail}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the reproduction; the exit code is the verdict's."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (argparse's 2 -> our 3)
        return ExitCode.OK if exc.code == 0 else ExitCode.ERROR
    configure_logging("console", "warning")
    try:
        scenario = scenario_for(args)
        outcome = run_on_loop(run_scenario(scenario, api_key=args.api_key))
    except LagraceError as exc:
        print(f"test_consensus_lag_bug.py: error: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        print("test_consensus_lag_bug.py: interrupted", file=sys.stderr)
        return ExitCode.INCONCLUSIVE
    print_outcome(outcome)
    return int(outcome.findings.verdict.exit_code)


if __name__ == "__main__":
    sys.exit(main())
