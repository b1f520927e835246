"""When a cluster that looks converged is settled: late re-proposals must have died down.

Qdrant re-proposes a locally disabled replica ``Dead`` from its idle sync, with a backoff of 1, 2,
4, 8 and then 10 s, until the replica's state changes in that peer's own view (notes §4.6-C).
While such a re-proposal is refused (``Cannot deactivate the last active replica``), every peer
logs it as an apply-time user error and nothing changes in any REST view; once the other replicas
are back, the next re-proposal is accepted and knocks the replica out again, seconds after the
cluster looked converged. So a run is settled only when every view has stayed converged for
``run.settle_hold_s`` *and* no peer has logged an apply-time user error for ``run.settle_quiet_s``
(default 12 s: the longest backoff plus a margin for commit, apply and the log tail's poll).
Without tailed logs only the hold applies.

:class:`EchoWatch` is pure: the runner feeds it the recorder's events after each check, and
:func:`settle_step` decides, from literal inputs, whether the race phase is over.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from lagrace.analysis.logtexts import USER_ERROR_PREFIX
from lagrace.events import OBS_LOG, Event, Observe
from lagrace.timebase import NS_PER_S


def is_user_error_line(event: Event) -> bool:
    """A tailed log line that is an apply-time user error (notes §4.2)."""
    if not isinstance(event, Observe) or event.kind != OBS_LOG:
        return False
    message = event.data.get("message")
    return isinstance(message, str) and message.startswith(USER_ERROR_PREFIX)


@dataclass(slots=True)
class EchoWatch:
    """When the last apply-time user error line was recorded, read incrementally."""

    cursor: int = 0
    last_ns: int | None = None

    def update(self, events: Sequence[Event]) -> int | None:
        """Read the events recorded since the last call; the newest user error's ``t_ns``."""
        for event in events[self.cursor :]:
            if is_user_error_line(event):
                self.last_ns = event.t_ns
        self.cursor = len(events)
        return self.last_ns

    def quiet(self, now_ns: int, quiet_ns: int) -> bool:
        """No user error recorded in the last ``quiet_ns``."""
        return self.last_ns is None or now_ns - self.last_ns >= quiet_ns


class EndReason(enum.StrEnum):
    """Why the race phase ended."""

    CONVERGED = "converged"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Ending:
    """The race phase is over: why, and in words."""

    reason: EndReason
    detail: str | None = None
    converged_since_ns: int | None = None  # set when it ended converged


@dataclass(frozen=True, slots=True)
class SettleBounds:
    """The run-clock instants and spans the settle decision uses."""

    deadline_ns: int  # the race's time limit
    settle_deadline_ns: int  # the lag's end plus the settle bound (never past the deadline)
    lag_over_ns: int  # when the last slow-down is over
    hold_ns: int  # how long convergence must hold
    quiet_ns: int  # how long the logs must be free of apply-time user errors


def settle_step(
    now_ns: int,
    bounds: SettleBounds,
    *,
    scheduled_done: bool,
    converged: bool,
    why_not: str,
    held_since_ns: int | None,
    last_error_ns: int | None,
) -> tuple[Ending | None, int | None]:
    """One check of the race loop: ``(ending or None, converged-since)``; pure.

    Ends at the time limit; after the lag (and once every slow-down and create has finished),
    ends converged when the views have held converged for ``hold_ns`` and the logs have been
    quiet for ``quiet_ns``; at the settle deadline ends unsettled, saying whether the views or
    the logs were the reason.
    """
    if now_ns >= bounds.deadline_ns:
        return Ending(EndReason.TIME_LIMIT, "time limit reached"), held_since_ns
    if now_ns < bounds.lag_over_ns or not scheduled_done:
        return None, held_since_ns
    quiet = last_error_ns is None or now_ns - last_error_ns >= bounds.quiet_ns
    held = (now_ns if held_since_ns is None else held_since_ns) if converged else None
    if held is not None and now_ns - held >= bounds.hold_ns and quiet:
        return Ending(EndReason.CONVERGED, converged_since_ns=held), held
    if now_ns >= bounds.settle_deadline_ns and held is None:
        return Ending(EndReason.TIME_LIMIT, f"not converged after the lag: {why_not}"), held
    if now_ns >= bounds.settle_deadline_ns and not quiet:
        assert last_error_ns is not None
        age_s = (now_ns - last_error_ns) / NS_PER_S
        return (
            Ending(
                EndReason.TIME_LIMIT,
                "not settled after the lag: every view converged, but a peer logged an "
                f"apply-time user error {age_s:.1f} s ago (late re-proposals)",
            ),
            held,
        )
    return None, held
