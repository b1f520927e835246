"""Shared pytest configuration: the real-Qdrant tiers skip unless a staging build is given.

* ``qdrant``: ``LAGRACE_QDRANT_BIN`` is a qdrant binary built with ``--features staging`` (the
  race tests want v1.16.x there: the release with the lock pile-up);
* ``qdrant_fixed``: ``LAGRACE_QDRANT_BIN_FIXED`` is a v1.17.0+ staging build (the fixed control).
"""

from __future__ import annotations

import os

import pytest

_TIERS = {
    "qdrant": (
        "LAGRACE_QDRANT_BIN",
        "needs a real Qdrant built with the `staging` feature: set LAGRACE_QDRANT_BIN "
        "to the qdrant binary",
    ),
    "qdrant_fixed": (
        "LAGRACE_QDRANT_BIN_FIXED",
        "needs a real Qdrant v1.17.0+ built with the `staging` feature (the fixed control): "
        "set LAGRACE_QDRANT_BIN_FIXED to the qdrant binary",
    ),
}


def _usable(variable: str) -> bool:
    binary = os.environ.get(variable, "")
    return binary != "" and os.access(binary, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip each real-Qdrant tier's tests unless its variable points to a qdrant binary."""
    for marker, (variable, reason) in _TIERS.items():
        if _usable(variable):
            continue
        for item in items:
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many attempts each real race took (their ``attempts`` property)."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "attempts":
                terminalreporter.write_line(f"{report.nodeid}: {value}")
