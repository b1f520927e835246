"""The modelled fault (notes §4.7 (iv)): a late ``CreateCollection`` apply blocks the data plane.

In buggy mode, a peer that applies a ``CreateCollection`` entry more than ``threshold`` after
it was committed holds ``collections.write()`` — a fair RwLock that queues new readers such as
internal updates and user upserts — for ``block`` while it builds the collection. In fixed mode
it never blocks.
"""

from __future__ import annotations

import enum


class Mode(enum.Enum):
    """Which model of ``CreateCollection`` apply the cluster runs."""

    BUGGY = "buggy"
    FIXED = "fixed"


def late_create_block_ns(
    mode: Mode, committed_ns: int, applying_ns: int, threshold_ns: int, block_ns: int
) -> int:
    """How long applying this ``CreateCollection`` holds the data plane (0 = not at all)."""
    if mode is Mode.FIXED:
        return 0
    if applying_ns - committed_ns <= threshold_ns:
        return 0
    return block_ns
