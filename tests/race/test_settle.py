"""EchoWatch (the newest apply-time user error, read incrementally) and settle_step (when the
race phase ends), on literal inputs."""

from __future__ import annotations

import pytest

from lagrace.analysis import logtexts
from lagrace.race.settle import (
    EchoWatch,
    EndReason,
    SettleBounds,
    is_user_error_line,
    settle_step,
)
from lagrace.testing.histories import HistoryBuilder, ms
from lagrace.timebase import NS_PER_S


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


BOUNDS = SettleBounds(
    deadline_ns=100 * NS_PER_S,
    settle_deadline_ns=60 * NS_PER_S,
    lag_over_ns=20 * NS_PER_S,
    hold_ns=3 * NS_PER_S,
    quiet_ns=12 * NS_PER_S,
)
S = NS_PER_S


Case = tuple[int, bool, bool, int | None, int | None, EndReason | None, int | None]


@pytest.mark.parametrize(
    "case",
    [
        # before the lag is over, or with a create still out: nothing ends, nothing is held
        (10 * S, True, True, None, None, None, None),
        (30 * S, False, True, None, None, None, None),
        # converged for the first time: the hold starts now
        (30 * S, True, True, None, None, None, 30 * S),
        # held long enough, logs quiet: converged
        (33 * S, True, True, 30 * S, None, EndReason.CONVERGED, 30 * S),
        # held long enough but a user error 5 s ago: not yet
        (33 * S, True, True, 30 * S, 28 * S, None, 30 * S),
        # no longer converged: the hold is lost
        (33 * S, True, False, 30 * S, None, None, None),
        # settle deadline, not converged: time limit, says why
        (60 * S, True, False, None, None, EndReason.TIME_LIMIT, None),
        # settle deadline, converged but the logs not quiet: time limit, says so
        (60 * S, True, True, 58 * S, 55 * S, EndReason.TIME_LIMIT, 58 * S),
        # settle deadline, converged, quiet, hold not reached: wait for the hold
        (60 * S, True, True, 59 * S, None, None, 59 * S),
        # the race's time limit ends everything
        (100 * S, False, False, None, None, EndReason.TIME_LIMIT, None),
    ],
)
def test_settle_step_table(case: Case) -> None:
    """settle_step on literal inputs: the documented endings and the hold it carries on."""
    now, done, converged, held, last_error, reason, held_after = case
    ending, held_since = settle_step(
        now,
        BOUNDS,
        scheduled_done=done,
        converged=converged,
        why_not="commits differ",
        held_since_ns=held,
        last_error_ns=last_error,
    )
    assert (ending.reason if ending else None) is reason
    assert held_since == held_after
    if ending is not None and ending.reason is EndReason.TIME_LIMIT and now == 60 * S:
        expected = "commits differ" if not converged else "apply-time user error 5.0 s ago"
        assert expected in (ending.detail or "")
