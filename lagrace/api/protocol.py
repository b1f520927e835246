"""The cluster API seam: what the runner, watchers and discovery need from one Qdrant node.

:class:`lagrace.api.client.HttpNodeClient` implements it; under it, the one place that sends
bytes is a :class:`~lagrace.api.transport.Transport` (aiohttp, or a test's scripted one:
:class:`lagrace.testing.FakeNode` is the real client over
:class:`lagrace.testing.ScriptedTransport`). Every method records its invoke and completion in
the run's history and returns a :class:`Reply` (never raises for transport or HTTP errors).
``worker`` names who made the call in the history; ``intended_ns`` is the scheduled send time
of open-loop operations.
"""

from __future__ import annotations

from typing import Any, Protocol

from lagrace.api.calls import PointsJson
from lagrace.api.models import ClusterStatus, CollectionCluster, Reply, UpdateResult


class NodeIdentity:
    """Which node an implementation of :class:`NodeApi` talks to: the identity part, shared."""

    def __init__(self, node: int, url: str, peer_id: int | None) -> None:
        self._node = node
        self._url = url
        self._peer_id = peer_id

    @property
    def node(self) -> int:
        """1-based node index in the run."""
        return self._node

    @property
    def url(self) -> str:
        """Base HTTP URL, without trailing slash."""
        return self._url

    @property
    def peer_id(self) -> int | None:
        """The node's peer id once discovered (recorded with every call)."""
        return self._peer_id

    def set_peer_id(self, peer_id: int | None) -> None:
        """Set the peer id found by discovery."""
        self._peer_id = peer_id


class NodeApi(Protocol):
    """One Qdrant node's REST API: exactly the calls lagrace's race and preflight make.

    The HTTP client has a few more (``count_points``, ``list_collections``, ...) for tests and
    tools; they are not part of the seam.
    """

    @property
    def node(self) -> int:
        """1-based node index in the run."""
        ...

    @property
    def url(self) -> str:
        """Base HTTP URL, without trailing slash."""
        ...

    @property
    def peer_id(self) -> int | None:
        """The node's peer id once discovered (recorded with every call)."""
        ...

    def set_peer_id(self, peer_id: int | None) -> None:
        """Set the peer id found by discovery."""
        ...

    async def root(self, *, worker: str = "driver") -> Reply[dict[str, Any]]:
        """``GET /``: title, version, commit."""
        ...

    async def telemetry(
        self, details_level: int = 1, *, worker: str = "driver"
    ) -> Reply[dict[str, Any]]:
        """``GET /telemetry?details_level=N``: the raw result object."""
        ...

    async def cluster(self, *, worker: str = "driver") -> Reply[ClusterStatus]:
        """``GET /cluster``."""
        ...

    async def collection_cluster(
        self, name: str, *, worker: str = "driver"
    ) -> Reply[CollectionCluster]:
        """``GET /collections/{name}/cluster``: this node's view of the replica states."""
        ...

    async def create_collection(
        self,
        name: str,
        body: dict[str, Any],
        *,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """``PUT /collections/{name}?timeout=``."""
        ...

    async def delete_collection(
        self, name: str, *, timeout_s: int | None = None, worker: str = "driver"
    ) -> Reply[bool]:
        """``DELETE /collections/{name}?timeout=``."""
        ...

    async def test_slow_down(
        self,
        collection: str,
        *,
        peer_id: int | None,
        duration_s: float,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[bool]:
        """``POST /collections/{c}/cluster`` with ``{"test_slow_down": {...}}``."""
        ...

    async def upsert_points(
        self,
        collection: str,
        points: list[dict[str, Any]] | PointsJson,
        *,
        wait: bool = False,
        ordering: str | None = None,
        timeout_s: int | None = None,
        worker: str = "driver",
        intended_ns: int | None = None,
    ) -> Reply[UpdateResult]:
        """``PUT /collections/{c}/points`` with a list body."""
        ...
