"""From samples to results: histograms per peer and overall, stalls, and the driver's own lag.

Pure. An **apply stall** is an entry that one peer took far longer to apply than that peer's
median for entries of the same kind (``factor`` times the median, and at least ``min_ns``): it is
reported as a finding and its samples on that peer are left out of the histograms, so one
22-second stall (notes §4.8) is not averaged into a p99. The driver watches itself: its event
loop's lag (a ticker's actual minus scheduled wake-up), how late open-loop sends went out, and
how often the pollers really polled; :func:`driver_reasons` says when the driver, not the
cluster, was the bottleneck.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lagrace.bench.histogram import LatencyHistogram, Summary
from lagrace.bench.measure import Sample

APPLY_METRICS = ("apply_log", "apply_poll")  # the stall detector's measure, best first


@dataclass(frozen=True, slots=True)
class Stall:
    """An entry one peer took far longer to apply than its usual (a finding, not a sample)."""

    kind: str
    node: int
    op_id: int
    index: int | None
    metric: str
    apply_ms: float
    median_ms: float
    sent_ns: int

    def to_json(self) -> dict[str, object]:
        """The finding as JSON."""
        return {
            "kind": self.kind,
            "node": self.node,
            "op_id": self.op_id,
            "index": self.index,
            "metric": self.metric,
            "apply_ms": self.apply_ms,
            "median_ms": self.median_ms,
            "sent_s": round(self.sent_ns / 1e9, 3),
            "text": f"node {self.node}: {self.kind} entry "
            f"{'?' if self.index is None else self.index} took {self.apply_ms:.1f} ms to apply, "
            f"{self.apply_ms / self.median_ms if self.median_ms else float('inf'):.0f}x its "
            f"median {self.median_ms:.2f} ms ({self.metric})",
        }


def find_stalls(
    samples: Sequence[Sample], *, factor: float, min_ns: int
) -> tuple[list[Sample], list[Stall]]:
    """Split samples into kept ones and stall findings (see the module docstring)."""
    stalled: set[tuple[int, int]] = set()  # (op_id, node)
    stalls: list[Stall] = []
    groups: dict[tuple[str, int], list[Sample]] = {}
    for s in samples:
        groups.setdefault((s.kind, s.node), []).append(s)
    for (kind, node), group in sorted(groups.items()):
        for metric in APPLY_METRICS:
            chosen = [s for s in group if s.metric == metric]
            if chosen:
                break
        else:
            continue
        median = statistics.median(s.value_ns for s in chosen)
        bound = max(factor * median, min_ns)
        for s in chosen:
            if s.value_ns > bound:
                stalled.add((s.op_id, node))
                stalls.append(
                    Stall(
                        kind,
                        node,
                        s.op_id,
                        s.index,
                        metric,
                        s.value_ns / 1e6,
                        median / 1e6,
                        s.sent_ns,
                    )
                )
    kept = [s for s in samples if (s.op_id, s.node) not in stalled]
    return kept, sorted(stalls, key=lambda x: (x.sent_ns, x.node))


@dataclass(slots=True)
class MetricStats:
    """One metric of one kind: a histogram per peer, merged overall, and the resolution."""

    peers: dict[int, LatencyHistogram] = field(default_factory=dict)
    resolutions_ns: list[int] = field(default_factory=list)

    def overall(self) -> LatencyHistogram:
        """Every peer's histogram merged."""
        merged = LatencyHistogram()
        for hist in self.peers.values():
            merged.merge(hist)
        return merged

    def resolution_ms(self) -> tuple[float, float]:
        """The samples' median and largest uncertainty (±, ms)."""
        if not self.resolutions_ns:
            return 0.0, 0.0
        return (
            round(statistics.median(self.resolutions_ns) / 1e6, 3),
            round(max(self.resolutions_ns) / 1e6, 3),
        )


def collect(samples: Iterable[Sample]) -> dict[str, dict[str, MetricStats]]:
    """Histograms by kind, metric and peer."""
    out: dict[str, dict[str, MetricStats]] = {}
    for s in samples:
        stats = out.setdefault(s.kind, {}).setdefault(s.metric, MetricStats())
        stats.peers.setdefault(s.node, LatencyHistogram()).record_ns(s.value_ns)
        stats.resolutions_ns.append(s.resolution_ns)
    return out


def metric_json(stats: MetricStats, window_ns: int | None) -> dict[str, object]:
    """One metric's part of ``bench.json``: resolution, overall and per-peer summaries, HDR."""
    median, largest = stats.resolution_ms()
    overall = stats.overall()
    return {
        "resolution_ms": median,
        "resolution_max_ms": largest,
        "overall": overall.summary(window_ns).to_json(),
        "peers": {str(n): h.summary(window_ns).to_json() for n, h in sorted(stats.peers.items())},
        "hdr": {
            "overall": overall.encode(),
            "peers": {str(n): h.encode() for n, h in sorted(stats.peers.items())},
        },
    }


@dataclass(frozen=True, slots=True)
class DriverFacts:
    """What the driver saw of itself during the measured window."""

    loop_lag: Summary
    send_lateness: Summary | None  # open loop only: actual minus intended send
    poll_s: float
    poll_achieved_s: Mapping[int, float]  # node -> median interval between poll sends
    rate: float | None
    answer_p50_ms: float | None


def driver_reasons(facts: DriverFacts) -> list[str]:
    """Why the driver, not the cluster, may have been the bottleneck (empty: it was not)."""
    reasons: list[str] = []
    poll_ms = facts.poll_s * 1000
    lag99 = facts.loop_lag.p99_ms
    if lag99 is not None and lag99 > poll_ms:
        reasons.append(
            f"the driver's event loop woke up to {lag99:.1f} ms late (p99), more than the "
            f"{poll_ms:g} ms poll interval: the polling windows are wider than configured"
        )
    if lag99 is not None and facts.answer_p50_ms and lag99 > 0.1 * facts.answer_p50_ms:
        reasons.append(
            f"the driver's loop lag p99 {lag99:.1f} ms is over 10% of the answer p50 "
            f"{facts.answer_p50_ms:.1f} ms"
        )
    late99 = None if facts.send_lateness is None else facts.send_lateness.p99_ms
    if late99 is not None and facts.rate and late99 > 1000 / facts.rate:
        reasons.append(
            f"open-loop sends went out up to {late99:.1f} ms late (p99), more than the "
            f"{1000 / facts.rate:.1f} ms between sends: the offered rate was not kept"
        )
    for node, achieved in sorted(facts.poll_achieved_s.items()):
        if achieved > 2 * facts.poll_s:
            reasons.append(
                f"node {node} was polled every {achieved * 1000:.1f} ms (median), not every "
                f"{poll_ms:g} ms"
            )
    return reasons


def median_interval_s(send_times_ns: Sequence[int]) -> float | None:
    """The median gap between consecutive sends, in seconds."""
    if len(send_times_ns) < 2:
        return None
    gaps = [b - a for a, b in itertools.pairwise(send_times_ns)]
    return statistics.median(gaps) / 1e9
