"""Tests of the error hierarchy: the drawn tree is the real one, one root, the helpers."""

from __future__ import annotations

import inspect
import re

import pytest

from lagrace import errors
from lagrace.errors import (
    ClusterError,
    LagraceError,
    UnreachableError,
    UsageError,
    sole_error,
    sole_lagrace_error,
)
from lagrace.exitcodes import ExitCode

# "    │   ├── UnreachableError   ..." -> the name and its column (4 per level of depth)
_TREE_LINE = re.compile(r"^(?P<indent>[ │]*)(?:[├└]── )?(?P<name>[A-Z]\w*Error)\b")


def _drawn_tree() -> dict[str, str | None]:
    """class name -> parent name, as the module docstring draws the tree."""
    parents: dict[str, str | None] = {}
    path: list[str] = []
    for line in (errors.__doc__ or "").splitlines():
        match = _TREE_LINE.match(line)
        if match is None:
            continue
        depth = (match.start("name") - 4) // 4
        del path[depth:]
        parents[match["name"]] = path[-1] if path else None
        path.append(match["name"])
    return parents


def _defined_errors() -> dict[str, type[BaseException]]:
    return {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == errors.__name__
    }


def test_group_of_lagrace_errors_yields_the_first() -> None:
    """Nested groups of lagrace errors unwrap to the first leaf."""
    first = UnreachableError("node 1 does not answer")
    group = BaseExceptionGroup("g", [BaseExceptionGroup("h", [first]), UsageError("x")])
    assert sole_lagrace_error(group) is first


def test_group_with_a_bug_is_not_unwrapped() -> None:
    """A group holding anything but lagrace errors stays a bug (traceback)."""
    group = BaseExceptionGroup("g", [ClusterError("c"), KeyError("k")])
    assert sole_lagrace_error(group) is None


def test_the_drawn_tree_is_the_class_tree() -> None:
    """Every error class is drawn in the docstring, under its real parent, and nothing more."""
    drawn, defined = _drawn_tree(), _defined_errors()
    assert set(drawn) == set(defined)
    assert drawn["LagraceError"] is None
    for name, cls in defined.items():
        if name != "LagraceError":
            (base,) = cls.__bases__
            assert drawn[name] == base.__name__, name


@pytest.mark.parametrize("cls", list(_defined_errors().values()), ids=lambda c: c.__name__)
def test_every_error_has_the_one_root_and_a_documented_exit_code(
    cls: type[LagraceError],
) -> None:
    """Each class is a LagraceError with exit code 3, but the frozen peer's inconclusive 2."""
    assert issubclass(cls, LagraceError)
    expected = ExitCode.INCONCLUSIVE if cls is errors.FrozenPeerError else ExitCode.ERROR
    assert cls.exit_code is expected
    assert cls("x").exit_code is expected
    assert cls.__doc__


def test_sole_error_wants_every_leaf_of_the_kind() -> None:
    """sole_error unwraps a nested group only when every leaf is of the kind asked for."""
    ok = BaseExceptionGroup("g", [ValueError("a"), BaseExceptionGroup("h", [ValueError("b")])])
    first = sole_error(ok, ValueError)
    assert isinstance(first, ValueError)
    assert str(first) == "a"
    assert sole_error(ok, KeyError) is None
