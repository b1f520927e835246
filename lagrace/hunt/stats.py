"""Reproduction probability of a point: the estimate and its 95% Wilson score interval.

The Wilson interval (Wilson 1927) keeps its coverage for small ``n`` and for ``k`` at 0 or ``n``,
where the normal approximation collapses to a zero-width interval: 0 of 5 gives [0, 0.43], not
"never". That is the honest statement for a hunt whose points hold a handful of trials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

Z95: Final = 1.959963984540054  # two-sided 95% normal quantile


@dataclass(frozen=True, slots=True)
class Estimate:
    """``k`` reproductions in ``n`` counted trials: the estimate and its 95% interval."""

    k: int
    n: int
    low: float
    high: float

    @property
    def p(self) -> float:
        """The point estimate ``k / n`` (0 when nothing was counted)."""
        return self.k / self.n if self.n else 0.0

    def format(self) -> str:
        """``0.60 [0.31, 0.83] (6/10)``."""
        return f"{self.p:.2f} [{self.low:.2f}, {self.high:.2f}] ({self.k}/{self.n})"


def wilson(k: int, n: int, z: float = Z95) -> Estimate:
    """The Wilson score interval of ``k`` successes in ``n`` trials ([0, 1] when ``n`` is 0)."""
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k} n={n}")
    if n == 0:
        return Estimate(0, 0, 0.0, 1.0)
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Estimate(k, n, round(low, 6), round(high, 6))
