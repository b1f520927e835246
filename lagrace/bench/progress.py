"""Each peer's apply progress as ``GET /cluster`` shows it, and when it passed an entry.

A peer's ``/cluster`` gives ``commit`` and ``pending_operations``; its applied index is taken as
``commit - pending_operations`` (notes §4.3: ``pending_operations`` counts the batch being
applied, and while a batch is applied ``commit`` does not move). The bench polls every peer
every ``poll_s`` and records a ``bench_progress`` observation only when a value changed, with
``since_ns``: when the previous answered poll was *sent* (that poll still saw the old values).
So the change happened within the window ``(since_ns, t_ns]`` — the poll's send and answer
bound when the server read its state — and that window is the resolution of every time derived
from polling. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from lagrace.events import Observe

OBS_PROGRESS: Final = "bench_progress"


@dataclass(frozen=True, slots=True)
class ProgressSample:
    """A changed ``/cluster`` reading of one node: values new within ``(since_ns, at_ns]``."""

    node: int
    since_ns: int | None  # None: the first reading (what it shows happened before the bench)
    at_ns: int
    commit: int
    applied: int


@dataclass(frozen=True, slots=True)
class Window:
    """An instant known to lie in ``(lo_ns, hi_ns]``; ``mid_ns`` estimates it."""

    lo_ns: int
    hi_ns: int

    @property
    def mid_ns(self) -> int:
        """The middle of the window: the estimate."""
        return (self.lo_ns + self.hi_ns) // 2

    @property
    def half_ns(self) -> int:
        """Half the window's width: the estimate's uncertainty (±)."""
        return (self.hi_ns - self.lo_ns + 1) // 2


def progress_data(commit: int, pending: int, since_ns: int | None) -> dict[str, int | None]:
    """The ``data`` of a ``bench_progress`` observation."""
    return {
        "commit": commit,
        "pending": pending,
        "applied": max(0, commit - pending),
        "since_ns": since_ns,
    }


def samples_from_observations(events: Iterable[Observe]) -> dict[int, list[ProgressSample]]:
    """The ``bench_progress`` observations per node, in order."""
    out: dict[int, list[ProgressSample]] = {}
    for event in events:
        if event.kind != OBS_PROGRESS or event.node is None:
            continue
        data = event.data
        since = data.get("since_ns")
        out.setdefault(event.node, []).append(
            ProgressSample(
                node=event.node,
                since_ns=since if isinstance(since, int) else None,
                at_ns=event.t_ns,
                commit=int(data["commit"]),
                applied=int(data["applied"]),
            )
        )
    return out


def crossing(samples: Sequence[ProgressSample], index: int, *, field: str) -> Window | None:
    """When ``field`` (``"commit"`` or ``"applied"``) first reached ``index`` on this node.

    ``None`` when it never did while polled, or when the first reading already showed it
    (it happened before the bench looked: no window).
    """
    for sample in samples:
        value = sample.commit if field == "commit" else sample.applied
        if value >= index:
            if sample.since_ns is None:
                return None
            return Window(sample.since_ns, sample.at_ns)
    return None


def max_commit_before(samples: Mapping[int, Sequence[ProgressSample]], t_ns: int) -> int:
    """The highest commit any node showed in a reading answered before ``t_ns``."""
    best = 0
    for series in samples.values():
        for sample in series:
            if sample.at_ns < t_ns:
                best = max(best, sample.commit)
    return best


@dataclass(frozen=True, slots=True)
class LagPoint:
    """How many entries ``node`` had applied fewer than the most advanced peer, at ``t_ns``."""

    t_ns: int
    node: int
    lag: int


def lag_series(samples: Mapping[int, Sequence[ProgressSample]]) -> list[LagPoint]:
    """Every node's apply lag behind the most advanced node, at every change of any node."""
    merged = sorted(
        (s for series in samples.values() for s in series), key=lambda s: (s.at_ns, s.node)
    )
    applied: dict[int, int] = {}
    points: list[LagPoint] = []
    for sample in merged:
        applied[sample.node] = sample.applied
        if len(applied) < len(samples):
            continue
        top = max(applied.values())
        points.extend(LagPoint(sample.at_ns, node, top - value) for node, value in applied.items())
    return points


@dataclass(frozen=True, slots=True)
class Drain:
    """How a backlog on one node drained: peak lag, then how long until caught up."""

    node: int
    peak_lag: int
    peak_ns: int
    caught_up_ns: int | None  # None: still behind when the bench ended

    @property
    def drain_s(self) -> float | None:
        """Seconds from the last peak to caught up."""
        return None if self.caught_up_ns is None else (self.caught_up_ns - self.peak_ns) / 1e9

    @property
    def entries_per_s(self) -> float | None:
        """Drain speed: the peak backlog over the drain time."""
        drain = self.drain_s
        return None if drain is None or drain <= 0 else round(self.peak_lag / drain, 1)


def drain_of(points: Sequence[LagPoint], node: int) -> Drain | None:
    """The drain after ``node``'s largest lag (``None`` if it never lagged)."""
    mine = [p for p in points if p.node == node]
    if not mine:
        return None
    peak = max(p.lag for p in mine)
    if peak <= 0:
        return None
    last_peak = max(i for i, p in enumerate(mine) if p.lag == peak)
    caught = next((p.t_ns for p in mine[last_peak + 1 :] if p.lag <= 0), None)
    return Drain(node, peak, mine[last_peak].t_ns, caught)
