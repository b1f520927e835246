"""Which Qdrant release the model behaves like (notes §4.8).

``BUGGY`` models v1.16.x: a user write holds the table of contents' read guard for the whole
request, so an apply of ``CreateCollection`` or ``DeleteCollection`` (which takes the write
guard) can form a cycle with an ``ordering=strong`` write in flight. ``FIXED`` models v1.17.0
and later (Qdrant PR #7999): the guard is released right after the collection lookup.
"""

from __future__ import annotations

import enum


class Mode(enum.Enum):
    """Which model of the table-of-contents lock the cluster runs."""

    BUGGY = "buggy"
    FIXED = "fixed"

    @property
    def version(self) -> str:
        """The Qdrant version this mode models, as ``GET /`` reports it."""
        return MODELLED_VERSION[self]

    @property
    def holds_guard_for_request(self) -> bool:
        """Does a request keep the read guard after the collection lookup?"""
        return self is Mode.BUGGY


MODELLED_VERSION: dict[Mode, str] = {Mode.BUGGY: "1.16.2", Mode.FIXED: "1.17.0"}
