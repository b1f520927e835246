"""Qdrant releases and what each has: ``test_slow_down``, the lock pile-up, the REST surface.

Pure. Facts from ../shared/qdrant/notes.md §4.8 and §7, and from runs against v1.16.2 and
v1.18.3 staging builds (docs/real-cluster.md §2):

* ``test_slow_down`` first appears in v1.16.2 (with the ``staging`` cargo feature);
* up to v1.16.x a write holds the table-of-contents read guard for its whole life, so a
  ``CreateCollection`` applied under strong-ordering writes can deadlock with them until the
  internal gRPC timeouts fire (the *lock pile-up*); v1.17.0 (Qdrant PR #7999) drops the guard
  right after the collection lookup;
* v1.16.3 added the upsert ``timeout`` parameter (its OpenAPI spec; v1.16.2's says "Update
  operation doesn't have timeout yet"); v1.17.0 added ``app.features.staging`` to
  ``GET /telemetry``, ``/cluster/telemetry`` and the ``ManualRecovery`` replica state.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

Version = tuple[int, int, int]

FIRST_WITH_SLOW_DOWN: Final[Version] = (1, 16, 2)
FIRST_FIXED: Final[Version] = (1, 17, 0)  # PR #7999: the guard is released after the lookup
FIRST_WITH_STAGING_TELEMETRY: Final[Version] = (1, 17, 0)
FIRST_WITH_UPSERT_TIMEOUT: Final[Version] = (1, 16, 3)
FIRST_WITH_CLUSTER_TELEMETRY: Final[Version] = (1, 17, 0)
FIRST_WITH_MANUAL_RECOVERY: Final[Version] = (1, 17, 0)

_VERSION: Final = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


class Mechanism(enum.StrEnum):
    """Which race mechanism a release has."""

    LOCK_PILEUP = "toc-lock-pileup"  # v1.16.x: a write holds the ToC read guard for its life
    NONE_KNOWN = "none-known"  # v1.17.0+: guard dropped after the lookup (PR #7999)


MECHANISM_TEXT: Final = {
    Mechanism.LOCK_PILEUP: (
        "table-of-contents lock pile-up (a write holds the ToC read guard for its whole life; "
        "a CreateCollection applied under strong-ordering writes deadlocks with them until "
        "the internal gRPC timeouts)"
    ),
    Mechanism.NONE_KNOWN: (
        "none known (v1.17.0+: the ToC guard is released after the collection lookup, "
        "Qdrant PR #7999)"
    ),
}


def parse_version(text: str) -> Version | None:
    """``"1.16.2"`` / ``"v1.16.2-dev"`` → ``(1, 16, 2)``; ``None`` when it is not a version."""
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def mechanism_of(version: Version) -> Mechanism:
    """The race mechanism a release has."""
    return Mechanism.LOCK_PILEUP if version < FIRST_FIXED else Mechanism.NONE_KNOWN


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """One node's build as preflight found it."""

    version: str
    staging: bool
    staging_source: str  # "telemetry" (v1.17.0+) or "probe" (the 404/400 probe, notes §4.8)
    debug: bool | None  # ``features.debug`` of the telemetry; None when not reported

    @property
    def parsed(self) -> Version | None:
        """The version as numbers, if it parses."""
        return parse_version(self.version)

    @property
    def mechanism(self) -> Mechanism | None:
        """The race mechanism of this release (``None`` for an unparsable version)."""
        parsed = self.parsed
        return None if parsed is None else mechanism_of(parsed)

    @property
    def kind(self) -> str:
        """``debug``, ``release`` or ``unknown`` build."""
        if self.debug is None:
            return "unknown"
        return "debug" if self.debug else "release"

    def describe(self) -> str:
        """``1.16.2 debug, staging, mechanism: toc-lock-pileup``."""
        mechanism = self.mechanism
        what = "unknown" if mechanism is None else mechanism.value
        staging = "staging" if self.staging else "no staging"
        return f"{self.version} {self.kind}, {staging}, mechanism: {what}"

    def to_json(self) -> dict[str, object]:
        """The JSON form recorded in ``config.json`` and the ``run_start`` mark."""
        mechanism = self.mechanism
        return {
            "version": self.version,
            "build": self.kind,
            "staging": self.staging,
            "staging_source": self.staging_source,
            "mechanism": None if mechanism is None else mechanism.value,
            "mechanism_text": None if mechanism is None else MECHANISM_TEXT[mechanism],
        }


def lacks(version: Version) -> tuple[str, ...]:
    """What a client must not rely on with this release (the version table of the docs)."""
    missing: list[str] = []
    if version < FIRST_WITH_SLOW_DOWN:
        missing.append("test_slow_down")
    if version < FIRST_WITH_STAGING_TELEMETRY:
        missing.append("app.features.staging in /telemetry")
    if version < FIRST_WITH_UPSERT_TIMEOUT:
        missing.append("upsert ?timeout=")
    if version < FIRST_WITH_CLUSTER_TELEMETRY:
        missing.append("/cluster/telemetry")
    if version < FIRST_WITH_MANUAL_RECOVERY:
        missing.append("ManualRecovery replica state")
    return tuple(missing)


def cluster_summary(builds: dict[int, BuildInfo]) -> str:
    """One line for a cluster: every node's build, merged when they agree."""
    texts = {b.describe() for b in builds.values()}
    if len(texts) == 1:
        return f"Qdrant {texts.pop()}"
    return "Qdrant " + "; ".join(f"node {n}: {b.describe()}" for n, b in sorted(builds.items()))
