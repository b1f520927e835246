"""``lagrace run``: placeholder registration, replaced by the module's owner."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser("run", help="(not yet available)")
    parser.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    """Not available yet."""
    raise SystemExit(3)
