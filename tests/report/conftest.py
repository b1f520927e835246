"""Run directories for the report tests, built once per session (they are only read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.fixtures import write_clean_run, write_partial_run, write_race_run


@pytest.fixture(scope="session")
def race_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorded run in which the race was reproduced."""
    return write_race_run(tmp_path_factory.mktemp("race") / "run")


@pytest.fixture(scope="session")
def clean_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorded clean run (no disruption, no TestSlowDown log lines)."""
    return write_clean_run(tmp_path_factory.mktemp("clean") / "run")


@pytest.fixture(scope="session")
def partial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An interrupted run: no findings.json, a torn history tail."""
    return write_partial_run(tmp_path_factory.mktemp("partial") / "run")
