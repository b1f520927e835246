"""``lagrace suite``: run the scenario catalogue and write its matrix; ``lagrace suite
compare A B`` lines two matrices up (docs/scenarios.md).

A thin shell: options become the suite's overrides, :mod:`lagrace.suite.runner` runs the
scenarios (each one ``lagrace run``), and the exit code says what the matrix shows. The first
SIGINT/SIGTERM ends the current run cleanly and writes the matrix so far; a second one exits
at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from lagrace.cli.interrupt import INTERRUPTED, interruptible
from lagrace.clock import SystemClock
from lagrace.errors import UsageError
from lagrace.loop import run as run_on_loop
from lagrace.scenario import validate, with_overrides
from lagrace.suite.catalogue import FOUND_KINDS, CatalogueEntry, load_catalogue, select
from lagrace.suite.matrix import Matrix, format_compare_markdown, matrix_from_json
from lagrace.suite.runner import (
    Suite,
    SuiteStopped,
    create_suite_dir,
    run_suite,
    run_with,
    suite_exit,
    write_matrix,
)

EXIT_STOPPED: Final = 4
SUITE_EXIT_HELP: Final = (
    "exit codes: 0 every run completed and nothing was found; 1 some scenario was found in at "
    "least one run; 2 nothing found, but some run was inconclusive or the suite was "
    "interrupted; 3 usage, configuration or driver error (one line on stderr); 4 a real "
    "cluster was not clean before the suite or did not come back clean after a run (the "
    "matrix so far is written; the message names the run's directory). `suite --list` and "
    "`suite compare` exit 0, or 3 on bad input."
)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``lagrace suite`` (and ``lagrace suite compare``)."""
    parser = subparsers.add_parser(
        "suite",
        help="run the catalogue of race scenarios; a per-version matrix",
        description=(
            "Run catalogue scenarios (shipped with lagrace; --list shows them) one after "
            "another, --repeat times each, every run a `lagrace run` (the embedded simulated "
            "cluster unless --nodes). On a real cluster the cluster must be clean before the "
            "first run and come back clean after each (what a run left of its own collections "
            "is deleted), else the suite stops. Writes suites/<name>/<UTC time>-<id>/: "
            "matrix.json, matrix.md (scenario x runs: found / not found / inconclusive, with "
            "counts and the Qdrant version; 'not modelled' on the simulated cluster for a "
            "scenario it does not model), runs/. `lagrace suite compare A B` lines up two "
            "matrices (suite directories or matrix.json files). See docs/scenarios.md."
        ),
        epilog=SUITE_EXIT_HELP,
    )
    s = parser.add_argument_group("scenarios")
    s.add_argument("--list", action="store_true", help="list the catalogue and exit")
    s.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="a catalogue scenario to run (repeatable; default: all)",
    )
    s.add_argument("--repeat", type=int, default=1, metavar="N", help="runs per scenario (1)")
    s.add_argument("--seed", type=int, help="seed of the suite; run seeds derive from it")
    s.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a scenario key in every scenario (repeatable), e.g. --set lag.duration_s=5",
    )
    c = parser.add_argument_group("cluster")
    c.add_argument("--nodes", help="comma-separated node URLs of a running cluster")
    c.add_argument("--logs", help="comma-separated log files of those nodes, in node order")
    c.add_argument(
        "--recover",
        type=float,
        default=180.0,
        metavar="S",
        help="real cluster: bound for it to come back clean after a run (180)",
    )
    c.add_argument(
        "--pre-clean",
        type=float,
        default=60.0,
        metavar="S",
        help="real cluster: bound for it to be clean before the first run (60)",
    )
    o = parser.add_argument_group("output")
    o.add_argument("--name", default="suite", help="suite name (default: suite)")
    o.add_argument("--suites-dir", type=Path, default=Path("suites"), help="default ./suites")
    o.add_argument("--run-reports", action="store_true", help="render each run's report")
    o.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(execute=execute)
    sub = parser.add_subparsers(dest="suite_command", metavar="compare")
    cmp = sub.add_parser(
        "compare",
        help="line up two matrices",
        description="Line up two suite matrices (e.g. v1.16.2 against v1.18.3) as Markdown.",
        epilog="exit codes: 0 printed; 3 a path is not a suite directory or matrix.json",
    )
    cmp.add_argument("a", type=Path, help="suite directory or matrix.json (A)")
    cmp.add_argument("b", type=Path, help="suite directory or matrix.json (B)")
    cmp.set_defaults(execute=execute_compare)


def format_list(entries: Sequence[CatalogueEntry]) -> str:
    """``--list``: each scenario, what counts as found, whether the model has it, its text."""
    lines = []
    for e in entries:
        model = "modelled" if e.sim_modelled else "not modelled"
        applies = f", applies to {e.applies_to.text}" if e.applies_to else ""
        lines.append(
            f"{e.name}  (found: {', '.join(e.found)}; simulated cluster: {model}{applies})"
        )
        lines.append(f"    {e.description}")
        lines.append(f"    expects: {e.expects}")
    lines.append("")
    lines.append("found kinds: " + "; ".join(f"{k}: {v}" for k, v in FOUND_KINDS.items()))
    return "\n".join(lines) + "\n"


def suite_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--nodes``/``--logs`` and every ``--set``, as dotted scenario keys."""
    overrides: dict[str, Any] = {}
    if args.nodes:
        overrides["cluster.nodes"] = args.nodes
    if args.logs:
        overrides["cluster.logs"] = args.logs
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise UsageError(f"--set takes KEY=VALUE with a dotted scenario key, got {item!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def _check(
    args: argparse.Namespace, entries: Sequence[CatalogueEntry], over: dict[str, Any]
) -> None:
    """Refuse bad input before anything runs (every scenario with the overrides validates)."""
    if args.repeat < 1:
        raise UsageError(f"--repeat must be >= 1, got {args.repeat}")
    if args.recover <= 0 or args.pre_clean <= 0:
        raise UsageError("--recover and --pre-clean must be > 0 seconds")
    if args.logs and not args.nodes:
        raise UsageError("--logs needs --nodes (the simulated cluster's logs are its own)")
    for entry in entries:
        validate(with_overrides(entry.scenario, over))


def _print_err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def execute(args: argparse.Namespace) -> int:
    """Run the suite (or list the catalogue); print where the matrix is; exit as documented."""
    catalogue = load_catalogue()
    if args.list:
        print(format_list(select(catalogue, args.scenario)), end="")
        return 0
    entries = select(catalogue, args.scenario)
    overrides = suite_overrides(args)
    _check(args, entries, overrides)
    clock = SystemClock()
    suite_dir = create_suite_dir(args.suites_dir, args.name, clock.anchor.unix_ns)
    suite = Suite(
        dir=suite_dir,
        entries=entries,
        overrides=overrides,
        repeat=args.repeat,
        run=run_with(api_key=args.api_key, on_progress=None, report=args.run_reports),
        seed=args.seed,
        api_key=args.api_key,
        pre_clean_s=args.pre_clean,
        recover_s=args.recover,
        on_line=(lambda _line: None) if args.quiet else _print_err,
        clock=clock,
    )
    try:
        matrix = run_on_loop(_run_with_signals(suite), args.loop)
    except SuiteStopped as exc:
        print(f"lagrace: {exc}", file=sys.stderr)
        print(f"matrix: {suite_dir.path / 'matrix.md'}")
        return EXIT_STOPPED
    except BaseException:
        write_matrix(suite)  # what ran so far, whatever stopped the suite
        raise
    print((suite_dir.path / "matrix.md").read_text(encoding="utf-8"), end="")
    print(f"suite directory: {suite_dir.path}")
    return suite_exit(matrix)


async def _run_with_signals(suite: Suite) -> Matrix:
    """Run the suite; the first SIGINT/SIGTERM ends the current run cleanly (it records the
    interruption) and stops; a second exits at once (:mod:`lagrace.cli.interrupt`)."""

    def first() -> None:
        suite.interrupted = True

    got = await interruptible(
        run_suite(suite),
        doing="ending this run and writing the matrix",
        second_exit=2,
        on_first=first,
    )
    if got is INTERRUPTED:  # interrupted between runs: the matrix so far
        suite.ended = "interrupted"
        return write_matrix(suite)
    return got


def load_matrix(path: Path) -> Matrix:
    """A matrix from a suite directory or a ``matrix.json``; :class:`UsageError` otherwise."""
    file = path / "matrix.json" if path.is_dir() else path
    try:
        obj = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} is not a suite directory or matrix.json (no such file)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from exc
    return matrix_from_json(obj, source=str(file))


def execute_compare(args: argparse.Namespace) -> int:
    """Print the two matrices side by side."""
    a, b = load_matrix(args.a), load_matrix(args.b)
    print(format_compare_markdown(a, b), end="")
    return 0
