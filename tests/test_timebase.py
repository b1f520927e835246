"""Tests of the one clock: anchors, manual time, RFC 3339 parsing and formatting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagrace.timebase import NS_PER_S, format_rfc3339, format_utc_compact, parse_rfc3339


def test_parse_qdrant_log_timestamp() -> None:
    """A Qdrant log timestamp (microseconds, Z) parses to exact Unix nanoseconds."""
    assert parse_rfc3339("2023-09-30T10:31:01.445755Z") == 1_696_069_861_445_755_000


def test_parse_nanosecond_last_update_and_offsets() -> None:
    """`last_update` carries nanoseconds; offsets other than Z are honoured."""
    assert parse_rfc3339("2024-02-12T15:53:53.509658301Z") % NS_PER_S == 509_658_301
    assert parse_rfc3339("2024-02-12T16:53:53+01:00") == parse_rfc3339("2024-02-12T15:53:53Z")


@pytest.mark.parametrize("bad", ["", "yesterday", "2024-02-12 15:53", "2024-13-12T15:53:53Z"])
def test_parse_rejects_garbage(bad: str) -> None:
    """Anything that is not RFC 3339 is a ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011  # the message varies with the input
        parse_rfc3339(bad)


@given(st.integers(min_value=0, max_value=4_000_000_000 * NS_PER_S))
def test_format_parse_roundtrip_at_nanoseconds(unix_ns: int) -> None:
    """Formatting with nine digits and parsing back is the identity."""
    assert parse_rfc3339(format_rfc3339(unix_ns, digits=9)) == unix_ns


def test_format_microseconds_like_qdrant() -> None:
    """Six sub-second digits and a Z, as tracing-subscriber prints them."""
    assert format_rfc3339(1_696_069_861_445_755_999) == "2023-09-30T10:31:01.445755Z"
    assert format_utc_compact(1_696_069_861_445_755_999) == "20230930T103101Z"
