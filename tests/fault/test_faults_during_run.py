"""Faults during a run: peers killed, restarted, slow, or cut by connection resets.

Each test races the in-process simulated cluster with :func:`tests.fault.simrace.race_sim` and
injects its fault once the race phase has begun. The driver must keep going, record the
affected operations as ``fail``/``info``, use the peer again once it is back, and still write
its findings and a verdict; no exception may escape and the run stays bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lagrace.events import OBS_PROBE_ERROR, Outcome
from lagrace.history import History
from lagrace.race import runner
from lagrace.race.settle import EndReason
from lagrace.recorder import Recorder
from lagrace.sim.cluster import SimCluster
from lagrace.sim.mode import Mode
from tests.fault.conftest import Figures
from tests.fault.simrace import Injector, check_run, ops_of, race_sim, wait_for_mark
from tests.fault.tcp_proxy import ResettingProxy, resetting_proxy

pytestmark = [
    pytest.mark.fault,
    pytest.mark.sim,
    pytest.mark.timeout(60),
    # A simulated peer killed mid-race can leave one server-side socket that the loop accepted
    # as its listener closed; it is only closed when collected (a ResourceWarning, seen in CI
    # about one run in four). That is the model's kill, not the driver: tolerated here only,
    # and collected at each test's teardown so it cannot surface in another module.
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <(function _SelectorTransport.__del__|socket.socket fd=)"
        r":pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture(autouse=True)
def _collect_sockets_of_killed_peers() -> Iterator[None]:
    """Collect garbage after the test's loop has closed (see the filter above)."""
    yield
    gc.collect()


def _probe_errors(history: History, node: int) -> tuple[int, int]:
    """How many probe failures and recoveries of ``node`` the watchers recorded."""
    obs = [o for o in history.observations(OBS_PROBE_ERROR) if o.node == node]
    failed = sum(1 for o in obs if not o.data.get("recovered"))
    recovered = sum(1 for o in obs if o.data.get("recovered"))
    return failed, recovered


def _kill_and_restart_3(
    window: dict[str, int],
) -> Injector:
    """0.5 s into the race kill node 3, restart it 2 s later; ``window`` gets both instants."""

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        await wait_for_mark(recorder, "phase", "race")
        await asyncio.sleep(0.5)
        window["down"] = recorder.clock.now_ns()
        await cluster.kill(3)
        await asyncio.sleep(2.0)
        window["up"] = recorder.clock.now_ns()
        await cluster.restart(3)

    return inject


async def test_peer_killed_and_restarted_mid_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """A peer killed mid-race and restarted: its calls fail meanwhile, then succeed again."""
    window: dict[str, int] = {}
    raced = await race_sim(tmp_path, monkeypatch, inject=_kill_and_restart_3(window))
    findings = check_run(raced, figures)
    during = ops_of(raced.history, 3, window["down"] + 100_000_000, window["up"])
    after = ops_of(raced.history, 3, window["up"] + 1_000_000_000, raced.history.end_ns)
    survived = (
        bool(during)
        and all(outcome is not Outcome.OK for _, outcome in during)
        and any(outcome is Outcome.OK for _, outcome in after)
    )
    figures.fault("peer killed+restarted", survived=survived)
    assert during, "no call reached node 3 while it was down"
    assert all(outcome is not Outcome.OK for _, outcome in during), during
    assert any(outcome is Outcome.OK for _, outcome in after), "node 3 never used again"
    failed, recovered = _probe_errors(raced.history, 3)
    assert failed >= 1
    assert recovered >= 1
    assert findings["verdict"] in ("reproduced", "not_reproduced", "inconclusive")


async def test_a_killed_peer_is_not_taken_for_the_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """Fixed mode, node 3 killed and restarted: its Dead replicas are explained, not reproduced."""

    raced = await race_sim(tmp_path, monkeypatch, inject=_kill_and_restart_3({}), mode=Mode.FIXED)
    findings = check_run(raced, figures)
    outages = findings["outages"]
    explained = all(d["explained_by"] == 3 for d in findings["disruptions"]) and all(
        h["explained_by"] == 3 for h in findings["signatures"]
    )
    figures.fault(
        "peer killed in fixed mode: not a reproduction",
        survived=findings["verdict"] != "reproduced" and explained,
    )
    assert [o["node"] for o in outages] == [3], outages
    assert outages[0]["until_ns"] is not None
    assert findings["disruptions"], "killing node 3 under writes left every replica Active"
    assert explained, (findings["disruptions"], findings["signatures"])
    assert findings["verdict"] == "inconclusive", findings["reasons"]
    assert any("explained by node 3 refusing connections" in r for r in findings["reasons"])


async def test_peer_killed_for_good_ends_at_the_settle_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """A peer that never comes back: no convergence, the run ends at its settle bound."""

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        await wait_for_mark(recorder, "phase", "race")
        await asyncio.sleep(0.5)
        await cluster.kill(3)

    raced = await race_sim(
        tmp_path,
        monkeypatch,
        inject=inject,
        mode=Mode.FIXED,
        overrides={"run.settle_s": 2, "run.time_limit_s": 10},
    )
    findings = check_run(raced, figures)
    ended = (
        not raced.outcome.result.converged and raced.outcome.result.reason is EndReason.TIME_LIMIT
    )
    figures.fault("peer killed for good", survived=ended)
    assert ended, raced.outcome.result
    # a dead peer's replicas do leave Active (the sim logs the WARNs a real cluster would):
    # whatever the verdict, it must not claim a clean run
    assert findings["verdict"] != "not_reproduced"
    # bounded: lag end + settle + drain grace + cleanup budget, far below time limit x N
    assert raced.history.end_ns < 30 * 1_000_000_000


async def test_peer_unreachable_for_good_gives_inconclusive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """Every connection to one peer reset until the end: never converged, verdict inconclusive."""
    proxies: list[ResettingProxy] = []

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        await wait_for_mark(recorder, "phase", "race")
        await asyncio.sleep(0.2)
        proxies[0].start_resetting()

    async with contextlib.AsyncExitStack() as stack:

        async def front(cluster: SimCluster) -> list[str]:
            urls = [n.url for n in cluster.nodes]
            proxy = await stack.enter_async_context(resetting_proxy(urls[2]))
            proxies.append(proxy)
            return [*urls[:2], proxy.url]

        raced = await race_sim(
            tmp_path,
            monkeypatch,
            inject=inject,
            front=front,
            mode=Mode.FIXED,
            overrides={"run.settle_s": 2, "run.time_limit_s": 10},
        )
    findings = check_run(raced, figures)
    figures.fault("peer unreachable for good", survived=findings["verdict"] == "inconclusive")
    assert findings["verdict"] == "inconclusive", findings["reasons"]
    assert not raced.outcome.result.converged
    assert raced.history.end_ns < 30 * 1_000_000_000


async def test_slow_peer_answers_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """A peer answering every request 6 s late (beyond the 5 s client deadline): info, then ok."""
    window: dict[str, int] = {}

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        await wait_for_mark(recorder, "phase", "race")
        await asyncio.sleep(0.3)
        window["slow"] = recorder.clock.now_ns()
        cluster.set_http_delay(3, 6.0)
        await asyncio.sleep(1.5)
        cluster.set_http_delay(3, 0.0)
        window["fast"] = recorder.clock.now_ns()

    raced = await race_sim(tmp_path, monkeypatch, inject=inject)
    check_run(raced, figures)
    timed_out = [
        op
        for op in raced.history.operations()
        if op.invoke.node == 3
        and op.invoke.t_ns < window["fast"]
        and op.outcome is Outcome.INFO
        and op.complete is not None
        and "timed out" in (op.complete.error or "")
    ]
    after = ops_of(raced.history, 3, window["fast"] + 100_000_000, raced.history.end_ns)
    survived = bool(timed_out) and any(outcome is Outcome.OK for _, outcome in after)
    figures.fault("slow peer", survived=survived)
    assert timed_out, "no call to the slow peer timed out"
    assert all(op.latency_ns is not None and op.latency_ns < 6 * 10**9 for op in timed_out)
    assert any(outcome is Outcome.OK for _, outcome in after)


async def test_connections_reset_in_front_of_a_peer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """A proxy resets every connection to one peer for 1.5 s: fail/info meanwhile, ok after."""
    proxies: list[ResettingProxy] = []
    window: dict[str, int] = {}

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        await wait_for_mark(recorder, "phase", "race")
        await asyncio.sleep(0.4)
        window["cut"] = recorder.clock.now_ns()
        proxies[0].start_resetting()
        await asyncio.sleep(1.5)
        proxies[0].stop_resetting()
        window["mended"] = recorder.clock.now_ns()

    async with contextlib.AsyncExitStack() as stack:

        async def front(cluster: SimCluster) -> list[str]:
            urls = [n.url for n in cluster.nodes]
            proxy = await stack.enter_async_context(resetting_proxy(urls[2]))
            proxies.append(proxy)
            return [*urls[:2], proxy.url]

        raced = await race_sim(tmp_path, monkeypatch, inject=inject, front=front)
    check_run(raced, figures)
    cut = ops_of(raced.history, 3, window["cut"], window["mended"])
    after = ops_of(raced.history, 3, window["mended"] + 500_000_000, raced.history.end_ns)
    bad = [outcome for _, outcome in cut if outcome is not Outcome.OK]
    survived = bool(bad) and any(outcome is Outcome.OK for _, outcome in after)
    figures.fault("connection resets", survived=survived)
    assert proxies[0].resets > 0
    assert bad, cut
    assert {Outcome.FAIL, Outcome.INFO} >= set(bad)
    assert any(outcome is Outcome.OK for _, outcome in after)


async def test_peer_lost_during_setup_ends_in_error_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """A peer lost while setup waits for Active: run_end error, run dir whole, created deleted."""
    monkeypatch.setattr(runner, "SETUP_TIMEOUT_S", 2.0)  # not the 60 s a real cluster gets
    proxies: list[ResettingProxy] = []

    async def inject(cluster: SimCluster, recorder: Recorder) -> None:
        await wait_for_mark(recorder, "phase", "setup")
        proxies[0].start_resetting()
        await cluster.kill(3)

    async with contextlib.AsyncExitStack() as stack:

        async def front(cluster: SimCluster) -> list[str]:
            urls = [n.url for n in cluster.nodes]
            proxy = await stack.enter_async_context(resetting_proxy(urls[2]))
            proxies.append(proxy)
            return [*urls[:2], proxy.url]

        raced = await race_sim(tmp_path, monkeypatch, inject=inject, front=front)
    run_dir = raced.outcome.run_dir
    recorded, on_disk = len(raced.recorder.events), len(raced.history)
    figures.events(recorded, on_disk)
    config = json.loads(run_dir.config.read_text())
    findings = json.loads(run_dir.findings.read_text())
    result = raced.outcome.result
    figures.fault("peer lost during setup", survived=result.reason is EndReason.ERROR)
    assert result.reason is EndReason.ERROR, result
    assert "did not become Active" in (result.detail or "")
    assert config["status"] == "error"
    assert findings["verdict"] == "error"
    assert run_dir.summary.read_text().strip()
    assert on_disk == recorded
    end = raced.history.first_mark("run_end")
    assert end is not None
    assert end.data["reason"] == "error"
    existing = config["existing_collection"]
    assert result.deleted == (existing,)  # what setup created is not left behind
