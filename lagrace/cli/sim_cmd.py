"""``lagrace sim``: run the simulated Qdrant cluster (a model, not Qdrant) until SIGINT/SIGTERM.

When every node listens it prints the nodes (a table, or with ``--json`` exactly one JSON line)
and flushes stdout, so a parent process can read the line and start driving the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
from pathlib import Path
from typing import Any

from lagrace.errors import UsageError
from lagrace.exitcodes import ExitCode
from lagrace.loop import run
from lagrace.sim.cluster import MODEL_LABEL, ServedPeer, SimCluster
from lagrace.sim.config import SimConfig
from lagrace.sim.mode import Mode


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``sim`` subcommand."""
    parser = subparsers.add_parser(
        "sim",
        help="run a simulated Qdrant cluster on loopback (a model, not Qdrant)",
        description=(
            f"Run the {MODEL_LABEL}: one HTTP port per peer on 127.0.0.1, per-peer log files in "
            "Qdrant's text format. Runs until SIGINT or SIGTERM. See docs/simulated-cluster.md."
        ),
    )
    parser.add_argument("--nodes", type=int, default=3, help="number of peers (default 3)")
    parser.add_argument(
        "--base-port",
        type=int,
        default=0,
        help="node n listens on BASE_PORT+n-1 (default 0: free ports)",
    )
    parser.add_argument(
        "--peer-ids",
        default=None,
        help="comma-separated peer ids (default: 101, 102, ...; node N is the ordering leader)",
    )
    parser.add_argument(
        "--random-peer-ids",
        action="store_true",
        help="draw random peer ids from the seed, as Qdrant does without PEER_ID",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of every random choice (default: random)"
    )
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="where peer-N.log go (default: a temp dir)"
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.BUGGY.value,
        help=(
            "buggy: Qdrant v1.16.x, a write holds the table-of-contents read guard for the whole "
            "request; fixed: v1.17.0+, released after the collection lookup (default buggy)"
        ),
    )
    parser.add_argument(
        "--grpc-timeout-ms",
        type=int,
        default=60_000,
        help=(
            "internal gRPC timeout, like QDRANT__CLUSTER__GRPC_TIMEOUT_MS; an internal update "
            "attempt times out after this + 2 s, three attempts (default 60000)"
        ),
    )
    parser.add_argument(
        "--no-staging",
        action="store_true",
        help="behave like a build without the `staging` feature (no test_slow_down)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line when ready")
    parser.add_argument(
        "--apply-cost-ms", type=float, default=2.0, help="apply time per Raft entry (default 2)"
    )
    parser.add_argument(
        "--recovery-s",
        type=float,
        default=1.0,
        help="how long a Dead replica's recovery transfer stays Partial (default 1)",
    )
    parser.set_defaults(execute=execute)


def parse_peer_ids(text: str | None) -> tuple[int, ...] | None:
    """``"101,102,103"`` → ``(101, 102, 103)``; ``UsageError`` if it is not a list of integers."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--peer-ids must be comma-separated integers, got {text!r}") from None


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """The validated ``SimConfig`` of the command line."""
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    return SimConfig(
        nodes=args.nodes,
        base_port=args.base_port,
        peer_ids=parse_peer_ids(args.peer_ids),
        random_peer_ids=args.random_peer_ids,
        seed=seed,
        log_dir=args.log_dir.resolve() if args.log_dir is not None else None,
        mode=Mode(args.mode),
        staging=not args.no_staging,
        apply_cost_ms=args.apply_cost_ms,
        recovery_s=args.recovery_s,
        grpc_timeout_ms=args.grpc_timeout_ms,
    ).validated()


def format_ready_json(config: SimConfig, nodes: list[ServedPeer]) -> str:
    """The one JSON line printed with ``--json``."""
    return json.dumps(
        {
            "model": MODEL_LABEL,
            "mode": config.mode.value,
            "version": config.mode.version,
            "grpc_timeout_ms": config.grpc_timeout_ms,
            "seed": config.seed,
            "staging": config.staging,
            "nodes": [
                {"node": n.node, "url": n.url, "peer_id": n.peer_id, "log": str(n.log_path)}
                for n in nodes
            ],
        }
    )


def format_ready_table(config: SimConfig, nodes: list[ServedPeer]) -> str:
    """The human-readable listing of the running nodes."""
    staging = "on" if config.staging else "off"
    lines = [
        f"{MODEL_LABEL}: mode {config.mode.value} (Qdrant {config.mode.version}), "
        f"grpc_timeout_ms {config.grpc_timeout_ms}, seed {config.seed}, staging {staging}",
        f"{'node':>4}  {'url':<24}  {'peer_id':>16}  log",
    ]
    lines.extend(f"{n.node:>4}  {n.url:<24}  {n.peer_id:>16}  {n.log_path}" for n in nodes)
    lines.append("Ctrl-C (SIGINT) or SIGTERM stops the cluster.")
    return "\n".join(lines)


async def serve(config: SimConfig, *, as_json: bool) -> None:
    """Run the cluster, print the ready message, and wait for SIGINT/SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SimCluster.start(config) as cluster:
            text = format_ready_json if as_json else format_ready_table
            print(text(config, cluster.nodes), flush=True)
            await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def execute(args: argparse.Namespace) -> int:
    """Run ``lagrace sim``; 0 after a clean stop."""
    config = config_from_args(args)
    run(serve(config, as_json=args.json), loop=args.loop)
    return ExitCode.OK
