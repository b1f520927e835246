"""Acceptance on the simulated cluster: the measured apply time is the configured apply cost.

The model applies every entry with ``--apply-cost-ms`` of work on every peer; an idle no-op
bench at concurrency 1 must measure that per peer, within the resolution the result reports.
A few seconds of workload; no timed assertion on the driver itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lagrace.bench.config import BenchConfig
from lagrace.bench.result import load_result
from lagrace.bench.runner import run_bench

COST_MS = 60.0
TIMER_EARLY_MS = 1.5  # the model's asyncio timers (1 ms ticks on uvloop) may fire that early

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One idle no-op bench of the model with a 60 ms apply cost (module-scoped: run once)."""
    import asyncio

    runs = tmp_path_factory.mktemp("runs")
    cfg = BenchConfig(
        duration_s=2.5,
        warmup_s=0.5,
        poll_s=0.005,
        seed=7,
        runs_dir=str(runs),
        sim_apply_cost_ms=COST_MS,
    )
    outcome = asyncio.run(run_bench(cfg))
    assert load_result(outcome.run_dir.path) == outcome.result
    return outcome.result


def test_polled_apply_time_is_the_configured_cost_within_the_resolution(
    result: dict[str, Any],
) -> None:
    """Per peer, the p50 of commit-to-applied (from GET /cluster) is the cost ± resolution."""
    apply = result["results"]["noop"]["apply_poll"]
    resolution = apply["resolution_ms"]
    assert 0 < resolution < COST_MS / 2
    assert set(apply["peers"]) == {"1", "2", "3"}
    for peer, summary in apply["peers"].items():
        assert summary["count"] >= 10, peer
        assert abs(summary["p50_ms"] - COST_MS) <= resolution, (peer, summary, resolution)


def test_logged_apply_time_is_the_configured_cost(result: dict[str, Any]) -> None:
    """From the peers' own apply lines (µs stamps): what the model really spent — the cost
    plus its own scheduling delay on a busy machine — within the polled resolution of it."""
    apply = result["results"]["noop"]["apply_log"]
    polled = result["results"]["noop"]["apply_poll"]["resolution_ms"]
    assert apply["resolution_ms"] == 0.001
    for peer, summary in apply["peers"].items():
        assert COST_MS - TIMER_EARLY_MS <= summary["p50_ms"] <= COST_MS + polled, (peer, summary)


def test_every_entry_is_exact_and_applied_everywhere(result: dict[str, Any]) -> None:
    """Idle at concurrency 1: every index is exact; no stall; the run directory is complete."""
    entries = result["entries"]
    assert entries["measured"] >= 10
    assert entries["index_exact"] == entries["measured"]
    assert result["stalls"] == []
    applied = result["results"]["noop"]["applied_poll"]["overall"]
    assert applied["count"] == 3 * entries["measured"]
    run = Path(result["nodes"][0]["log"]).parent.parent
    assert (run / "bench.txt").is_file()
    assert (run / "plots" / "apply_poll.png").is_file()
