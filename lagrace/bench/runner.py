"""One bench, end to end: cluster, run directory, setup, workload under its condition, results.

The shell around the pure core: it owns the HTTP clients, the simulated cluster's child
process (with ``--apply-cost-ms`` when asked), the history file and the run directory
(``runs/<name>/<UTC stamp>-<id>/``, like ``lagrace run``'s): ``config.json``, ``history.jsonl``,
``logs/``, ``bench.json``, ``bench.txt`` and ``plots/``. Write load is the hammer of
``lagrace run`` (:func:`lagrace.race.workers.hammer`) on the bench's own collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import random
import secrets
import statistics
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lagrace import __version__
from lagrace.api.client import HttpNodeClient
from lagrace.bench.config import BenchConfig, config_to_json, validate
from lagrace.bench.histogram import LatencyHistogram
from lagrace.bench.measure import MARK_MEASURE
from lagrace.bench.result import RESULT_FILE, Analysis, analyse, format_result, result_json
from lagrace.bench.stats import DriverFacts, median_interval_s
from lagrace.bench.workload import Bench, ProgressState, entry_kind, poll_progress, tick_loop
from lagrace.clock import Clock, SystemClock
from lagrace.errors import ClusterError, LagraceError
from lagrace.history import History
from lagrace.plan import NodeRef, Plan
from lagrace.race.context import RunContext
from lagrace.race.preflight import preflight
from lagrace.race.simproc import SimProcess, simulated_cluster
from lagrace.race.tailer import LogTail, start_offset, tail_log
from lagrace.race.workers import collection_body, hammer
from lagrace.recorder import JsonlSink, Recorder, run_flusher
from lagrace.scenario import Scenario, with_overrides
from lagrace.store import RunDir, check_writable, create_run_dir
from lagrace.timebase import NS_PER_S, format_rfc3339
from lagrace.versions import cluster_summary

SETUP_TIMEOUT_S: Final = 60.0
CLEANUP_S: Final = 60.0
CLEANUP_DELETE_S: Final = 10
CATCH_UP_S: Final = 30.0  # after the workload, how long every peer may take to apply it all


@dataclass(frozen=True, slots=True)
class BenchOutcome:
    """A finished bench: where it is and what it found."""

    run_dir: RunDir
    result: dict[str, Any]
    text: str
    plot_error: str | None = None


@contextlib.asynccontextmanager
async def _cluster(
    cfg: BenchConfig, run_dir: RunDir | None, seed: int
) -> AsyncIterator[SimProcess | None]:
    if not cfg.uses_sim:
        yield None
        return
    assert run_dir is not None
    run_dir.sim.mkdir()
    extra = (
        () if cfg.sim_apply_cost_ms is None else ("--apply-cost-ms", f"{cfg.sim_apply_cost_ms:g}")
    )
    async with simulated_cluster(
        nodes=cfg.sim_nodes, mode=cfg.sim_mode, seed=seed, log_dir=run_dir.sim, extra_args=extra
    ) as sim:
        yield sim


async def _all_active(api: HttpNodeClient, name: str, deadline_ns: int, clock: Clock) -> bool:
    while clock.now_ns() < deadline_ns:
        reply = await api.collection_cluster(name, worker="setup")
        if reply.ok and reply.value is not None:
            states = [r.state for r in reply.value.replicas]
            if states and all(s == "Active" for s in states):
                return True
        await asyncio.sleep(0.1)  # a poller of a remote cluster
    return False


async def _setup(bench: Bench, leader: int, nodes: tuple[NodeRef, ...]) -> None:
    """Create the bench's collection; wait until every peer sees it all Active."""
    n = len(nodes)
    body = collection_body(n, n, Scenario().existing.vector_size)
    reply = await bench.apis[leader].create_collection(bench.collection, body, worker="setup")
    if not reply.ok:
        raise ClusterError(f"could not create {bench.collection}: {reply.error or reply.status}")
    bench.created.add(bench.collection)
    clock = bench.recorder.clock
    deadline = clock.now_ns() + int(SETUP_TIMEOUT_S * NS_PER_S)
    for api in bench.apis.values():
        if not await _all_active(api, bench.collection, deadline, clock):
            raise ClusterError(f"{bench.collection} did not become Active on node {api.node}")


def _hammer_context(
    cfg: BenchConfig, bench: Bench, nodes: tuple[NodeRef, ...], seed: int
) -> RunContext:
    scenario = with_overrides(
        Scenario(),
        {
            "run.seed": seed,
            "hammer.workers": cfg.load_workers,
            "hammer.rate": cfg.load_rate,
            "hammer.ordering": cfg.load,
            "hammer.peers": cfg.load_peers,
            "hammer.wait": "true",
        },
    )
    target = next(n for n in nodes if n.node == cfg.target)
    plan = Plan(bench.run_id, bench.collection, target, (), (), 0)
    return RunContext(scenario, plan, nodes, dict(bench.apis), bench.recorder)


async def _workload(bench: Bench, measuring: asyncio.Event) -> None:
    """Warm up, then measure for the duration or count; closed or open loop."""
    cfg, clock, recorder = bench.cfg, bench.recorder.clock, bench.recorder
    start = clock.now_ns()
    measure_at = start + int(cfg.warmup_s * NS_PER_S)
    end_at: int | None = None  # set when measuring starts (a slow warm-up entry delays it)
    period = None if cfg.rate is None else int(NS_PER_S / cfg.rate)
    slots = list(range(cfg.concurrency))
    free = asyncio.Semaphore(cfg.concurrency)
    measured = 0
    seq = 0

    async def one(slot: int, kind: str, seq: int, intended: int | None) -> None:
        try:
            if kind == "noop":
                await bench.noop(slot, intended)
            else:
                await bench.pair(slot, seq, intended)
        finally:
            slots.append(slot)
            free.release()

    async with asyncio.TaskGroup() as tg:
        while True:
            intended = None if period is None else start + seq * period
            if intended is not None:
                await clock.sleep_until(intended)
            await free.acquire()
            now = clock.now_ns()
            if not measuring.is_set() and now >= measure_at:
                recorder.mark(MARK_MEASURE, {"warmup_s": cfg.warmup_s})
                measuring.set()
                if cfg.duration_s is not None:
                    end_at = now + int(cfg.duration_s * NS_PER_S)
            if measuring.is_set():
                if (end_at is not None and now >= end_at) or (
                    cfg.count is not None and measured >= cfg.count
                ):
                    free.release()
                    break
                measured += 1
            slot = slots.pop(0)
            tg.create_task(one(slot, entry_kind(cfg, seq), seq, intended))
            seq += 1
    recorder.mark("bench_workload_end", {"entries": seq, "measured": measured})


async def _slow_down(bench: Bench, target_peer: int, measuring: asyncio.Event) -> None:
    """The condition "one peer slowed": one long ``test_slow_down`` once measuring starts."""
    await measuring.wait()
    await bench.via.test_slow_down(
        bench.collection,
        peer_id=target_peer,
        duration_s=bench.cfg.slow_s,
        timeout_s=bench.cfg.entry_timeout_s,
        worker="condition-slow",
    )


async def _bench_phase(
    bench: Bench, nodes: tuple[NodeRef, ...], tails: dict[int, LogTail], run_dir: RunDir, seed: int
) -> tuple[LatencyHistogram, ProgressState]:
    cfg, recorder = bench.cfg, bench.recorder
    stop, measuring, hammer_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    loop_lag = LatencyHistogram()
    async with asyncio.TaskGroup() as tg:
        background = [
            tg.create_task(run_flusher(recorder)),
            tg.create_task(tick_loop(recorder.clock, loop_lag, measuring)),
        ]
        for api in bench.apis.values():
            tg.create_task(poll_progress(api, recorder, bench.state, cfg.poll_s, stop))
        for node, tail in tails.items():
            tg.create_task(tail_log(tail, recorder, run_dir.node_log(node), stop))
        ctx = None
        if cfg.load != "idle":
            ctx = _hammer_context(cfg, bench, nodes, seed)
            ctx.stop = hammer_stop
            for worker in range(cfg.load_workers):
                tg.create_task(hammer(ctx, worker))
        if cfg.slow_node is not None:
            slow_peer = next(n.peer_id for n in nodes if n.node == cfg.slow_node)
            tg.create_task(_slow_down(bench, slow_peer, measuring))
        await _workload(bench, measuring)
        if cfg.slow_node is not None:
            await asyncio.sleep(cfg.slow_s)  # the drain is only measurable after the sleep
        top = max(bench.state.applied.values(), default=0)
        await bench.state.wait_until(
            lambda: min(bench.state.applied.values(), default=0) >= top, CATCH_UP_S
        )
        await asyncio.sleep(3 * cfg.poll_s)  # one more reading of every peer
        measuring.clear()
        hammer_stop.set()
        stop.set()
        for task in background:
            task.cancel()
    return loop_lag, bench.state


async def _cleanup(bench: Bench, leader: int) -> list[str]:
    """Delete what this bench created (never anything else), within ``CLEANUP_S``."""
    deleted: list[str] = []
    try:
        async with asyncio.timeout(CLEANUP_S):
            for name in sorted(bench.created):
                reply = await bench.apis[leader].delete_collection(
                    name, timeout_s=CLEANUP_DELETE_S, worker="cleanup"
                )
                if reply.ok:
                    deleted.append(name)
    except TimeoutError:
        bench.recorder.mark(
            "cleanup_incomplete", {"deleted": deleted, "wanted": sorted(bench.created)}
        )
    return deleted


def _driver_facts(
    cfg: BenchConfig,
    history: History,
    a: Analysis,
    loop_lag: LatencyHistogram,
    state: ProgressState,
) -> DriverFacts:
    measure = history.first_mark(MARK_MEASURE)
    from_ns = 0 if measure is None else measure.t_ns
    lateness = None
    if cfg.rate is not None:
        late = [
            op.invoke.t_ns - op.invoke.intended_ns
            for op in history.operations()
            if op.invoke.worker.startswith("bench-")
            and op.invoke.intended_ns is not None
            and op.invoke.t_ns >= from_ns
        ]
        lateness = LatencyHistogram.of(late).summary(None)
    achieved = {}
    for node, sends in state.sends.items():
        gap = median_interval_s([t for t in sends if t >= from_ns])
        if gap is not None:
            achieved[node] = gap
    answers = [s.value_ns for s in a.samples if s.metric == "answer"]
    return DriverFacts(
        loop_lag=loop_lag.summary(None),
        send_lateness=lateness,
        poll_s=cfg.poll_s,
        poll_achieved_s=achieved,
        rate=cfg.rate,
        answer_p50_ms=statistics.median(answers) / 1e6 if answers else None,
    )


async def run_bench(
    cfg: BenchConfig, *, api_key: str | None = None, on_line: Callable[[str], None] | None = None
) -> BenchOutcome:
    """Run one bench as configured and write its run directory."""
    cfg = validate(cfg)
    seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31)
    runs_dir = Path(cfg.runs_dir)
    check_writable(runs_dir)
    run_id = secrets.token_hex(3)
    clock = SystemClock()
    recorder = Recorder(clock)
    say = on_line or (lambda _line: None)
    run_dir = None
    if cfg.uses_sim:
        run_dir = create_run_dir(runs_dir, cfg.name, run_id, clock.anchor.unix_ns)
        recorder.attach(JsonlSink(run_dir.history))
    try:
        async with _cluster(cfg, run_dir, seed) as sim, contextlib.AsyncExitStack() as stack:
            urls = cfg.nodes if sim is None else tuple(n.url for n in sim.nodes)
            logs: tuple[Path | None, ...] = (
                tuple(n.log for n in sim.nodes)
                if sim is not None
                else tuple(Path(p) for p in cfg.logs) or (None,) * len(urls)
            )
            clients = [
                await stack.enter_async_context(HttpNodeClient(i + 1, u, recorder, api_key=api_key))
                for i, u in enumerate(urls)
            ]
            found = await preflight(clients, clock)
            for client, ref in zip(clients, found.nodes, strict=True):
                client.set_peer_id(ref.peer_id)
            if run_dir is None:
                run_dir = create_run_dir(runs_dir, cfg.name, run_id, clock.anchor.unix_ns)
                recorder.attach(JsonlSink(run_dir.history))
            summary = cluster_summary(found.builds) if found.builds else None
            if sim is not None:
                summary = f"the simulated cluster, a model ({sim.mode} mode) of {summary}"
            node_ids = [n.node for n in found.nodes]
            meta: dict[str, Any] = {
                "run_id": run_id,
                "name": cfg.name,
                "seed": seed,
                "started": format_rfc3339(clock.anchor.unix_ns),
                "anchor_unix_ns": clock.anchor.unix_ns,
                "cluster": summary,
                "versions": {
                    "lagrace": __version__,
                    "python": platform.python_version(),
                    "qdrant": {str(k): v for k, v in found.versions.items()},
                },
                "nodes": [
                    {
                        "node": n.node,
                        "url": n.url,
                        "peer_id": n.peer_id,
                        "log": None if lg is None else str(lg),
                    }
                    for n, lg in zip(found.nodes, logs, strict=True)
                ],
            }
            recorder.mark("bench_start", {**meta, "config": config_to_json(cfg)})
            run_dir.write_json(
                run_dir.config, {**meta, "status": "running", "config": config_to_json(cfg)}
            )
            tails = {
                ref.node: LogTail(
                    log, ref.node, ref.peer_id, offset=start_offset(log, sim is not None)
                )
                for ref, log in zip(found.nodes, logs, strict=True)
                if log is not None
            }
            target_peer = next(n.peer_id for n in found.nodes if n.node == cfg.target)
            bench = Bench(
                cfg,
                recorder,
                {c.node: c for c in clients},
                ProgressState(),
                f"bench_{run_id}",
                target_peer,
                run_id,
            )
            say(f"bench {run_id}: {summary}; run directory {run_dir.path}")
            await _setup(bench, found.leader_node, found.nodes)
            loop_lag, state = await _bench_phase(bench, found.nodes, tails, run_dir, seed)
            deleted = [] if cfg.keep else await _cleanup(bench, found.leader_node)
            recorder.mark("bench_end", {"deleted": deleted})
    finally:
        recorder.close()
    assert run_dir is not None
    history = recorder.history()
    analysis = analyse(history, cfg, node_ids)
    facts = _driver_facts(cfg, history, analysis, loop_lag, state)
    result = result_json(analysis, cfg, meta=meta, driver=facts, origin_ns=0)
    run_dir.write_json(run_dir.path / RESULT_FILE, result)
    run_dir.write_json(
        run_dir.config, {**meta, "status": "complete", "config": config_to_json(cfg)}
    )
    text = format_result(result)
    run_dir.write_text(run_dir.path / "bench.txt", text + "\n")
    plot_error = None
    try:
        from lagrace.bench.plots import write_plots  # noqa: PLC0415  # matplotlib only when needed

        write_plots(analysis, run_dir.path / "plots", title=f"{cfg.name} {run_id}")
    except (LagraceError, OSError, ValueError) as exc:
        plot_error = str(exc)
    return BenchOutcome(run_dir, result, text, plot_error)
