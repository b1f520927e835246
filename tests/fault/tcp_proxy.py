"""A loopback TCP proxy in front of one node that can reset every connection for a while.

While ``resetting`` is on, the proxy aborts every open connection with a TCP RST (``SO_LINGER``
0) and resets each new one as soon as it is accepted; when it is off, bytes are piped both ways
unchanged. Everything binds 127.0.0.1 and stops when the ``async with`` block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

_RST = struct.pack("ii", 1, 0)


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
    writer.transport.abort()


class ResettingProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream``; :meth:`reset_for` cuts connections."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.resetting = False
        self.resets = 0
        self.port = 0

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        """The proxy's HTTP URL."""
        return f"http://127.0.0.1:{self.port}"

    def start_resetting(self) -> None:
        """Reset every open connection now, and every new one until :meth:`stop_resetting`."""
        self.resetting = True
        for writer in list(self._open):
            self.resets += 1
            _reset(writer)

    def stop_resetting(self) -> None:
        """Pipe connections normally again."""
        self.resetting = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.resetting:
                self.resets += 1
                _reset(writer)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self._upstream)
            except OSError:
                _reset(writer)
                return
            self._open.update((writer, up_writer))
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(_pipe(reader, up_writer))
                    tg.create_task(_pipe(up_reader, writer))
            finally:
                self._open.difference_update((writer, up_writer))
                for w in (writer, up_writer):
                    w.transport.abort()
        finally:
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):  # a reset ends the pipe, as it should
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@contextlib.asynccontextmanager
async def resetting_proxy(url: str) -> AsyncIterator[ResettingProxy]:
    """A :class:`ResettingProxy` in front of the node at ``url`` (``http://127.0.0.1:PORT``)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    async with ResettingProxy(host, int(port)) as proxy:
        yield proxy
