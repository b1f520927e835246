"""End-to-end behaviour of the simulated cluster over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lagrace.logline import parse_log_line
from lagrace.sim.cluster import SimCluster
from lagrace.sim.config import SimConfig
from lagrace.sim.mode import Mode
from lagrace.timebase import parse_rfc3339
from tests.sim.race import (
    DEAD_ECHO,
    EXISTING,
    LAGGING,
    LAST_ACTIVE,
    VECTOR,
    RaceObservation,
    RaceSpec,
    run_race,
)

pytestmark = pytest.mark.sim


async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["result"]


GRPC_MS = 1000  # an attempt times out after 3 s, a frozen peer thaws after ~9 s
THAW_S = 3 * (GRPC_MS / 1000 + 2)


def _config(tmp_path: Path, mode: Mode = Mode.BUGGY) -> SimConfig:
    return SimConfig(seed=1, mode=mode, log_dir=tmp_path, grpc_timeout_ms=GRPC_MS)


def frozen_nodes(seen: RaceObservation, min_s: float = 2.0) -> set[int]:
    """Nodes whose apply of a ``Creating collection`` took longer than ``min_s``."""
    frozen: set[int] = set()
    for node, text in seen.log_texts.items():
        started: int | None = None
        for line in text.splitlines():
            parsed = parse_log_line(line)
            if parsed is None:
                continue
            if parsed.message.startswith("Creating collection "):
                started = parsed.unix_ns
            elif started is not None and parsed.message.startswith("Successfully applied"):
                if parsed.unix_ns - started > min_s * 1e9:
                    frozen.add(node)
                started = None
    return frozen


@pytest.mark.timeout(150)
async def test_strong_writes_through_the_lagging_peer_disrupt_the_existing_collection(
    tmp_path: Path,
) -> None:
    """Buggy mode: the lagging peer's create apply and a strong write through it deadlock.

    The cycle needs a write inside a window of a few tens of ms when the writer queues, so it
    happens in most runs, not all (as on v1.16.2): one of at most four races must show it, and
    each that does is checked in full.
    """
    disrupted = 0
    for attempt in range(4):
        async with SimCluster.start(replace(_config(tmp_path / str(attempt)), seed=attempt)) as c:
            spec = RaceSpec(ordering="strong", through="lagging", settle_s=THAW_S + 6)
            async with asyncio.TaskGroup() as group:
                race = group.create_task(run_race(c, spec))
                frozen_view = group.create_task(_frozen_cluster_view(c, LAGGING))
            seen = race.result()
            lagging_id = c.nodes[LAGGING - 1].peer_id
        assert seen.create_status == [200]
        if not seen.disrupted:
            continue
        disrupted += 1
        assert frozen_nodes(seen) == {LAGGING}
        lag_log = seen.log_texts[LAGGING]
        assert "Failed to apply update with Strong ordering via leader peer" in lag_log
        assert "Notify peer failure" in lag_log
        h_log = seen.log_texts[3]
        assert f"on peer {lagging_id}, error: Operation Cancelled" in h_log
        assert f"Deactivating peer {lagging_id}" in h_log
        # /cluster answers during the freeze, with commit and last_update standing still
        assert frozen_view.result() is not None
        first, last = frozen_view.result() or ({}, {})
        assert first["raft_info"]["commit"] == last["raft_info"]["commit"]
        assert first["consensus_thread_status"] == last["consensus_thread_status"]
        assert last["raft_info"]["pending_operations"] >= 1
        break
    assert disrupted == 1, "no disruption in 4 races"


async def _frozen_cluster_view(cluster: SimCluster, node: int) -> tuple[Any, Any] | None:
    """Two ``GET /cluster`` answers of ``node`` 2 s apart while its create apply waits for the
    write guard; ``None`` if it never waits that long."""
    peer = cluster.peer(node)
    url = cluster.nodes[node - 1].url
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for _ in range(300):
            if peer.toc.statistics().queued_writers:
                first = await _get(session, f"{url}/cluster")
                await asyncio.sleep(2.0)
                if peer.toc.statistics().queued_writers:
                    return first, await _get(session, f"{url}/cluster")
            await asyncio.sleep(0.05)
    return None


@pytest.mark.timeout(200)
async def test_strong_round_robin_freezes_peers_and_gives_the_first_warn(tmp_path: Path) -> None:
    """Buggy mode, strong writes through every peer: disrupted, more than one peer freezes
    (a create applied while writes through that peer wait on a frozen one), and in some runs
    two forwarders' Dead-from-Active proposals for the leader give the first WARN."""
    several_frozen = warned = False
    for attempt in range(4):
        async with SimCluster.start(replace(_config(tmp_path / str(attempt)), seed=attempt)) as c:
            spec = RaceSpec(
                ordering="strong", through="all", rate=40, creates=2, settle_s=THAW_S + 6
            )
            seen = await run_race(c, spec)
        several_frozen |= seen.disrupted and len(frozen_nodes(seen)) >= 2
        warned |= seen.log_has(DEAD_ECHO)
        if several_frozen and warned:
            break
    assert several_frozen, "no run froze two peers"
    assert warned, "no duplicate Dead-from-Active proposal"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("through", ["lagging", "all"])
async def test_weak_writes_do_not_disrupt(tmp_path: Path, through: str) -> None:
    """Buggy mode, weak ordering: the receiving peer fans out, no cycle, nothing breaks."""
    async with SimCluster.start(_config(tmp_path)) as cluster:
        seen = await run_race(cluster, RaceSpec(ordering="weak", through=through))
    assert seen.create_status == [200]
    assert not seen.disrupted
    assert not seen.log_has(DEAD_ECHO)
    assert not seen.log_has(LAST_ACTIVE)
    assert frozen_nodes(seen) == set()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("through", ["lagging", "all"])
async def test_fixed_mode_strong_writes_do_not_disrupt(tmp_path: Path, through: str) -> None:
    """Fixed mode (v1.17.0+): the guard is dropped after the lookup, no cycle can form."""
    async with SimCluster.start(_config(tmp_path, Mode.FIXED)) as cluster:
        seen = await run_race(cluster, RaceSpec(ordering="strong", through=through, creates=2))
    assert not seen.disrupted
    assert not seen.log_has(DEAD_ECHO)
    assert frozen_nodes(seen) == set()
    assert "TestSlowDown: finished sleeping" in seen.log_text


@pytest.mark.timeout(30)
async def test_lagging_peer_freezes_while_the_leader_advances(tmp_path: Path) -> None:
    """During a slow-down the target's commit and last_update freeze; the leader moves on."""
    async with (
        SimCluster.start(SimConfig(seed=2, log_dir=tmp_path)) as cluster,
        aiohttp.ClientSession() as session,
    ):
        leader, lagging = cluster.nodes[0], cluster.nodes[2]
        async with session.put(
            f"{leader.url}/collections/{EXISTING}", json={"vectors": VECTOR}
        ) as r:
            assert r.status == 200
        body = {"test_slow_down": {"peer_id": lagging.peer_id, "duration": 2.5}}
        async with session.post(f"{leader.url}/collections/{EXISTING}/cluster", json=body) as r:
            assert r.status == 200
        await asyncio.sleep(0.3)
        before_lag = await _get(session, f"{lagging.url}/cluster")
        before_lead = await _get(session, f"{leader.url}/cluster")
        async with session.put(
            f"{leader.url}/collections/during_lag?timeout=1", json={"vectors": VECTOR}
        ) as r:
            assert r.status == 200
        await asyncio.sleep(0.3)
        after_lag = await _get(session, f"{lagging.url}/cluster")
        after_lead = await _get(session, f"{leader.url}/cluster")
        assert after_lag["raft_info"]["commit"] == before_lag["raft_info"]["commit"]
        assert after_lag["consensus_thread_status"] == before_lag["consensus_thread_status"]
        assert after_lag["raft_info"]["pending_operations"] >= 1
        assert after_lead["raft_info"]["commit"] > before_lead["raft_info"]["commit"]
        lag_update = parse_rfc3339(after_lag["consensus_thread_status"]["last_update"])
        lead_update = parse_rfc3339(after_lead["consensus_thread_status"]["last_update"])
        assert lead_update - lag_update > 1_000_000_000
        assert (
            after_lead["message_send_failures"][after_lead["peers"][str(lagging.peer_id)]["uri"]][
                "count"
            ]
            >= 1
        )
        status, _ = await _status(session, f"{lagging.url}/collections/during_lag")
        assert status == 404, "the lagging peer has not applied the new collection"
        await asyncio.sleep(2.0)
        caught_up = await _get(session, f"{lagging.url}/cluster")
        assert caught_up["raft_info"]["commit"] >= after_lead["raft_info"]["commit"]


async def _status(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


@pytest.mark.timeout(30)
async def test_kill_and_restart_catches_up(tmp_path: Path) -> None:
    """A killed node refuses connections; restarted on its port it catches up from the log."""
    async with (
        SimCluster.start(SimConfig(seed=3, log_dir=tmp_path)) as cluster,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
    ):
        first, victim = cluster.nodes[0], cluster.nodes[1]
        await cluster.kill(2)
        with pytest.raises(aiohttp.ClientConnectionError):
            await _status(session, f"{victim.url}/cluster")
        async with session.put(
            f"{first.url}/collections/while_down?timeout=1", json={"vectors": VECTOR}
        ) as r:
            assert r.status == 200
        await asyncio.sleep(1.2)
        failures = (await _get(session, f"{first.url}/cluster"))["message_send_failures"]
        assert len(failures) == 1
        await cluster.restart(2)
        assert cluster.nodes[1] == victim
        for _ in range(50):
            status, _ = await _status(session, f"{victim.url}/collections/while_down")
            if status == 200:
                break
            await asyncio.sleep(0.1)
        assert status == 200
        lead = await _get(session, f"{first.url}/cluster")
        back = await _get(session, f"{victim.url}/cluster")
        assert back["peer_id"] == victim.peer_id
        assert back["raft_info"]["leader"] == first.peer_id
        assert back["raft_info"]["commit"] >= lead["raft_info"]["commit"] - 2


@pytest.mark.timeout(30)
async def test_stalled_leader_is_replaced(tmp_path: Path) -> None:
    """Slowing the leader past the election timeout elects another peer with term 2."""
    async with (
        SimCluster.start(SimConfig(seed=4, log_dir=tmp_path)) as cluster,
        aiohttp.ClientSession() as session,
    ):
        leader = cluster.nodes[0]
        async with session.put(f"{leader.url}/collections/c", json={"vectors": VECTOR}) as r:
            assert r.status == 200
        body = {"test_slow_down": {"peer_id": leader.peer_id, "duration": 4.5}}
        async with session.post(f"{cluster.nodes[1].url}/collections/c/cluster", json=body) as r:
            assert r.status == 200
        await asyncio.sleep(4.3)
        views = [await _get(session, f"{node.url}/cluster") for node in cluster.nodes[1:]]
        assert {v["raft_info"]["term"] for v in views} == {2}
        assert {v["raft_info"]["leader"] for v in views} - {leader.peer_id} == {
            views[0]["raft_info"]["leader"]
        }
        stale = await _get(session, f"{leader.url}/cluster")
        assert stale["raft_info"]["role"] == "Leader"
        assert stale["raft_info"]["term"] == 1
