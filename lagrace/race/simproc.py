"""Starting the embedded simulated cluster as a child process (``lagrace sim --json``).

``lagrace run`` with no ``--nodes`` races the model: it starts ``python -m lagrace sim`` on free
loopback ports, reads the one JSON line the child prints when ready, and stops it at the end
(SIGTERM, then SIGKILL after a grace period). The child's stderr goes to a file of the run.

The child must not outlive the driver, even when the driver is killed with SIGKILL or leaves
with ``os._exit`` (a second SIGINT): on Linux it is started with ``PR_SET_PDEATHSIG`` = SIGTERM,
so the kernel sends it SIGTERM when its parent dies, and it stops as on an ordinary SIGTERM.
Elsewhere only the ordinary stop applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lagrace.errors import SimulationError

READY_TIMEOUT_S: Final = 30.0
STOP_GRACE_S: Final = 5.0
_PR_SET_PDEATHSIG: Final = 1  # <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """In the forked child, before exec: ask for SIGTERM when the parent dies (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl: it would never fire
        os._exit(1)


@dataclass(frozen=True, slots=True)
class ReadyNode:
    """One peer of the simulated cluster as the child reported it."""

    node: int
    url: str
    peer_id: int
    log: Path


@dataclass(frozen=True, slots=True)
class SimProcess:
    """A running simulated cluster."""

    pid: int
    mode: str
    seed: int
    model: str
    nodes: tuple[ReadyNode, ...]


def parse_ready_line(line: str) -> tuple[str, str, int, tuple[ReadyNode, ...]]:
    """Parse the child's ready line: model label, mode, seed, nodes."""
    try:
        obj: Any = json.loads(line)
        nodes = tuple(
            ReadyNode(
                node=int(n["node"]),
                url=str(n["url"]),
                peer_id=int(n["peer_id"]),
                log=Path(n["log"]),
            )
            for n in obj["nodes"]
        )
        return str(obj["model"]), str(obj["mode"]), int(obj["seed"]), nodes
    except (ValueError, KeyError, TypeError) as exc:
        raise SimulationError(
            f"the simulated cluster printed an unexpected line: {line!r}"
        ) from exc


@contextlib.asynccontextmanager
async def simulated_cluster(
    *,
    nodes: int,
    mode: str,
    seed: int,
    log_dir: Path,
    grpc_timeout_ms: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> AsyncIterator[SimProcess]:
    """Run ``lagrace sim`` as a child for the duration of the block; its logs go to
    ``log_dir`` (which must exist) and its stderr to ``log_dir/sim.stderr``.

    ``grpc_timeout_ms`` is the model's internal gRPC timeout (``--grpc-timeout-ms``); ``None``
    keeps the model's default (Qdrant's 60000)."""
    stderr_path = log_dir / "sim.stderr"
    args = [
        sys.executable,
        "-m",
        "lagrace",
        "sim",
        "--nodes",
        str(nodes),
        "--mode",
        mode,
        "--seed",
        str(seed),
        "--log-dir",
        str(log_dir),
        "--json",
        *(("--grpc-timeout-ms", str(grpc_timeout_ms)) if grpc_timeout_ms is not None else ()),
        *extra_args,
    ]
    with stderr_path.open("ab") as err:
        parent = os.getpid()
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            preexec_fn=(lambda: _die_with_parent(parent)) if sys.platform == "linux" else None,
        )
        try:
            assert proc.stdout is not None
            try:
                async with asyncio.timeout(READY_TIMEOUT_S):
                    line = (await proc.stdout.readline()).decode("utf-8", errors="replace")
            except TimeoutError as exc:
                raise SimulationError(
                    f"the simulated cluster did not start within {READY_TIMEOUT_S:g} s "
                    f"(see {stderr_path})"
                ) from exc
            if not line:
                raise SimulationError(
                    f"the simulated cluster exited before it was ready (see {stderr_path})"
                )
            model, got_mode, got_seed, sim_nodes = parse_ready_line(line)
            yield SimProcess(proc.pid, got_mode, got_seed, model, sim_nodes)
        finally:
            await _stop(proc)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after the grace period; interrupted, SIGKILL at once.

    The child is gone when this returns or raises (a cancelled stop must not leave it behind).
    """
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
        proc.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(STOP_GRACE_S):
            await proc.wait()
    except TimeoutError:
        _kill(proc)
        await proc.wait()
    except asyncio.CancelledError:
        _kill(proc)
        await proc.wait()
        raise


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):  # exited between the two calls
        proc.kill()
