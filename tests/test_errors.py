"""Tests of the error hierarchy helpers."""

from __future__ import annotations

from lagrace.errors import (
    ClusterError,
    LagraceError,
    UnreachableError,
    UsageError,
    sole_lagrace_error,
)


def test_group_of_lagrace_errors_yields_the_first() -> None:
    """Nested groups of lagrace errors unwrap to the first leaf."""
    first = UnreachableError("node 1 does not answer")
    group = BaseExceptionGroup("g", [BaseExceptionGroup("h", [first]), UsageError("x")])
    assert sole_lagrace_error(group) is first


def test_group_with_a_bug_is_not_unwrapped() -> None:
    """A group holding anything but lagrace errors stays a bug (traceback)."""
    group = BaseExceptionGroup("g", [ClusterError("c"), KeyError("k")])
    assert sole_lagrace_error(group) is None


def test_every_error_is_a_lagrace_error() -> None:
    """The tree has one root."""
    assert issubclass(UnreachableError, ClusterError)
    assert issubclass(ClusterError, LagraceError)
