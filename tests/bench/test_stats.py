"""Stalls are findings, not samples; the driver says when it was the bottleneck."""

from __future__ import annotations

from lagrace.bench.histogram import LatencyHistogram
from lagrace.bench.measure import Sample
from lagrace.bench.stats import DriverFacts, collect, driver_reasons, find_stalls

MS = 1_000_000


def _apply(op: int, node: int, ms: float, metric: str = "apply_log") -> Sample:
    return Sample("noop", metric, node, int(ms * MS), 1_000, op, op, op * MS)


def test_one_entry_far_above_its_peers_median_is_a_stall() -> None:
    """22.4 s against a 2 ms median on node 2: a finding, and all its node-2 samples leave."""
    samples = [_apply(op, 2, 2.0) for op in range(9)]
    samples += [_apply(9, 2, 22_400.0), _apply(9, 1, 2.0)]
    samples.append(Sample("noop", "applied_log", 2, 22_500 * MS, 1_000, 9, 9, 9 * MS))
    kept, stalls = find_stalls(samples, factor=10, min_ns=500 * MS)
    (stall,) = stalls
    assert (stall.node, stall.op_id, stall.apply_ms, stall.median_ms) == (2, 9, 22_400.0, 2.0)
    assert "took 22400.0 ms to apply" in str(stall.to_json()["text"])
    assert all(not (s.op_id == 9 and s.node == 2) for s in kept)
    assert len(kept) == 10


def test_slow_but_not_far_above_the_floor_is_no_stall() -> None:
    """Above 10x the median but under the minimum: kept as a sample."""
    samples = [_apply(op, 1, 1.0) for op in range(5)] + [_apply(5, 1, 40.0)]
    kept, stalls = find_stalls(samples, factor=10, min_ns=500 * MS)
    assert (len(kept), stalls) == (6, [])


def test_poll_apply_times_are_used_without_logs() -> None:
    """Without ``apply_log`` samples the stall detector reads ``apply_poll``."""
    samples = [_apply(op, 1, 5.0, "apply_poll") for op in range(5)]
    samples.append(_apply(5, 1, 3_000.0, "apply_poll"))
    _, stalls = find_stalls(samples, factor=10, min_ns=500 * MS)
    assert [s.metric for s in stalls] == ["apply_poll"]


def test_collect_keeps_a_histogram_per_peer_and_the_resolution() -> None:
    """Per kind, metric and node; overall merges the peers; resolution median and max."""
    stats = collect([_apply(0, 1, 1.0), _apply(1, 2, 3.0), _apply(2, 2, 5.0)])
    apply = stats["noop"]["apply_log"]
    assert {n: h.count for n, h in apply.peers.items()} == {1: 1, 2: 2}
    assert apply.overall().count == 3
    assert apply.resolution_ms() == (0.001, 0.001)


def _facts(lag_ms: list[float], poll_s: float = 0.01, achieved: float = 0.01) -> DriverFacts:
    return DriverFacts(
        loop_lag=LatencyHistogram.of([int(v * MS) for v in lag_ms]).summary(None),
        send_lateness=None,
        poll_s=poll_s,
        poll_achieved_s={1: achieved},
        rate=None,
        answer_p50_ms=80.0,
    )


def test_a_quiet_driver_is_not_the_bottleneck() -> None:
    """Loop lag well under the poll interval and the answers; polls on time: no reasons."""
    assert driver_reasons(_facts([0.1] * 99 + [1.0])) == []


def test_a_lagging_driver_is_flagged() -> None:
    """Loop lag above the poll interval and polls at half the asked rate: both named."""
    reasons = driver_reasons(_facts([30.0] * 100, achieved=0.025))
    assert any("more than the 10 ms poll interval" in r for r in reasons)
    assert any("over 10% of the answer p50" in r for r in reasons)
    assert any("node 1 was polled every 25.0 ms" in r for r in reasons)
