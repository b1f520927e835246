"""What a bench runs, validated once: workload, pacing, length, condition, measurement.

Pure. :func:`validate` raises :class:`~lagrace.errors.UsageError` for anything unusable, before
a cluster is touched; :func:`config_to_json` is what ``config.json`` and ``bench.json`` keep.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from lagrace.errors import UsageError

WORKLOADS: Final = ("noop", "create", "mix")
LOADS: Final = ("idle", "weak", "strong")
MIX_CREATE_EVERY: Final = 4  # in the mix, every 4th entry of a slot is a create/delete pair
NOOP_STEP_S: Final = 1e-6  # slot k's no-op asks for k µs: distinct proposals, still 0 ms slept


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """One bench; times in seconds.

    ``workload``: ``noop`` (``test_slow_down`` of duration 0 aimed at ``target``, which every
    peer still applies in order), ``create`` (collection create/delete pairs) or ``mix``.
    Pacing: ``concurrency`` entries in flight (closed loop), or ``rate`` entries per second
    (open loop, at most ``concurrency`` in flight). Length: ``duration_s`` or ``count``
    measured entries, after ``warmup_s`` not measured. Condition: ``load`` (``idle``, or the
    hammer of ``lagrace run`` with ``weak``/``strong`` ordering), optionally one peer
    (``slow_node``) slowed for ``slow_s`` once the measurement starts. ``poll_s`` is the
    interval of the ``GET /cluster`` pollers of every peer (the resolution of what they see).
    """

    workload: str = "noop"
    concurrency: int = 1
    rate: float | None = None
    duration_s: float | None = 10.0
    count: int | None = None
    warmup_s: float = 1.0
    load: str = "idle"
    load_workers: int = 8
    load_rate: float = 25.0
    load_peers: str = "round-robin"
    slow_node: int | None = None
    slow_s: float = 5.0
    target: int = 2
    via: int = 1
    poll_s: float = 0.01
    stall_factor: float = 10.0
    stall_min_s: float = 0.5
    create_shards: int = 1
    entry_timeout_s: int = 30
    name: str = "bench"
    runs_dir: str = "runs"
    seed: int | None = None
    nodes: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    sim_nodes: int = 3
    sim_mode: str = "buggy"
    sim_apply_cost_ms: float | None = None
    keep: bool = False

    @property
    def uses_sim(self) -> bool:
        """No nodes given: bench the embedded simulated cluster."""
        return not self.nodes

    @property
    def node_count(self) -> int:
        """How many nodes the bench talks to."""
        return len(self.nodes) if self.nodes else self.sim_nodes


def _positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise UsageError(f"{name} must be positive, got {value:g}")


def validate(cfg: BenchConfig) -> BenchConfig:
    """Return ``cfg`` if every value is usable, else raise :class:`UsageError`."""
    if cfg.workload not in WORKLOADS:
        raise UsageError(f"--workload must be one of {', '.join(WORKLOADS)}, got {cfg.workload!r}")
    if cfg.load not in LOADS:
        raise UsageError(f"--load must be one of {', '.join(LOADS)}, got {cfg.load!r}")
    if cfg.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {cfg.concurrency}")
    if cfg.concurrency > 1000:
        raise UsageError("--concurrency above 1000 would make no-ops sleep (slot k asks k µs)")
    if (cfg.duration_s is None) == (cfg.count is None):
        raise UsageError("give exactly one of --duration and --count")
    if cfg.count is not None and cfg.count < 1:
        raise UsageError(f"--count must be at least 1, got {cfg.count}")
    for name, value in (
        ("--rate", cfg.rate),
        ("--duration", cfg.duration_s),
        ("--poll", cfg.poll_s),
        ("--slow-for", cfg.slow_s),
        ("--load-rate", cfg.load_rate),
        ("--stall-factor", cfg.stall_factor),
    ):
        _positive(name, value)
    if cfg.warmup_s < 0:
        raise UsageError(f"--warmup must not be negative, got {cfg.warmup_s:g}")
    if cfg.poll_s < 0.001:
        raise UsageError(f"--poll below 1 ms only measures the driver, got {cfg.poll_s:g} s")
    if cfg.load != "idle" and cfg.load_workers < 1:
        raise UsageError("--load-workers must be at least 1 under write load")
    if cfg.create_shards < 1 or cfg.entry_timeout_s < 1:
        raise UsageError("--create-shards and --entry-timeout must be at least 1")
    count = cfg.node_count
    if count < 1:
        raise UsageError("a bench needs at least one node")
    if cfg.logs and len(cfg.logs) != len(cfg.nodes):
        raise UsageError(f"--logs lists {len(cfg.logs)} files for {len(cfg.nodes)} nodes")
    for name, node in (("--target", cfg.target), ("--via", cfg.via), ("--slow", cfg.slow_node)):
        if node is not None and not 1 <= node <= count:
            raise UsageError(f"{name} must be a node number 1..{count}, got {node}")
    if cfg.slow_node is not None and cfg.slow_node == cfg.via:
        raise UsageError(
            "--slow must not be the --via node: the proposer's answers would wait for its sleep"
        )
    if cfg.sim_apply_cost_ms is not None and cfg.sim_apply_cost_ms < 0:
        raise UsageError("--sim-apply-cost-ms must not be negative")
    if cfg.sim_apply_cost_ms is not None and not cfg.uses_sim:
        raise UsageError("--sim-apply-cost-ms configures the simulated cluster: drop --nodes")
    return cfg


def with_changes(cfg: BenchConfig, **changes: Any) -> BenchConfig:
    """``cfg`` with some fields replaced (``None`` values ignored), validated."""
    return validate(dataclasses.replace(cfg, **{k: v for k, v in changes.items() if v is not None}))


def config_to_json(cfg: BenchConfig) -> dict[str, Any]:
    """Every field, JSON-ready (tuples as lists)."""
    out = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def config_from_json(obj: dict[str, Any]) -> BenchConfig:
    """Read :func:`config_to_json`'s form back (unknown keys are ignored)."""
    names = {f.name for f in dataclasses.fields(BenchConfig)}
    kept: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in obj.items() if k in names
    }
    return BenchConfig(**kept)


def noop_duration_s(slot: int) -> float:
    """Slot ``slot``'s no-op duration: distinct per slot (identical in-flight proposals through
    one node merge into one entry, notes §2.7), below 1 ms so nobody sleeps."""
    return slot * NOOP_STEP_S
