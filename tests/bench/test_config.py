"""Bench configuration: validation refuses unusable input before anything is sent."""

from __future__ import annotations

import pytest

from lagrace.bench.config import (
    BenchConfig,
    config_from_json,
    config_to_json,
    noop_duration_s,
    validate,
)
from lagrace.errors import UsageError


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"workload": "sleep"}, "--workload"),
        ({"load": "medium"}, "--load"),
        ({"concurrency": 0}, "--concurrency"),
        ({"count": 5}, "exactly one of --duration and --count"),
        ({"duration_s": None}, "exactly one of --duration and --count"),
        ({"rate": 0.0}, "--rate must be positive"),
        ({"poll_s": 0.0001}, "--poll below 1 ms"),
        ({"warmup_s": -1.0}, "--warmup"),
        ({"target": 4}, "--target must be a node number 1..3"),
        ({"slow_node": 1}, "--slow must not be the --via node"),
        ({"nodes": ("http://a:1",), "logs": ("a", "b")}, "--logs lists 2 files for 1 nodes"),
        ({"nodes": ("http://a:1",), "sim_apply_cost_ms": 5.0, "target": 1}, "drop --nodes"),
        ({"sim_apply_cost_ms": -1.0}, "must not be negative"),
    ],
)
def test_validate_refuses(changes: dict[str, object], message: str) -> None:
    """Each unusable value is a UsageError naming the option."""
    import dataclasses

    with pytest.raises(UsageError, match=message):
        validate(dataclasses.replace(BenchConfig(), **changes))  # type: ignore[arg-type]  # literal table


def test_defaults_are_valid_and_round_trip_through_json() -> None:
    """The defaults validate; config.json's form reads back to the same config."""
    cfg = validate(BenchConfig(nodes=("http://a:1", "http://b:2"), target=2, via=1))
    assert config_from_json(config_to_json(cfg)) == cfg


def test_noop_durations_are_distinct_and_below_a_millisecond() -> None:
    """Every slot's no-op differs (no merging) and truncates to 0 ms (nobody sleeps)."""
    durations = [noop_duration_s(slot) for slot in range(1000)]
    assert len(set(durations)) == 1000
    assert all(int(d * 1000) == 0 for d in durations)
