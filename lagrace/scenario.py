"""The scenario: every knob of a race run, as frozen data, from defaults, a TOML file and options.

Pure: loading a TOML file is parsing bytes; nothing here touches the cluster. Validation raises
:class:`~lagrace.errors.ScenarioError` with one line that names the offending key.

TOML layout (every key optional; see ``docs/scenario.md``)::

    [run]      name, seed, time_limit_s, settle_s, settle_hold_s, settle_quiet_s, keep, runs_dir,
               report, frozen_wait_s
    [cluster]  nodes = ["http://127.0.0.1:6333", ...], logs = ["/path/peer1.log", ...],
               sim_mode = "buggy" | "fixed", sim_nodes,
               sim_grpc_timeout_ms
    [existing] name, shards, replication_factor, vector_size, preload
    [lag]      target, duration_s, offset_s, repeat, interval_s, via, timeout_s
    [burst]    count, concurrency, spacing_s, offset_s, via, shards, replication_factor,
               timeout_s, prefix
    [hammer]   workers, batch, wait = "true" | "false" | "mixed", ordering, peers, mode,
               rate, timeout_s
    [delete]   count, offset_s, via, target = "existing" | "created", timeout_s
    [watch]    interval_s
    [signatures] <name> = "<regex>"   extra log signatures that count as the race
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

from lagrace.errors import ScenarioError

MAX_SLOW_DOWN_S: Final = 300.0  # Qdrant validates 0 <= duration <= 300 (notes §2.7)


@dataclass(frozen=True, slots=True)
class RunSection:
    """Run-wide settings."""

    name: str = "consensus-lag"
    seed: int | None = None
    time_limit_s: float = 120.0
    settle_s: float = 60.0
    settle_hold_s: float = 3.0
    settle_quiet_s: float = 12.0
    keep: bool = False
    runs_dir: str = "runs"
    report: bool = True
    # a peer still frozen by an earlier race is waited for this long before exit 2 (Qdrant's
    # default gRPC timeout keeps one frozen ~3 min: notes §4.8)
    frozen_wait_s: float = 240.0


@dataclass(frozen=True, slots=True)
class ClusterSection:
    """Which cluster to race: given URLs, or the embedded simulated cluster."""

    nodes: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    sim_mode: str = "buggy"
    sim_nodes: int = 3
    # the model's internal gRPC timeout (Qdrant's ``cluster.grpc_timeout_ms``); 5000 as
    # ``scripts/run_cluster.sh --grpc-timeout-ms 5000`` sets it for a real cluster
    sim_grpc_timeout_ms: int = 5000


@dataclass(frozen=True, slots=True)
class ExistingSection:
    """The collection that exists before the burst and must stay Active."""

    name: str = "existing_collection"
    shards: int = 3
    replication_factor: int = 3
    vector_size: int = 8
    preload: int = 256


@dataclass(frozen=True, slots=True)
class LagSection:
    """The ``test_slow_down`` proposals."""

    target: str = "2"
    duration_s: float = 20.0
    offset_s: float = 1.0
    repeat: int = 1
    interval_s: float = 0.0
    via: str = "auto"
    timeout_s: int | None = None


@dataclass(frozen=True, slots=True)
class BurstSection:
    """The burst of new collections created during the lag."""

    count: int = 1
    concurrency: int = 1
    spacing_s: float = 0.0
    offset_s: float = 3.0
    via: str = "auto"
    shards: int = 3
    replication_factor: int = 3
    timeout_s: int | None = None
    prefix: str = "new_collection"


@dataclass(frozen=True, slots=True)
class HammerSection:
    """The upsert load on the existing collection."""

    # The recipe that reproduced on real Qdrant v1.16.2 (notes §4.8): strong-ordering writes
    # through the lagging peer with wait=true; every one is forwarded to the ordering leader
    # while it holds the lagging peer's table-of-contents read guard.
    workers: int = 8
    batch: int = 10
    wait: str = "true"
    ordering: str = "strong"
    peers: str = "lagging"
    mode: str = "open"  # a fixed offered load: repeatable timing, independent of machine speed
    rate: float = 25.0
    timeout_s: int | None = None  # server-side ?timeout= of upserts; None: not sent (the seed's)


@dataclass(frozen=True, slots=True)
class DeleteSection:
    """Collections deleted in the middle of the race (none by default).

    ``target = "existing"`` deletes the existing collection while the hammer writes to it (at
    most one delete); ``"created"`` deletes the first ``count`` collections of the burst.
    """

    count: int = 0
    offset_s: float = 5.0  # after the race starts; deletes go one after another
    via: str = "auto"
    target: str = "existing"
    timeout_s: int | None = None


@dataclass(frozen=True, slots=True)
class WatchSection:
    """The pollers of every peer."""

    interval_s: float = 0.1


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything a run does, with its defaults."""

    run: RunSection = field(default_factory=RunSection)
    cluster: ClusterSection = field(default_factory=ClusterSection)
    existing: ExistingSection = field(default_factory=ExistingSection)
    lag: LagSection = field(default_factory=LagSection)
    burst: BurstSection = field(default_factory=BurstSection)
    hammer: HammerSection = field(default_factory=HammerSection)
    watch: WatchSection = field(default_factory=WatchSection)
    delete: DeleteSection = field(default_factory=DeleteSection)
    signatures: tuple[tuple[str, str], ...] = ()

    @property
    def uses_sim(self) -> bool:
        """No nodes given: race the embedded simulated cluster."""
        return not self.cluster.nodes


_SECTIONS: Final = ("run", "cluster", "existing", "lag", "burst", "hammer", "watch", "delete")


def _coerce(section: str, key: str, value: Any, target: Any) -> Any:
    """Coerce a TOML/CLI value to the type of the field's default (``target``)."""
    where = f"{section}.{key}"
    if isinstance(target, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ScenarioError(f"{where} must be true or false, got {value!r}")
    if isinstance(target, tuple):
        if isinstance(value, str):
            value = [v for v in (part.strip() for part in value.split(",")) if v]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{where} must be a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(target, float):
        try:
            return float(value) if not isinstance(value, bool) else _bad(where, value, "a number")
        except (TypeError, ValueError):
            return _bad(where, value, "a number")
    if isinstance(target, int) or (target is None and key in ("seed", "timeout_s")):
        if isinstance(value, bool):
            return _bad(where, value, "an integer")
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            return _bad(where, value, "an integer")
        if as_float != int(as_float):
            return _bad(where, value, "an integer")
        return int(as_float)
    if isinstance(target, str):
        if not isinstance(value, str):
            return _bad(where, value, "a string")
        return value
    return value


def _bad(where: str, value: Any, what: str) -> Any:
    raise ScenarioError(f"{where} must be {what}, got {value!r}")


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """Apply dotted-key overrides (``{"lag.duration_s": 5}``); ``None`` values are ignored."""
    sections: dict[str, Any] = {name: getattr(scenario, name) for name in _SECTIONS}
    signatures = dict(scenario.signatures)
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        if section == "signatures":
            if not isinstance(value, str):
                raise ScenarioError(f"signatures.{key} must be a regex string, got {value!r}")
            signatures[key] = value
            continue
        if section not in sections:
            raise ScenarioError(f"unknown scenario section {section!r} (in {dotted!r})")
        current = sections[section]
        known = {f.name: f for f in fields(current)}
        if key not in known:
            raise ScenarioError(f"unknown scenario key {dotted!r}")
        sections[section] = replace(
            current, **{key: _coerce(section, key, value, getattr(current, key))}
        )
    return Scenario(**sections, signatures=tuple(sorted(signatures.items())))


def scenario_from_toml_text(text: str, *, source: str = "scenario") -> Scenario:
    """Parse a TOML scenario; unknown sections or keys are errors (typos must not pass)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: invalid TOML: {exc}") from exc
    overrides: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: top-level key {section!r} must be a [section]")
        for key, value in table.items():
            overrides[f"{section}.{key}"] = value
    try:
        return validate(with_overrides(Scenario(), overrides))
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from exc


def scenario_from_file(path: Path) -> Scenario:
    """Read and validate a TOML scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"scenario file {path} is not UTF-8 text") from exc
    return scenario_from_toml_text(text, source=str(path))


_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


def validate(s: Scenario) -> Scenario:
    """Check every value; raise :class:`ScenarioError` naming the first bad key."""
    checks: list[tuple[bool, str]] = [
        (bool(_NAME.match(s.run.name)), "run.name must be letters, digits, '-' or '_'"),
        (s.run.time_limit_s > 0, "run.time_limit_s must be > 0"),
        (s.run.settle_s >= 0, "run.settle_s must be >= 0"),
        (s.run.settle_hold_s >= 0, "run.settle_hold_s must be >= 0"),
        (s.run.settle_quiet_s >= 0, "run.settle_quiet_s must be >= 0"),
        (s.run.frozen_wait_s >= 0, "run.frozen_wait_s must be >= 0"),
        (s.cluster.sim_mode in ("buggy", "fixed"), "cluster.sim_mode must be buggy or fixed"),
        (1 <= s.cluster.sim_nodes <= 9, "cluster.sim_nodes must be 1..9"),
        (
            100 <= s.cluster.sim_grpc_timeout_ms <= 600_000,
            "cluster.sim_grpc_timeout_ms must be 100..600000",
        ),
        (
            not s.cluster.logs or len(s.cluster.logs) == len(s.cluster.nodes),
            "cluster.logs must name one log file per node, in node order",
        ),
        (bool(_NAME.match(s.existing.name)), "existing.name must be letters, digits, '-' or '_'"),
        (s.existing.shards >= 1, "existing.shards must be >= 1"),
        (s.existing.replication_factor >= 1, "existing.replication_factor must be >= 1"),
        (1 <= s.existing.vector_size <= 65536, "existing.vector_size must be 1..65536"),
        (s.existing.preload >= 0, "existing.preload must be >= 0"),
        (
            0.0 <= s.lag.duration_s <= MAX_SLOW_DOWN_S,
            f"lag.duration_s must be within 0..{MAX_SLOW_DOWN_S:g} seconds (Qdrant's limit)",
        ),
        (s.lag.offset_s >= 0, "lag.offset_s must be >= 0"),
        (s.lag.repeat >= 0, "lag.repeat must be >= 0 (0 = no slow-down)"),
        (s.lag.interval_s >= 0, "lag.interval_s must be >= 0"),
        (s.lag.timeout_s is None or s.lag.timeout_s >= 1, "lag.timeout_s must be >= 1"),
        (s.burst.count >= 0, "burst.count must be >= 0"),
        (s.burst.concurrency >= 1, "burst.concurrency must be >= 1"),
        (s.burst.spacing_s >= 0, "burst.spacing_s must be >= 0"),
        (s.burst.shards >= 1, "burst.shards must be >= 1"),
        (s.burst.replication_factor >= 1, "burst.replication_factor must be >= 1"),
        (s.burst.timeout_s is None or s.burst.timeout_s >= 1, "burst.timeout_s must be >= 1"),
        (bool(_NAME.match(s.burst.prefix)), "burst.prefix must be letters, digits, '-' or '_'"),
        (s.hammer.workers >= 0, "hammer.workers must be >= 0"),
        (1 <= s.hammer.batch <= 10_000, "hammer.batch must be 1..10000"),
        (s.hammer.wait in ("true", "false", "mixed"), "hammer.wait must be true, false or mixed"),
        (
            s.hammer.ordering in ("weak", "medium", "strong"),
            "hammer.ordering must be weak, medium or strong",
        ),
        (s.hammer.mode in ("closed", "open"), "hammer.mode must be closed or open"),
        (s.hammer.mode == "closed" or s.hammer.rate > 0, "hammer.rate must be > 0 in open mode"),
        (s.hammer.rate >= 0, "hammer.rate must be >= 0"),
        (s.hammer.timeout_s is None or s.hammer.timeout_s >= 1, "hammer.timeout_s must be >= 1"),
        (0.01 <= s.watch.interval_s <= 60, "watch.interval_s must be 0.01..60"),
        (s.delete.count >= 0, "delete.count must be >= 0 (0 = no delete)"),
        (s.delete.offset_s >= 0, "delete.offset_s must be >= 0"),
        (
            s.delete.target in ("existing", "created"),
            "delete.target must be existing or created",
        ),
        (
            s.delete.target != "existing" or s.delete.count <= 1,
            "delete.count must be 0 or 1 with delete.target = existing",
        ),
        (
            s.delete.target != "created" or s.delete.count <= s.burst.count,
            "delete.count must be <= burst.count with delete.target = created",
        ),
        (s.delete.timeout_s is None or s.delete.timeout_s >= 1, "delete.timeout_s must be >= 1"),
    ]
    for ok, message in checks:
        if not ok:
            raise ScenarioError(message)
    for name, pattern in s.signatures:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ScenarioError(f"signatures.{name} is not a valid regex: {exc}") from exc
    return s


def scenario_to_json(s: Scenario) -> dict[str, Any]:
    """The effective scenario as JSON (recorded in config.json)."""
    out = dataclasses.asdict(s)
    out["signatures"] = dict(s.signatures)
    return out
