"""EchoWatch: the newest apply-time user error, read incrementally; quiet after the window."""

from __future__ import annotations

from lagrace.analysis import logtexts
from lagrace.analysis.builders import HistoryBuilder, ms
from lagrace.settle import EchoWatch, is_user_error_line


def _history() -> HistoryBuilder:
    b = HistoryBuilder({1: 101, 2: 102})
    b.log(100, node=1, message=logtexts.format_last_active_replica(101, 0))
    b.log(200, node=2, level="DEBUG", message="Applying committed entry with index 7")
    b.log(
        300,
        node=2,
        level="WARN",
        target=logtexts.TARGET_REPLICA_UPDATE,
        message=logtexts.format_failed_update_shard("c", 0, 101, "timeout"),
    )
    return b


def test_only_user_error_lines_count() -> None:
    """The WARN user error counts; a DEBUG line and another WARN do not."""
    events = _history().build().events
    assert [is_user_error_line(e) for e in events] == [True, False, False]


def test_reads_incrementally_and_keeps_the_newest() -> None:
    """Each update reads only what is new; the last user error's time is kept."""
    b = _history()
    watch = EchoWatch()
    assert watch.update(b.build().events) == ms(100)
    assert watch.cursor == 3
    b.log(5000, node=2, message=logtexts.format_dead_expected_active(102, 1))
    assert watch.update(b.build().events) == ms(5000)
    assert watch.update(b.build().events) == ms(5000)


def test_quiet_after_the_window() -> None:
    """Quiet with no user error at all, or once the window has passed since the last one."""
    watch = EchoWatch()
    assert watch.quiet(ms(1), ms(12_000))
    watch.update(_history().build().events)
    assert not watch.quiet(ms(12_099), ms(12_000))
    assert watch.quiet(ms(12_100), ms(12_000))
