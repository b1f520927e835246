"""The one clock of a run.

Every timestamp lagrace records is monotonic nanoseconds since the run's origin (``t_ns``).
The wall-clock (UTC) time at the origin is recorded once, as :class:`WallAnchor`, so that a
server's RFC 3339 timestamp (Qdrant logs ``2023-09-30T10:31:01.445755Z``) can be placed on the
same axis: ``t_ns = server_unix_ns - anchor.unix_ns``.

This is the only module of lagrace that reads the time. Tests use :class:`ManualClock`.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class WallAnchor:
    """Wall-clock time (Unix epoch nanoseconds, UTC) at the run's origin ``t_ns == 0``."""

    unix_ns: int

    def to_run_ns(self, unix_ns: int) -> int:
        """Place a wall-clock instant on the run axis."""
        return unix_ns - self.unix_ns

    def to_unix_ns(self, t_ns: int) -> int:
        """Turn a run-axis instant back into wall-clock Unix nanoseconds."""
        return self.unix_ns + t_ns

    def isoformat(self) -> str:
        """The anchor as RFC 3339 with nanoseconds."""
        return format_rfc3339(self.unix_ns, digits=9)


class Clock(Protocol):
    """The clock seam: monotonic run time plus the wall anchor taken at the origin."""

    @property
    def anchor(self) -> WallAnchor:
        """Wall-clock time at the origin."""
        ...

    def now_ns(self) -> int:
        """Monotonic nanoseconds since the origin."""
        ...

    def wall_ns(self) -> int:
        """The wall-clock time now, in Unix nanoseconds, consistent with :meth:`now_ns`."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic_ns`` since construction, anchored to ``time.time_ns``."""

    __slots__ = ("_anchor", "_mono_origin")

    def __init__(self) -> None:
        self._mono_origin = time.monotonic_ns()
        self._anchor = WallAnchor(unix_ns=time.time_ns())

    @property
    def anchor(self) -> WallAnchor:
        """Wall-clock time at the origin."""
        return self._anchor

    def now_ns(self) -> int:
        """Monotonic nanoseconds since the origin."""
        return time.monotonic_ns() - self._mono_origin

    def wall_ns(self) -> int:
        """Anchor plus elapsed monotonic time: never jumps with NTP, matches ``now_ns``."""
        return self._anchor.unix_ns + self.now_ns()


class ManualClock:
    """A clock that only moves when told to; for tests."""

    __slots__ = ("_anchor", "_now")

    def __init__(self, anchor_unix_ns: int = 1_767_225_600 * NS_PER_S, start_ns: int = 0) -> None:
        self._anchor = WallAnchor(unix_ns=anchor_unix_ns)
        self._now = start_ns

    @property
    def anchor(self) -> WallAnchor:
        """Wall-clock time at the origin."""
        return self._anchor

    def now_ns(self) -> int:
        """The time set by :meth:`advance` / :meth:`set`."""
        return self._now

    def wall_ns(self) -> int:
        """Anchor plus manual time."""
        return self._anchor.unix_ns + self._now

    def advance(self, ns: int) -> None:
        """Move time forward by ``ns`` (never backwards)."""
        if ns < 0:
            raise ValueError("a monotonic clock cannot go backwards")
        self._now += ns

    def set(self, t_ns: int) -> None:
        """Jump to ``t_ns`` (not earlier than now)."""
        self.advance(t_ns - self._now)


async def sleep_until(clock: Clock, t_ns: int) -> None:
    """Sleep on the running loop until the clock reads at least ``t_ns``."""
    delay = t_ns - clock.now_ns()
    if delay > 0:
        await asyncio.sleep(delay / NS_PER_S)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> int:
    """Parse an RFC 3339 timestamp (any sub-second precision up to ns) into Unix nanoseconds.

    Raises ``ValueError`` for anything else.
    """
    m = _RFC3339.match(text.strip())
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    base = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
    )
    seconds = int(base.timestamp())
    ns = int((frac or "").ljust(9, "0")) if frac else 0
    offset_s = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset_s = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return (seconds - offset_s) * NS_PER_S + ns


def format_rfc3339(unix_ns: int, digits: int = 6) -> str:
    """Format Unix nanoseconds as RFC 3339 UTC with ``digits`` sub-second digits and ``Z``."""
    seconds, ns = divmod(unix_ns, NS_PER_S)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits <= 0:
        return f"{base}Z"
    frac = f"{ns:09d}"[:digits]
    return f"{base}.{frac}Z"


def format_utc_compact(unix_ns: int) -> str:
    """``20261129T102404Z``: a sortable, filesystem-safe UTC stamp for run directory names."""
    return datetime.fromtimestamp(unix_ns // NS_PER_S, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
