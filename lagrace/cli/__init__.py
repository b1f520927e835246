"""The ``lagrace`` command: a thin shell over the library; the exit code carries the verdict.

Subcommands live in sibling modules, each with ``register(subparsers)`` that adds its parser
and sets ``execute`` (``Namespace -> int``). Errors are caught once, here: a
:class:`~lagrace.errors.LagraceError` prints one line to stderr and exits 3.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from lagrace import __version__
from lagrace.cli import (
    bench_cmd,
    cluster_cmd,
    hunt_cmd,
    report_cmd,
    run_cmd,
    sim_cmd,
    suite_cmd,
)
from lagrace.errors import LagraceError, sole_lagrace_error
from lagrace.exitcodes import EXIT_CODES_HELP, ExitCode
from lagrace.logsetup import configure_logging

Execute = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that exits with the documented usage code (3) instead of 2."""

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse's is NoReturn
        self.print_usage(sys.stderr)
        print(f"lagrace: error: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.ERROR)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand."""
    parser = _Parser(
        prog="lagrace",
        description=(
            "An asyncio load-and-race driver for Qdrant consensus races: make one peer lag in "
            "applying Raft entries, create collections during the lag, hammer an existing "
            "collection, watch every peer, and line it all up on one clock."
        ),
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"lagrace {__version__}")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LAGRACE_API_KEY") or None,
        help="Qdrant API key, sent as the api-key header and never logged or recorded "
        "(default: $LAGRACE_API_KEY, which keeps it out of the process list)",
    )
    parser.add_argument(
        "--log-format",
        choices=("console", "json"),
        default="console",
        help="format of lagrace's own diagnostics on stderr (default: console)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="level of lagrace's own diagnostics (default: warning)",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop implementation (default: uvloop)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (run_cmd, hunt_cmd, suite_cmd, bench_cmd, cluster_cmd, sim_cmd, report_cmd):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in process; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.ERROR
    execute: Execute | None = getattr(args, "execute", None)
    if execute is None:
        parser.print_help(sys.stderr)
        return ExitCode.ERROR
    configure_logging(args.log_format, args.log_level)
    try:
        return execute(args)
    except LagraceError as exc:
        print(f"lagrace: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BaseExceptionGroup as group:
        first = sole_lagrace_error(group)
        if first is None:
            raise
        print(f"lagrace: error: {first}", file=sys.stderr)
        return first.exit_code
    except KeyboardInterrupt:
        print("lagrace: interrupted", file=sys.stderr)
        return ExitCode.INCONCLUSIVE


def run_main() -> None:
    """Console-script entry point."""
    sys.exit(main(sys.argv[1:]))
