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

:class:`EchoWatch` is pure: the runner feeds it the recorder's events after each check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lagrace.analysis.logtexts import USER_ERROR_PREFIX
from lagrace.events import OBS_LOG, Event, Observe


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
