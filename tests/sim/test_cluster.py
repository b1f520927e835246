"""End-to-end behaviour of the simulated cluster over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lagrace.clock import parse_rfc3339
from lagrace.sim import Mode, SimCluster, SimConfig
from tests.sim.race import DEAD_ECHO, EXISTING, LAST_ACTIVE, VECTOR, run_race

pytestmark = pytest.mark.sim


async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["result"]


@pytest.mark.timeout(60)
async def test_race_appears_in_buggy_mode(tmp_path: Path) -> None:
    """A late create on the lagging peer yields both WARNs and non-Active replicas."""
    async with SimCluster.start(SimConfig(seed=1, mode=Mode.BUGGY, log_dir=tmp_path)) as cluster:
        seen = await run_race(cluster, slow_down_s=3.0)
    assert seen.create_status == 200
    assert seen.log_has(DEAD_ECHO)
    assert seen.log_has(LAST_ACTIVE)
    assert seen.non_active, "some peer's /collections/existing/cluster left Active"
    assert "late CreateCollection" in seen.log_text


@pytest.mark.timeout(60)
async def test_no_race_in_fixed_mode(tmp_path: Path) -> None:
    """Same scenario, fixed mode: no data-plane block, no WARN, all replicas stay Active."""
    async with SimCluster.start(SimConfig(seed=1, mode=Mode.FIXED, log_dir=tmp_path)) as cluster:
        seen = await run_race(cluster, slow_down_s=3.0)
    assert seen.create_status == 200
    assert not seen.log_has(DEAD_ECHO)
    assert not seen.log_has(LAST_ACTIVE)
    assert seen.non_active == set()
    assert "TestSlowDown: finished sleeping" in seen.log_text


@pytest.mark.timeout(60)
async def test_no_race_without_slow_down(tmp_path: Path) -> None:
    """Buggy mode but no lag: the create applies in time everywhere, nothing breaks."""
    async with SimCluster.start(SimConfig(seed=1, mode=Mode.BUGGY, log_dir=tmp_path)) as cluster:
        seen = await run_race(cluster, slow_down_s=None, settle_s=1.0)
    assert seen.create_status == 200
    assert not seen.log_has(DEAD_ECHO)
    assert not seen.log_has(LAST_ACTIVE)
    assert seen.non_active == set()


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
