"""Internal gRPC calls between simulated peers: latency, per-attempt timeout, retries.

A call sends the request (``hop_s``), runs the handler on the target as a task of the target
peer — the handler does not notice when the caller gives up, as a spawned Qdrant handler does
not — and returns its answer after another ``hop_s``. An attempt that gets no answer within
``grpc_timeout_ms + 2 s`` fails as ``Cancelled: Timeout expired`` and is retried, three attempts
in all (notes §4.8: ~21 s at 5000 ms, ~3 min at Qdrant's default 60000 ms). A killed target
refuses the connection at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from lagrace.sim.peer import SimPeer
from lagrace.sim.storage_errors import ErrorKind, StorageError

R = TypeVar("R")

GRPC_TIMEOUT_SLACK_S = 2.0  # Qdrant adds 2 s to grpc_timeout_ms for internal update calls
ATTEMPTS = 3
TIMEOUT_EXPIRED = (
    'status: Cancelled, message: "Timeout expired", details: [], '
    "metadata: MetadataMap { headers: {} }"
)
CONNECTION_REFUSED = (
    'Tonic status error: status: Unavailable, message: "error trying to connect: tcp '
    'connect error: Connection refused (os error 111)"'
)


@dataclass(frozen=True, slots=True)
class CallTiming:
    """The timing of one internal call: one-way latency, per-attempt timeout, attempts."""

    hop_s: float
    attempt_timeout_s: float
    attempts: int = ATTEMPTS

    @classmethod
    def of(cls, peer: SimPeer) -> CallTiming:
        """The timing configured for ``peer``'s cluster."""
        config = peer.config
        return cls(
            hop_s=config.hop_ms / 1000,
            attempt_timeout_s=config.grpc_timeout_ms / 1000 + GRPC_TIMEOUT_SLACK_S,
        )


def timeout_expired() -> StorageError:
    """What a caller sees after the last attempt timed out."""
    return StorageError(ErrorKind.CANCELLED, TIMEOUT_EXPIRED)


async def internal_call(
    caller: SimPeer,
    target: SimPeer,
    handler: Callable[[], Coroutine[Any, Any, R]],
) -> R | StorageError:
    """Call ``handler`` on ``target`` from ``caller``; its answer, or the call's error."""
    timing = CallTiming.of(caller)
    for _ in range(timing.attempts):
        if not target.alive:
            return StorageError(ErrorKind.SERVICE_ERROR, CONNECTION_REFUSED)
        task = target.spawn(_serve(timing.hop_s, handler))
        done, _pending = await asyncio.wait({task}, timeout=timing.attempt_timeout_s)
        if task not in done:
            continue  # the handler goes on; the caller tries again
        if task.cancelled():  # the target was killed while serving
            return StorageError(ErrorKind.SERVICE_ERROR, CONNECTION_REFUSED)
        result = task.result()
        if timing.hop_s > 0:
            await asyncio.sleep(timing.hop_s)
        return result
    return timeout_expired()


async def _serve(hop_s: float, handler: Callable[[], Coroutine[Any, Any, R]]) -> R:
    if hop_s > 0:
        await asyncio.sleep(hop_s)
    return await handler()
