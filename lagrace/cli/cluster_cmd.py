"""``lagrace cluster --nodes URL[,URL...] [--json]``: discover the cluster and print it.

Calls ``GET /`` and ``GET /cluster`` on every node (the history of these calls stays in
memory: there is no run directory) and prints :func:`lagrace.race.discovery.format_cluster_table`
or, with ``--json``, :func:`lagrace.race.discovery.view_to_json` as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from contextlib import AsyncExitStack
from typing import Any

from lagrace import loop
from lagrace.api.client import HttpNodeClient
from lagrace.clock import SystemClock
from lagrace.exitcodes import ExitCode
from lagrace.race.discovery import (
    ClusterView,
    discover,
    format_cluster_table,
    parse_node_urls,
    view_to_json,
)
from lagrace.recorder import Recorder


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``cluster`` subcommand."""
    parser = subparsers.add_parser(
        "cluster",
        help="show every node's peer id, role, term, commit and consensus health",
        description=(
            "Ask every node GET / and GET /cluster and print one row per node: peer id, role, "
            "leader, term, commit, pending operations, consensus thread status, age of the "
            "consensus thread's last update and message send failures."
        ),
    )
    parser.add_argument(
        "--nodes",
        required=True,
        action="append",
        metavar="URL[,URL...]",
        help="HTTP URLs of the nodes, in node order (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(execute=execute)


async def _discover(urls: tuple[str, ...], api_key: str | None) -> ClusterView:
    clock = SystemClock()
    recorder = Recorder(clock)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(HttpNodeClient(i, url, recorder, api_key=api_key))
            for i, url in enumerate(urls, start=1)
        ]
        return await discover(clients, clock)


def execute(args: argparse.Namespace) -> int:
    """Discover and print; errors reach the CLI's one handler as ``LagraceError``."""
    urls = parse_node_urls(args.nodes)
    view = loop.run(_discover(urls, args.api_key), args.loop)
    if args.json:
        print(json.dumps(view_to_json(view), sort_keys=True))
    else:
        print(format_cluster_table(view))
    return ExitCode.OK
