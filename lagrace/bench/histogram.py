"""A latency histogram: HdrHistogram (the ``hdrhistogram`` package) behind a small typed API.

Values are recorded in microseconds from 1 µs to one hour with three significant digits, so
the memory is bounded (a few tens of KiB whatever the count) and any quantile is within 0.1 %
of the recorded value. Histograms merge (:meth:`LatencyHistogram.merge`), and encode to the
standard compressed HDR text form, so two runs' histograms can be combined or re-read later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]  # ships no type hints

NS_PER_US: Final = 1_000
LOWEST_US: Final = 1
HIGHEST_US: Final = 3_600 * 1_000_000
SIGNIFICANT_DIGITS: Final = 3
PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a histogram says, in milliseconds; ``throughput_per_s`` over the measured window."""

    count: int
    throughput_per_s: float | None
    min_ms: float | None
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None

    def to_json(self) -> dict[str, float | int | None]:
        """The summary as a JSON object (keys as in ``bench.json``)."""
        return {
            "count": self.count,
            "throughput_per_s": self.throughput_per_s,
            "min_ms": self.min_ms,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "p99.9_ms": self.p999_ms,
            "max_ms": self.max_ms,
        }


STAT_KEYS: Final = ("count", "throughput_per_s", "min_ms", "p50_ms", "p90_ms", "p99_ms")
STAT_KEYS_ALL: Final = (*STAT_KEYS, "p99.9_ms", "max_ms")


class LatencyHistogram:
    """A mergeable, bounded-memory histogram of durations (recorded in ns, kept in µs)."""

    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)

    @classmethod
    def of(cls, values_ns: list[int]) -> LatencyHistogram:
        """A histogram holding ``values_ns``."""
        hist = cls()
        for value in values_ns:
            hist.record_ns(value)
        return hist

    def record_ns(self, value_ns: int) -> None:
        """Record one duration; below 1 µs counts as 1 µs, above an hour as an hour."""
        us = min(HIGHEST_US, max(LOWEST_US, round(value_ns / NS_PER_US)))
        self._h.record_value(us)

    @property
    def count(self) -> int:
        """How many values were recorded."""
        return int(self._h.get_total_count())

    def merge(self, other: LatencyHistogram) -> None:
        """Add every value of ``other`` to this histogram."""
        self._h.add(other._h)

    def percentile_ms(self, percentile: float) -> float | None:
        """The value at ``percentile`` (0-100), in ms; ``None`` when empty."""
        if self.count == 0:
            return None
        return int(self._h.get_value_at_percentile(percentile)) / 1_000

    def summary(self, window_ns: int | None) -> Summary:
        """Count, throughput over ``window_ns``, min, p50, p90, p99, p99.9, max (ms)."""
        count = self.count
        rate = None if not window_ns or count == 0 else round(count / (window_ns / 1e9), 3)
        if count == 0:
            return Summary(0, rate, None, None, None, None, None, None)
        p50, p90, p99, p999 = (self.percentile_ms(p) for p in PERCENTILES)
        return Summary(
            count=count,
            throughput_per_s=rate,
            min_ms=int(self._h.get_min_value()) / 1_000,
            p50_ms=p50,
            p90_ms=p90,
            p99_ms=p99,
            p999_ms=p999,
            max_ms=int(self._h.get_max_value()) / 1_000,
        )

    def encode(self) -> str:
        """The standard compressed HDR form (base64 text)."""
        raw = self._h.encode()
        return raw.decode("ascii") if isinstance(raw, bytes) else str(raw)

    @classmethod
    def decode(cls, text: str) -> LatencyHistogram:
        """Read :meth:`encode`'s form back (``ValueError`` if it is not one)."""
        hist = cls()
        try:
            decoded = HdrHistogram.decode(text.encode("ascii"))
        except (
            Exception
        ) as exc:  # the codec raises bare errors (binascii, zlib, struct) on bad input
            raise ValueError(f"not an encoded HDR histogram: {exc}") from exc
        hist._h.add(decoded)
        return hist
