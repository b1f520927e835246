"""``SimConfig``: every knob of the simulated cluster, validated once (``UsageError``).

Timing constants are calibrated from real Qdrant v1.16.2 runs; each one's source is in the table
of ``docs/simulated-cluster.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lagrace.errors import UsageError
from lagrace.sim.mode import Mode

MAX_PORT = 65535
FIRST_PEER_ID = 101  # as scripts/run_cluster.sh sets QDRANT__CLUSTER__PEER_ID: 101, 102, ...


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Configuration of a simulated cluster; times in seconds unless named ``_ms``.

    ``base_port`` 0 picks free ports; otherwise node ``n`` listens on ``base_port + n - 1``.
    ``log_dir`` ``None`` means a fresh temporary directory. Peer ids are ``peer_ids`` if given,
    else random ones from the seed if ``random_peer_ids``, else 101, 102, ... (node N has the
    highest id, so it is the write-ordering leader).
    """

    nodes: int = 3
    base_port: int = 0
    peer_ids: tuple[int, ...] | None = None
    random_peer_ids: bool = False
    seed: int = 0
    log_dir: Path | None = None
    mode: Mode = Mode.BUGGY
    staging: bool = True
    grpc_timeout_ms: int = 60_000
    hop_ms: float = 5.0
    update_apply_ms: float = 50.0
    update_rate_limit: int = 2
    create_apply_ms: float = 230.0
    create_guarded_ms: float = 130.0
    apply_cost_ms: float = 2.0
    recovery_s: float = 1.0
    tick_ms: float = 20.0
    heartbeat_ms: float = 200.0
    message_timeout_s: float = 1.0
    election_timeout_s: tuple[float, float] = (2.0, 4.0)
    meta_op_timeout_s: float = 10.0
    deactivation_timeout_s: float = 30.0

    def resolved_peer_ids(self) -> tuple[int, ...] | None:
        """The explicit or default peer ids; ``None`` when they come from the seed."""
        if self.peer_ids is not None:
            return self.peer_ids
        if self.random_peer_ids:
            return None
        return tuple(range(FIRST_PEER_ID, FIRST_PEER_ID + self.nodes))

    def validated(self) -> SimConfig:
        """Return ``self`` if every value is usable, else raise ``UsageError``."""
        if self.nodes < 1:
            raise UsageError(f"--nodes must be at least 1, got {self.nodes}")
        if not 0 <= self.base_port <= MAX_PORT - self.nodes + 1:
            raise UsageError(f"--base-port must be 0 or a port with room for {self.nodes} nodes")
        if self.peer_ids is not None:
            if self.random_peer_ids:
                raise UsageError("--peer-ids and --random-peer-ids exclude each other")
            if len(self.peer_ids) != self.nodes:
                raise UsageError(
                    f"--peer-ids lists {len(self.peer_ids)} ids for {self.nodes} nodes"
                )
            if len(set(self.peer_ids)) != len(self.peer_ids):
                raise UsageError("--peer-ids must be distinct")
            if any(not 1 <= peer <= 2**53 for peer in self.peer_ids):
                raise UsageError("--peer-ids must lie in 1..2^53")
        if self.grpc_timeout_ms < 1:
            raise UsageError(f"--grpc-timeout-ms must be at least 1, got {self.grpc_timeout_ms}")
        if self.update_rate_limit < 1:
            raise UsageError(f"update_rate_limit must be at least 1, got {self.update_rate_limit}")
        if not 0 <= self.create_guarded_ms <= self.create_apply_ms:
            raise UsageError("create_guarded_ms must lie in 0..create_apply_ms")
        not_negative = {
            "--apply-cost-ms": self.apply_cost_ms,
            "--recovery-s": self.recovery_s,
            "hop_ms": self.hop_ms,
            "update_apply_ms": self.update_apply_ms,
            "create_apply_ms": self.create_apply_ms,
        }
        for name, value in not_negative.items():
            if value < 0:
                raise UsageError(f"{name} must not be negative, got {value}")
        strictly_positive = {
            "tick_ms": self.tick_ms,
            "heartbeat_ms": self.heartbeat_ms,
            "message_timeout_s": self.message_timeout_s,
            "meta_op_timeout_s": self.meta_op_timeout_s,
            "deactivation_timeout_s": self.deactivation_timeout_s,
        }
        for name, value in strictly_positive.items():
            if value <= 0:
                raise UsageError(f"{name} must be positive, got {value}")
        low, high = self.election_timeout_s
        if not 0 < low <= high:
            raise UsageError(f"election_timeout_s must be 0 < low <= high, got {low}, {high}")
        return self
