"""Client tests run on both event loops (asyncio and uvloop) against in-process fake nodes.

pytest-asyncio 1.5 deprecates overriding ``event_loop_policy`` (a deprecation warning, an error
under ``filterwarnings = error``); its replacement is the ``pytest_asyncio_loop_factories``
hook, which parametrizes every async test in this directory by loop factory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
import uvloop
from aiohttp.test_utils import TestServer

from lagrace.api.client import HttpNodeClient, Timeouts
from lagrace.clock import ManualClock
from lagrace.recorder import Recorder
from tests.api.qdrant_app import NodeState, make_app, three_nodes

FAST = Timeouts(default_s=0.6, meta_s=0.6, connect_s=0.5, margin_s=0.1)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test here runs once on asyncio's loop and once on uvloop."""
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
def recorder() -> Recorder:
    """A recorder on a manual clock, without a sink."""
    return Recorder(ManualClock())


@pytest.fixture
def state() -> NodeState:
    """Node 1 of a consistent fake 3-node cluster."""
    return three_nodes()[0]


@pytest.fixture
async def url(state: NodeState) -> AsyncIterator[str]:
    """The fake node served on 127.0.0.1, port 0."""
    server = TestServer(make_app(state), shutdown_timeout=1.0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def client(url: str, recorder: Recorder) -> AsyncIterator[HttpNodeClient]:
    """An open client of node 1 with short deadlines."""
    async with HttpNodeClient(1, url, recorder, timeouts=FAST) as node:
        yield node
