"""Shared pytest configuration: the `qdrant` tier skips unless a real staging build is given."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `qdrant`-marked tests unless LAGRACE_QDRANT_BIN points to a qdrant binary."""
    binary = os.environ.get("LAGRACE_QDRANT_BIN")
    if binary and os.access(binary, os.X_OK):
        return
    reason = (
        "needs a real Qdrant built with the `staging` feature: set LAGRACE_QDRANT_BIN "
        "to the qdrant binary"
    )
    for item in items:
        if "qdrant" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
