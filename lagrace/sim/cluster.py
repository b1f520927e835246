"""``SimCluster``: N simulated peers in one process and one event loop, each on its own port.

Usage::

    async with SimCluster.start(SimConfig(nodes=3, seed=7)) as cluster:
        url = cluster.nodes[0].url
        await cluster.kill(2)
        await cluster.restart(2)

All peers' apply loops run in one ``asyncio.TaskGroup`` owned by a single supervisor task whose
lifetime is the ``async with`` block (so an exception in the block propagates as itself). A
failed apply loop stops the cluster and surfaces as :class:`~lagrace.errors.SimulationError`.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from lagrace.clock import Clock, SystemClock
from lagrace.errors import SimulationError
from lagrace.sim.config import SimConfig
from lagrace.sim.http_app import build_app
from lagrace.sim.logfile import PeerLog
from lagrace.sim.peer import PeerAddress, SimPeer
from lagrace.sim.placement import election_timeouts_s, peer_ids_from_seed
from lagrace.sim.raft import Consensus, RaftPeer, RaftTiming
from lagrace.timebase import NS_PER_S

MODEL_LABEL = "lagrace simulated Qdrant cluster (a model, not Qdrant)"


@dataclass(frozen=True, slots=True)
class ServedPeer:
    """A node as users see it: 1-based index, REST URL, peer id, log file."""

    node: int
    url: str
    peer_id: int
    log_path: Path


def _bind(port: int, node: int, *, what: str = "HTTP") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SimulationError(
                f"cannot start simulated node {node}: {what} port {port} on 127.0.0.1 is already "
                "in use"
            ) from exc
        raise SimulationError(f"cannot bind node {node} to 127.0.0.1:{port}: {exc}") from exc
    return sock


class SimCluster:
    """A running simulated cluster; create it with :meth:`start`."""

    def __init__(self, config: SimConfig, clock: Clock, log_dir: Path) -> None:
        self.config = config
        self.clock = clock
        self.log_dir = log_dir
        self._peers: dict[int, SimPeer] = {}
        self._by_node: dict[int, SimPeer] = {}
        self._runners: dict[int, web.AppRunner] = {}
        self._loops: dict[int, asyncio.Task[None]] = {}
        self._p2p_sockets: list[socket.socket] = []
        self._group: asyncio.TaskGroup | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def start(
        cls, config: SimConfig, clock: Clock | None = None
    ) -> AsyncIterator[SimCluster]:
        """Start every peer, yield the running cluster, stop everything on exit."""
        config = config.validated()
        log_dir = config.log_dir or Path(tempfile.mkdtemp(prefix="lagrace-sim-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        cluster = cls(config, clock or SystemClock(), log_dir.resolve())
        ready = asyncio.Event()
        stop = asyncio.Event()
        supervisor = asyncio.create_task(cluster._supervise(ready, stop))
        try:
            ready_wait = asyncio.create_task(ready.wait())
            await asyncio.wait({supervisor, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
            ready_wait.cancel()
            if supervisor.done():
                cluster._raise_failure(supervisor)
            yield cluster
        finally:
            stop.set()
            await asyncio.wait({supervisor})
            cluster._close()
        cluster._raise_failure(supervisor)

    @staticmethod
    def _raise_failure(supervisor: asyncio.Task[None]) -> None:
        if supervisor.cancelled():
            return
        error = supervisor.exception()
        if error is None:
            return
        if isinstance(error, BaseExceptionGroup):
            simulation = error.subgroup(SimulationError)
            if simulation is not None:
                raise simulation.exceptions[0]
        raise SimulationError(f"the simulated cluster stopped with an error: {error!r}") from error

    async def _supervise(self, ready: asyncio.Event, stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                await self._boot()
                ready.set()
                await stop.wait()
            finally:
                for node in list(self._loops):
                    await self._stop_node(node)
                self._group = None

    async def _boot(self) -> None:
        config = self.config
        peer_ids = config.resolved_peer_ids() or peer_ids_from_seed(config.seed, config.nodes)
        timeouts = election_timeouts_s(config.seed, config.nodes, *config.election_timeout_s)
        http_socks: list[socket.socket] = []
        try:
            for node in range(1, config.nodes + 1):
                port = config.base_port + node - 1 if config.base_port else 0
                http_socks.append(_bind(port, node))
                self._p2p_sockets.append(_bind(0, node, what="p2p"))
        except SimulationError:
            for sock in http_socks:
                sock.close()
            raise
        raft_peers = []
        addresses = []
        for node, (peer_id, sock, p2p) in enumerate(
            zip(peer_ids, http_socks, self._p2p_sockets, strict=True), start=1
        ):
            p2p_uri = f"http://127.0.0.1:{p2p.getsockname()[1]}/"
            addresses.append(PeerAddress(node, peer_id, sock.getsockname()[1], p2p_uri))
            raft_peers.append(RaftPeer(peer_id, p2p_uri, int(timeouts[node - 1] * NS_PER_S)))
        timing = RaftTiming(
            heartbeat_ns=int(config.heartbeat_ms * 1_000_000),
            message_timeout_ns=int(config.message_timeout_s * NS_PER_S),
        )
        consensus = Consensus(raft_peers, timing, self.clock.now_ns())
        for address in addresses:
            log = PeerLog(self.log_dir / f"peer-{address.node}.log", self.clock)
            peer = SimPeer(
                address=address,
                consensus=consensus,
                config=config,
                clock=self.clock,
                log=log,
                directory=self._peers,
            )
            self._peers[address.peer_id] = peer
            self._by_node[address.node] = peer
        for address, sock in zip(addresses, http_socks, strict=True):
            await self._start_node(address.node, sock)

    async def _start_node(self, node: int, sock: socket.socket) -> None:
        assert self._group is not None, "the cluster is not running"
        peer = self._by_node[node]
        self._write_startup(peer)
        runner = web.AppRunner(build_app(peer), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runners[node] = runner
        peer.group = self._group
        self._loops[node] = self._group.create_task(peer.run(), name=f"sim-peer-{node}")

    def _write_startup(self, peer: SimPeer) -> None:
        log = peer.log
        log.write(
            "INFO",
            "lagrace::sim::model",
            f"This is the {MODEL_LABEL}: peer {peer.peer_id}, node {peer.address.node}, "
            f"mode {self.config.mode.value} (models Qdrant {self.config.mode.version}), "
            f"grpc_timeout_ms {self.config.grpc_timeout_ms}, seed {self.config.seed}, "
            f"staging {str(self.config.staging).lower()}",
        )
        log.write("INFO", "qdrant::actix", f"Qdrant HTTP listening on {peer.address.port}")
        p2p_port = peer.address.p2p_uri.rstrip("/").rsplit(":", 1)[1]
        log.write("DEBUG", "qdrant::tonic", f"Qdrant internal gRPC listening on {p2p_port}")
        log.write(
            "INFO",
            "qdrant::consensus",
            "With current tick period of 100ms, leader will be established in approximately "
            "4000ms. To increase performance, consider decreasing the tick period.",
        )

    async def _stop_node(self, node: int) -> None:
        runner = self._runners.pop(node, None)
        loop = self._loops.pop(node, None)
        peer = self._by_node[node]
        peer.consensus.kill(peer.peer_id)
        if loop is not None:
            loop.cancel()
            await asyncio.wait({loop})
        peer.reset_volatile()
        peer.group = None
        if runner is not None:
            await runner.cleanup()

    def _close(self) -> None:
        for peer in self._by_node.values():
            peer.log.close()
        for sock in self._p2p_sockets:
            sock.close()
        self._p2p_sockets.clear()

    # -- public API ------------------------------------------------------------------------

    @property
    def nodes(self) -> list[ServedPeer]:
        """Every node, in node order."""
        return [
            ServedPeer(node, peer.address.url, peer.peer_id, peer.log.path)
            for node, peer in sorted(self._by_node.items())
        ]

    def peer(self, node: int) -> SimPeer:
        """The model behind node ``node`` (1-based), for introspection in tests."""
        if node not in self._by_node:
            raise SimulationError(f"no node {node}: the cluster has nodes 1..{len(self._by_node)}")
        return self._by_node[node]

    def is_running(self, node: int) -> bool:
        """Is node ``node`` serving (not killed)?"""
        return node in self._runners

    async def kill(self, node: int) -> None:
        """Stop node ``node``: its port refuses connections, it leaves consensus."""
        self.peer(node)
        if node not in self._runners:
            raise SimulationError(f"node {node} is not running")
        await self._stop_node(node)
        self.peer(node).log.write("INFO", "lagrace::sim::model", "process killed (model)")

    async def restart(self, node: int) -> None:
        """Start a killed node again on the same port with the same peer id and state."""
        peer = self.peer(node)
        if node in self._runners:
            raise SimulationError(f"node {node} is already running")
        sock = _bind(peer.address.port, node)
        peer.consensus.revive(peer.peer_id, self.clock.now_ns())
        await self._start_node(node, sock)

    def set_http_delay(self, node: int, seconds: float) -> None:
        """Make node ``node`` answer every REST request ``seconds`` late (0 to stop)."""
        if seconds < 0:
            raise SimulationError("an HTTP delay cannot be negative")
        self.peer(node).http_delay_s = seconds
