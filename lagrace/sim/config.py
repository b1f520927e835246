"""``SimConfig``: every knob of the simulated cluster, validated once (``UsageError``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lagrace.errors import UsageError
from lagrace.sim.late_create import Mode

MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Configuration of a simulated cluster; times in seconds unless named ``_ms``.

    ``base_port`` 0 picks free ports; otherwise node ``n`` listens on ``base_port + n - 1``.
    ``log_dir`` ``None`` means a fresh temporary directory.
    """

    nodes: int = 3
    base_port: int = 0
    peer_ids: tuple[int, ...] | None = None
    seed: int = 0
    log_dir: Path | None = None
    mode: Mode = Mode.BUGGY
    staging: bool = True
    apply_cost_ms: float = 2.0
    recovery_s: float = 3.0
    tick_ms: float = 20.0
    heartbeat_ms: float = 200.0
    message_timeout_s: float = 1.0
    election_timeout_s: tuple[float, float] = (2.0, 4.0)
    internal_timeout_s: float = 1.0
    late_create_threshold_s: float = 1.0
    late_create_block_s: float = 2.5
    meta_op_timeout_s: float = 10.0
    deactivation_timeout_s: float = 30.0

    def validated(self) -> SimConfig:
        """Return ``self`` if every value is usable, else raise ``UsageError``."""
        if self.nodes < 1:
            raise UsageError(f"--nodes must be at least 1, got {self.nodes}")
        if not 0 <= self.base_port <= MAX_PORT - self.nodes + 1:
            raise UsageError(f"--base-port must be 0 or a port with room for {self.nodes} nodes")
        if self.peer_ids is not None:
            if len(self.peer_ids) != self.nodes:
                raise UsageError(
                    f"--peer-ids lists {len(self.peer_ids)} ids for {self.nodes} nodes"
                )
            if len(set(self.peer_ids)) != len(self.peer_ids):
                raise UsageError("--peer-ids must be distinct")
            if any(not 1 <= peer <= 2**53 for peer in self.peer_ids):
                raise UsageError("--peer-ids must lie in 1..2^53")
        positive = {
            "--apply-cost-ms": self.apply_cost_ms,
            "--recovery-s": self.recovery_s,
            "late_create_block_s": self.late_create_block_s,
            "late_create_threshold_s": self.late_create_threshold_s,
        }
        for name, value in positive.items():
            if value < 0:
                raise UsageError(f"{name} must not be negative, got {value}")
        strictly_positive = {
            "tick_ms": self.tick_ms,
            "heartbeat_ms": self.heartbeat_ms,
            "message_timeout_s": self.message_timeout_s,
            "internal_timeout_s": self.internal_timeout_s,
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
