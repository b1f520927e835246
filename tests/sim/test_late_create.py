"""The late-CreateCollection blocking decision (the modelled fault)."""

from __future__ import annotations

import pytest

from lagrace.clock import NS_PER_MS
from lagrace.sim.late_create import Mode, late_create_block_ns

THRESHOLD = 1000 * NS_PER_MS
BLOCK = 2500 * NS_PER_MS


@pytest.mark.parametrize(
    ("mode", "lateness_ms", "blocked"),
    [
        (Mode.BUGGY, 0, False),
        (Mode.BUGGY, 1000, False),
        (Mode.BUGGY, 1001, True),
        (Mode.BUGGY, 5000, True),
        (Mode.FIXED, 5000, False),
    ],
)
def test_blocks_only_late_applies_in_buggy_mode(
    mode: Mode, lateness_ms: int, blocked: bool
) -> None:
    """Buggy mode blocks for ``block`` when applied more than ``threshold`` after commit."""
    committed = 10_000 * NS_PER_MS
    got = late_create_block_ns(
        mode, committed, committed + lateness_ms * NS_PER_MS, THRESHOLD, BLOCK
    )
    assert got == (BLOCK if blocked else 0)
