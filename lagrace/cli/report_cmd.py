"""``lagrace report RUN_DIR [--out DIR] [--no-png]``: re-render a run's report offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lagrace.exitcodes import ExitCode


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="render a run directory's report (HTML timeline, PNG plots, Perfetto trace)",
        description=(
            "Render RUN_DIR/report/ from the run directory alone: index.html (self-contained "
            "timeline), latency/throughput/lag PNGs, trace.json (open in ui.perfetto.dev or "
            "chrome://tracing) and summary.md. Partial runs render what was recorded."
        ),
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run directory")
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: RUN_DIR/report)"
    )
    parser.add_argument("--no-png", action="store_true", help="skip the matplotlib PNG plots")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    """Render the report and print where it went."""
    from lagrace.report import render_report  # noqa: PLC0415  # matplotlib loads only when asked

    files = render_report(args.run_dir, args.out, png=not args.no_png)
    for note in files.notes:
        print(f"note: {note}")
    print(f"report: {files.html}")
    print(f"trace:  {files.trace} (open in https://ui.perfetto.dev)")
    for png in files.pngs:
        print(f"plot:   {png}")
    return ExitCode.OK
