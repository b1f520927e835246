"""Is a real cluster clean enough to start the next trial? (A shell: it polls the cluster.)

Clean means: no collection a trial of this hunt created is left (``run_scenario`` deletes them at
the end of each run, after its writers stopped; what a failed cleanup left, the hunt deletes),
and the one convergence judgement (:func:`lagrace.analysis.convergence.judge_convergence`)
holds over every collection the cluster has: every peer
answers, the same commit everywhere, nothing pending, no consensus thread stalled (``last_update``
older than a second), every replica ``Active`` in every peer's view. The
judgement is pure (:func:`judge_clean`); the probes reuse :mod:`lagrace.race.watchers`.

On the embedded simulated cluster none of this is needed: every trial is its own
``run_scenario``, which starts a fresh model (``orchestrate._run_target``) and stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from lagrace.analysis.convergence import judge_convergence
from lagrace.api.models import Reply
from lagrace.api.protocol import NodeApi
from lagrace.race.watchers import WatchState, poll_cluster_once, poll_collection_once
from lagrace.recorder import Recorder

POLL_INTERVAL_S: Final = 1.0
DELETE_TIMEOUT_S: Final = 30


class CleanApi(NodeApi, Protocol):
    """The race's seam plus the collection list (``HttpNodeClient`` and ``FakeNode`` have it)."""

    async def list_collections(self, *, worker: str = "driver") -> Reply[list[str]]:
        """``GET /collections``: names."""
        ...


@dataclass(frozen=True, slots=True)
class Cleanliness:
    """Whether the cluster is clean, and if not, why (one line)."""

    clean: bool
    why: str | None = None


def judge_clean(
    clusters: Mapping[int, Mapping[str, Any]],
    collections: Mapping[tuple[int, str], Mapping[str, Any]],
    nodes: int,
    names: Sequence[str],
    leftovers: Sequence[str],
) -> Cleanliness:
    """No leftover of the hunt, and converged over every collection ``names``."""
    if leftovers:
        return Cleanliness(False, f"collections of earlier trials remain: {', '.join(leftovers)}")
    verdict = judge_convergence(clusters, collections, range(1, nodes + 1), names)
    return Cleanliness(verdict.converged, verdict.why_not)


async def probe_clean(
    apis: Sequence[CleanApi], recorder: Recorder, is_leftover: Callable[[str], bool]
) -> Cleanliness:
    """One look at every peer: ``/cluster``, the collection list, every collection's replicas."""
    state = WatchState(nodes=len(apis), clock=recorder.clock)
    async with asyncio.TaskGroup() as tg:
        for api in apis:
            tg.create_task(poll_cluster_once(api, recorder, state))
    names: set[str] = set()
    for api in apis:
        listed = await api.list_collections(worker="hunt-clean")
        if not listed.ok or listed.value is None:
            return Cleanliness(False, f"node {api.node} did not list its collections")
        names.update(listed.value)
    async with asyncio.TaskGroup() as tg:
        for api in apis:
            for name in sorted(names):
                tg.create_task(poll_collection_once(api, recorder, state, name))
    leftovers = sorted(n for n in names if is_leftover(n))
    return judge_clean(state.clusters, state.collections, len(apis), sorted(names), leftovers)


async def delete_leftovers(
    apis: Sequence[CleanApi], names: Sequence[str], is_leftover: Callable[[str], bool]
) -> list[str]:
    """Delete the hunt's collections still listed (never any other); returns what was deleted."""
    if not apis:
        return []
    listed = await apis[0].list_collections(worker="hunt-clean")
    present = set(listed.value or ()) if listed.ok else set(names)
    deleted = []
    for name in names:
        if name in present and is_leftover(name):
            reply = await apis[0].delete_collection(
                name, timeout_s=DELETE_TIMEOUT_S, worker="hunt-clean"
            )
            if reply.ok:
                deleted.append(name)
    return deleted


async def wait_clean(
    apis: Sequence[CleanApi],
    recorder: Recorder,
    is_leftover: Callable[[str], bool],
    bound_s: float,
) -> Cleanliness:
    """Probe every second until clean or ``bound_s`` passed (a poller of a remote cluster: the
    one place a sleep in a loop is the design); the last judgement."""
    last = Cleanliness(False, "not probed")
    try:
        async with asyncio.timeout(bound_s):
            while True:
                last = await probe_clean(apis, recorder, is_leftover)
                if last.clean:
                    return last
                await asyncio.sleep(POLL_INTERVAL_S)
    except TimeoutError:
        return last
