"""The HDR histogram wrapper: summaries, merging, encoding."""

from __future__ import annotations

import pytest

from lagrace.bench.histogram import LatencyHistogram

MS = 1_000_000


def test_summary_of_literal_values() -> None:
    """Count, throughput over the window, min, percentiles and max, in ms (within 0.1 %)."""
    hist = LatencyHistogram.of([v * MS for v in range(1, 101)])
    s = hist.summary(10 * 1_000_000_000)
    assert s.count == 100
    assert s.throughput_per_s == 10.0
    assert s.min_ms == 1.0
    assert s.p50_ms == pytest.approx(50.0, rel=1e-3)
    assert s.p90_ms == pytest.approx(90.0, rel=1e-3)
    assert s.p99_ms == pytest.approx(99.0, rel=1e-3)
    assert s.max_ms == pytest.approx(100.0, rel=1e-3)


def test_empty_summary_has_no_values() -> None:
    """An empty histogram summarises to count 0 and no statistics."""
    s = LatencyHistogram().summary(None)
    assert (s.count, s.p50_ms, s.max_ms, s.throughput_per_s) == (0, None, None, None)


def test_merge_equals_recording_everything_once() -> None:
    """Two merged histograms answer like one that saw every value."""
    a, b = LatencyHistogram.of([1 * MS, 2 * MS]), LatencyHistogram.of([3 * MS, 400 * MS])
    a.merge(b)
    whole = LatencyHistogram.of([1 * MS, 2 * MS, 3 * MS, 400 * MS])
    assert a.summary(None) == whole.summary(None)


def test_encode_decode_round_trip() -> None:
    """The compressed HDR text reads back to the same statistics."""
    hist = LatencyHistogram.of([5 * MS, 7 * MS, 22_400 * MS])
    again = LatencyHistogram.decode(hist.encode())
    assert again.summary(None) == hist.summary(None)


def test_decode_refuses_garbage() -> None:
    """Text that is not an encoded histogram is a ValueError."""
    with pytest.raises(ValueError, match="not an encoded HDR histogram"):
        LatencyHistogram.decode("not a histogram")


def test_values_are_clamped_to_the_range() -> None:
    """Below 1 µs counts as 1 µs; the histogram never rejects a value."""
    hist = LatencyHistogram.of([0, 10])
    assert hist.summary(None).max_ms == 0.001
