"""The Wilson interval."""

from __future__ import annotations

import pytest

from lagrace.hunt.stats import wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 5, 0.0, 0.4345),
        (5, 5, 0.5655, 1.0),
        (6, 10, 0.3127, 0.8318),
        (1, 20, 0.0089, 0.2361),
        (0, 0, 0.0, 1.0),
    ],
)
def test_wilson_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    """The 95% Wilson interval agrees with the textbook figures to four places."""
    est = wilson(k, n)
    assert est.low == pytest.approx(low, abs=1e-4)
    assert est.high == pytest.approx(high, abs=1e-4)


def test_wilson_estimate_and_format() -> None:
    """The point estimate is k/n and the text shows estimate, interval and counts."""
    est = wilson(3, 4)
    assert est.p == 0.75
    assert est.format().endswith("(3/4)")


def test_wilson_refuses_impossible_counts() -> None:
    """k above n is a bug, not a probability."""
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(3, 2)
