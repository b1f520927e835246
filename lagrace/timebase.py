"""Run-time arithmetic: nanosecond units, the wall-clock anchor, RFC 3339 timestamps.

Every timestamp lagrace records is monotonic nanoseconds since the run's origin (``t_ns``).
The wall-clock (UTC) time at the origin is recorded once, as :class:`WallAnchor`, so that a
server's RFC 3339 timestamp (Qdrant logs ``2023-09-30T10:31:01.445755Z``) can be placed on the
same axis: ``t_ns = server_unix_ns - anchor.unix_ns``.

Pure: this module never reads the time (:mod:`lagrace.clock` does, and drives waiting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

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
