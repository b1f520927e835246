"""Apply progress from ``/cluster`` readings: crossing windows, lag and drain."""

from __future__ import annotations

from lagrace.bench.progress import ProgressSample, Window, crossing, drain_of, lag_series

MS = 1_000_000


def _s(node: int, since: int | None, at: int, commit: int, applied: int) -> ProgressSample:
    return ProgressSample(node, None if since is None else since * MS, at * MS, commit, applied)


def test_crossing_is_the_window_of_the_first_reading_that_shows_it() -> None:
    """The change happened after the previous poll's send and before this poll's answer."""
    series = [_s(1, None, 0, 10, 10), _s(1, 90, 101, 11, 10), _s(1, 140, 152, 11, 11)]
    assert crossing(series, 11, field="commit") == Window(90 * MS, 101 * MS)
    assert crossing(series, 11, field="applied") == Window(140 * MS, 152 * MS)
    assert crossing(series, 12, field="applied") is None


def test_a_value_already_shown_by_the_first_reading_has_no_window() -> None:
    """What the first reading shows happened before the bench looked."""
    assert crossing([_s(1, None, 5, 10, 10)], 10, field="applied") is None


def test_window_middle_and_half_width() -> None:
    """The estimate is the middle; its uncertainty half the width."""
    w = Window(100, 120)
    assert (w.mid_ns, w.half_ns) == (110, 10)


def test_lag_series_and_drain_of_a_slowed_peer() -> None:
    """Node 2 falls 3 entries behind, stays there, then catches up 0.3 s after its last peak."""
    samples = {
        1: [_s(1, None, 0, 5, 5), _s(1, 90, 100, 6, 6), _s(1, 190, 200, 8, 8)],
        2: [_s(2, None, 0, 5, 5), _s(2, 390, 400, 8, 6), _s(2, 490, 500, 8, 8)],
    }
    points = lag_series(samples)
    node2 = [(p.t_ns // MS, p.lag) for p in points if p.node == 2]
    assert node2 == [(0, 0), (100, 1), (200, 3), (400, 2), (500, 0)]
    drain = drain_of(points, 2)
    assert drain is not None
    assert (drain.peak_lag, drain.peak_ns // MS, drain.caught_up_ns) == (3, 200, 500 * MS)
    assert drain.drain_s == 0.3
    assert drain.entries_per_s == 10.0
    assert drain_of(points, 1) is None
