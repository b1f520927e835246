"""Apply progress from the peers' DEBUG lines: entries, their times and what they were."""

from __future__ import annotations

from lagrace.analysis import logtexts
from lagrace.bench.applylog import peer_logs
from tests.bench.histories import MS, BenchHistory


def test_entries_with_times_and_names() -> None:
    """Applying/applied pairs give each entry's apply time; lines inside name the entry."""
    h = BenchHistory()
    h.log(10, 1, logtexts.format_applying_entry(7))
    h.log(11, 1, logtexts.format_slow_down_sleeping(0, 101))
    h.log(12, 1, logtexts.format_applied_entry(7))
    h.log(20, 1, logtexts.format_applying_entry(8))
    h.log(21, 1, "Creating collection bench_c_abc_3")
    h.log(250, 1, logtexts.format_applied_entry(8))
    h.log(300, 2, logtexts.format_applying_entry(8))
    h.log(301, 2, logtexts.format_dead_expected_active(101, 0))
    logs = peer_logs(h.history().observations())
    seven, eight = logs[1].entries[7], logs[1].entries[8]
    assert (seven.apply_ns, seven.slow_down_ms) == (2 * MS, 0)
    assert (eight.apply_ns, eight.verb, eight.collection) == (230 * MS, "create", "bench_c_abc_3")
    assert logs[1].index_of("create", "bench_c_abc_3") == 8
    assert logs[1].applied_ns(8) == 250 * MS
    assert logs[2].entries[8].user_error
    assert logs[2].entries[8].apply_ns == 1 * MS


def test_an_entry_still_being_applied_has_no_apply_time() -> None:
    """``Applying`` without its ``Successfully applied``: no applied time yet."""
    h = BenchHistory()
    h.log(10, 3, logtexts.format_applying_entry(9))
    entry = peer_logs(h.history().observations())[3].entries[9]
    assert (entry.applied_ns, entry.apply_ns) == (None, None)
