"""The one error hierarchy of lagrace.

::

    LagraceError                      every error lagrace raises on purpose (exit code 3)
    ├── UsageError                    bad command line or option values
    │   └── ScenarioError             an invalid scenario file or scenario parameter
    ├── ClusterError                  the target is not a usable Qdrant cluster
    │   ├── UnreachableError          a node URL does not answer at all
    │   ├── NotQdrantError            something answers, but it is not Qdrant
    │   ├── ClusterModeError          Qdrant without cluster mode (``/cluster`` disabled)
    │   ├── StagingFeatureError       Qdrant built without the ``staging`` cargo feature
    │   ├── FrozenPeerError           a peer whose apply is frozen (exit 2, not 3: no mistake
    │   │                             of the user's; an earlier race is still holding it)
    │   └── UnknownPeerError          a node index or peer id that is not in the cluster
    ├── RunDirError                   the run directory cannot be created or written
    ├── HistoryError                  a history file that cannot be read (beyond a torn tail)
    ├── ProtocolError                 a response whose body does not have Qdrant's shape
    └── SimulationError               the simulated cluster could not start or stopped badly

Raise the most specific class. Only the CLI catches ``LagraceError`` broadly: it prints the
message as one line and exits with the error's ``exit_code``
(:data:`lagrace.exitcodes.ExitCode.ERROR` for all but :class:`FrozenPeerError`).
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from lagrace.exitcodes import ExitCode


class LagraceError(Exception):
    """Base of every error lagrace raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.ERROR


class UsageError(LagraceError):
    """A bad command line or option value."""


class ScenarioError(UsageError):
    """An invalid scenario file or scenario parameter."""


class ClusterError(LagraceError):
    """The target is not a usable Qdrant cluster."""


class UnreachableError(ClusterError):
    """A node URL does not answer at all."""


class NotQdrantError(ClusterError):
    """Something answers at the URL, but it is not Qdrant."""


class ClusterModeError(ClusterError):
    """Qdrant runs without cluster mode."""


class StagingFeatureError(ClusterError):
    """Qdrant was built without the ``staging`` cargo feature (no ``test_slow_down``)."""


class FrozenPeerError(ClusterError):
    """A peer answers ``GET /cluster`` but not requests that need its table of contents: its
    consensus apply is frozen (an earlier race's lock pile-up, notes §4.8). Inconclusive."""

    exit_code: ClassVar[ExitCode] = ExitCode.INCONCLUSIVE


class UnknownPeerError(ClusterError):
    """A node index or peer id that is not part of the cluster."""


class RunDirError(LagraceError):
    """The run directory cannot be created or written."""


class HistoryError(LagraceError):
    """A history file that cannot be read (corruption other than a torn last line)."""


class ProtocolError(LagraceError):
    """A response body that does not have the shape Qdrant gives it."""


class SimulationError(LagraceError):
    """The simulated cluster could not start, or stopped badly."""


E = TypeVar("E", bound=BaseException)


def sole_error(group: BaseExceptionGroup[BaseException], kind: type[E]) -> E | None:
    """The first leaf of ``group`` if *every* leaf is a ``kind``, else ``None``.

    Concurrent work (a TaskGroup probing every node) fails as a group; callers that expect one
    kind of failure report its first instance. A group holding anything else is not unwrapped.
    """
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            pending[:0] = list(exc.exceptions)
        else:
            leaves.append(exc)
    if leaves and all(isinstance(e, kind) for e in leaves):
        first = leaves[0]
        assert isinstance(first, kind)
        return first
    return None


def sole_lagrace_error(group: BaseExceptionGroup[BaseException]) -> LagraceError | None:
    """:func:`sole_error` for :class:`LagraceError`: what the CLI reports as its one line."""
    return sole_error(group, LagraceError)
