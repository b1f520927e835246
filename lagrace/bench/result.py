"""``bench.json``: a bench's results from its history; the text report; ``compare``. Pure.

:func:`analyse` turns a finished bench's history into entries, samples, stall findings, lag
and drain; :func:`result_json` lays that out as ``bench.json`` (format ``lagrace-bench/1``,
``docs/bench.md``); :func:`format_result` prints it; :func:`compare_results` and
:func:`format_compare` put two stored results side by side as ratios (B / A).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lagrace.bench.applylog import LOG_RESOLUTION_NS, peer_logs
from lagrace.bench.config import BenchConfig, config_to_json
from lagrace.bench.histogram import STAT_KEYS_ALL, Summary
from lagrace.bench.measure import (
    MARK_MEASURE,
    METRICS,
    EntryTiming,
    Proposal,
    Sample,
    entry_timings,
    proposals_from_history,
    samples_of,
)
from lagrace.bench.progress import (
    Drain,
    LagPoint,
    drain_of,
    lag_series,
    samples_from_observations,
)
from lagrace.bench.stats import (
    DriverFacts,
    MetricStats,
    Stall,
    collect,
    driver_reasons,
    find_stalls,
    metric_json,
)
from lagrace.errors import RunDirError
from lagrace.events import OBS_LOG
from lagrace.history import History

FORMAT: Final = "lagrace-bench/1"
RESULT_FILE: Final = "bench.json"
MAX_LAG_POINTS: Final = 4000


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a bench's history says."""

    proposals: list[Proposal]
    entries: list[EntryTiming]
    samples: list[Sample]
    stalls: list[Stall]
    stats: dict[str, dict[str, MetricStats]]
    lag: list[LagPoint]
    drain: Drain | None
    window_ns: int | None
    has_logs: bool


def analyse(history: History, cfg: BenchConfig, nodes: Sequence[int]) -> Analysis:
    """Entries, samples (stalls taken out), histograms, lag and drain of a bench's history."""
    proposals = proposals_from_history(history)
    progress = samples_from_observations(history.observations())
    logs = peer_logs(history.observations(OBS_LOG))
    has_logs = any(log.entries for log in logs.values())
    entries = entry_timings(proposals, progress, logs, nodes=nodes, target=cfg.target)
    kept, stalls = find_stalls(
        samples_of(entries), factor=cfg.stall_factor, min_ns=int(cfg.stall_min_s * 1e9)
    )
    measure = history.first_mark(MARK_MEASURE)
    answers = [e.proposal.answered_ns for e in entries if e.proposal.answered_ns is not None]
    window = None
    if measure is not None and answers:
        window = max(answers) - measure.t_ns
    lag = lag_series(progress)
    drain = drain_of(lag, cfg.slow_node) if cfg.slow_node is not None else None
    return Analysis(proposals, entries, kept, stalls, collect(kept), lag, drain, window, has_logs)


def _lag_json(points: Sequence[LagPoint], origin_ns: int) -> dict[str, list[list[float]]]:
    out: dict[str, list[list[float]]] = {}
    for p in points:
        series = out.setdefault(str(p.node), [])
        if series and series[-1][1] == p.lag:
            continue
        series.append([round((p.t_ns - origin_ns) / 1e9, 4), p.lag])
    return {k: v[-MAX_LAG_POINTS:] for k, v in out.items()}


def result_json(
    a: Analysis,
    cfg: BenchConfig,
    *,
    meta: Mapping[str, Any],
    driver: DriverFacts,
    origin_ns: int,
) -> dict[str, Any]:
    """The whole ``bench.json``."""
    measured = [p for p in a.proposals if not p.warmup]
    exact = sum(1 for e in a.entries if e.index_exact)
    unknown = sum(1 for e in a.entries if e.index is None)
    reasons = driver_reasons(driver)
    drain = a.drain
    return {
        "format": FORMAT,
        **meta,
        "config": config_to_json(cfg),
        "resolution": {
            "poll_interval_ms": cfg.poll_s * 1000,
            "log_timestamp_ms": LOG_RESOLUTION_NS / 1e6 if a.has_logs else None,
            "note": "poll metrics: the middle of the window between the last poll that still "
            "saw the old value (its send) and the first that saw the new one (its answer), "
            "± half that window (resolution_ms per metric); log metrics: the peer's own "
            "microsecond timestamps",
        },
        "window_s": None if a.window_ns is None else round(a.window_ns / 1e9, 3),
        "entries": {
            "measured": len(a.entries),
            "warmup": sum(1 for p in a.proposals if p.warmup),
            "failed": sum(1 for p in measured if not p.ok),
            "index_exact": exact,
            "index_upper_bound": len(a.entries) - exact - unknown,
            "index_unknown": unknown,
        },
        "results": {
            kind: {
                metric: metric_json(by_metric[metric], a.window_ns)
                for metric in METRICS
                if metric in by_metric
            }
            for kind, by_metric in sorted(a.stats.items())
        },
        "stalls": [s.to_json() for s in a.stalls],
        "lag": _lag_json(a.lag, origin_ns) if cfg.slow_node is not None else {},
        "drain": None
        if drain is None
        else {
            "node": drain.node,
            "peak_lag_entries": drain.peak_lag,
            "peak_s": round((drain.peak_ns - origin_ns) / 1e9, 3),
            "drain_s": drain.drain_s,
            "entries_per_s": drain.entries_per_s,
        },
        "driver": {
            "loop_lag": driver.loop_lag.to_json(),
            "send_lateness": None
            if driver.send_lateness is None
            else driver.send_lateness.to_json(),
            "poll_interval_achieved_ms": {
                str(n): round(s * 1000, 3) for n, s in sorted(driver.poll_achieved_s.items())
            },
            "bottleneck": bool(reasons),
            "reasons": reasons,
        },
    }


# -- text ------------------------------------------------------------------------------------


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def format_result(result: Mapping[str, Any]) -> str:
    """The results as a table per kind and metric, then stalls, drain and the driver."""
    cfg = result["config"]
    lines = [
        f"bench {result.get('run_id', '?')}: {cfg['workload']} x{cfg['concurrency']}"
        + (f" at {cfg['rate']:g}/s" if cfg.get("rate") else "")
        + f", load {cfg['load']}"
        + (f", node {cfg['slow_node']} slowed {cfg['slow_s']:g} s" if cfg.get("slow_node") else "")
        + f" — {result.get('cluster') or 'cluster'}",
        f"window {result.get('window_s')} s; entries {result['entries']}",
        f"resolution: poll every {result['resolution']['poll_interval_ms']:g} ms; log "
        f"timestamps {result['resolution']['log_timestamp_ms'] or 'not given'} ms",
        "",
        f"{'kind':<7} {'metric':<13} {'peer':<5} {'count':>6} {'per s':>8} {'min':>8} "
        f"{'p50':>8} {'p90':>8} {'p99':>8} {'p99.9':>8} {'max':>8}  ± ms",
    ]
    for kind, metrics in result["results"].items():
        for metric, body in metrics.items():
            rows = [("all", body["overall"]), *body["peers"].items()]
            for scope, s in rows:
                lines.append(
                    f"{kind:<7} {metric:<13} {scope:<5} {s['count']:>6} "
                    f"{_ms(s['throughput_per_s']):>8} {_ms(s['min_ms']):>8} {_ms(s['p50_ms']):>8} "
                    f"{_ms(s['p90_ms']):>8} {_ms(s['p99_ms']):>8} {_ms(s['p99.9_ms']):>8} "
                    f"{_ms(s['max_ms']):>8}  {body['resolution_ms']:g}"
                )
    lines.append("")
    stalls = result.get("stalls") or []
    lines.append(f"apply stalls: {len(stalls)}")
    lines.extend(f"  {s['text']}" for s in stalls)
    drain = result.get("drain")
    if drain:
        lines.append(
            f"drain: node {drain['node']} peaked {drain['peak_lag_entries']} entries behind at "
            f"+{drain['peak_s']} s, caught up in {_ms(drain['drain_s'])} s "
            f"({_ms(drain['entries_per_s'])} entries/s)"
        )
    driver = result["driver"]
    lag = driver["loop_lag"]
    lines.append(
        f"driver loop lag: p50 {_ms(lag['p50_ms'])} ms, p99 {_ms(lag['p99_ms'])} ms, max "
        f"{_ms(lag['max_ms'])} ms; polled every {driver['poll_interval_achieved_ms']} ms"
    )
    if driver["bottleneck"]:
        lines.append("FLAGGED: the driver may have been the bottleneck:")
        lines.extend(f"  {r}" for r in driver["reasons"])
    return "\n".join(lines)


# -- compare ---------------------------------------------------------------------------------


def load_result(path: Path) -> dict[str, Any]:
    """A bench's ``bench.json`` (``path`` is the run directory or the file itself)."""
    file = path / RESULT_FILE if path.is_dir() else path
    try:
        obj = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunDirError(f"cannot read {file}: {exc.strerror}") from exc
    except ValueError as exc:
        raise RunDirError(f"{file} is not JSON: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise RunDirError(f"{file} is not a lagrace bench result ({FORMAT})")
    return obj


@dataclass(frozen=True, slots=True)
class Ratio:
    """One statistic of both runs and B / A."""

    kind: str
    metric: str
    scope: str
    stat: str
    a: float | None
    b: float | None

    @property
    def ratio(self) -> float | None:
        """B / A (``None`` when either is missing or A is zero)."""
        if self.a is None or self.b is None or self.a == 0:
            return None
        return self.b / self.a


def compare_results(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Ratio]:
    """Every statistic both results have, per kind, metric and scope (overall, then peers)."""
    rows: list[Ratio] = []
    for kind, metrics in a["results"].items():
        for metric, body in metrics.items():
            other = b["results"].get(kind, {}).get(metric)
            if other is None:
                continue
            scopes = [("all", body["overall"], other["overall"])]
            scopes += [
                (peer, s, other["peers"][peer])
                for peer, s in body["peers"].items()
                if peer in other["peers"]
            ]
            for scope, sa, sb in scopes:
                rows.extend(
                    Ratio(kind, metric, scope, key, sa.get(key), sb.get(key))
                    for key in STAT_KEYS_ALL
                )
    return rows


def format_compare(rows: Sequence[Ratio], a_name: str, b_name: str) -> str:
    """A table of the ratios B / A (``>1``: B is slower, or for counts and rates, more)."""
    lines = [
        f"A = {a_name}",
        f"B = {b_name}",
        f"{'kind':<7} {'metric':<13} {'peer':<5} {'stat':<17} {'A':>10} {'B':>10} {'B/A':>8}",
    ]
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(
            f"{r.kind:<7} {r.metric:<13} {r.scope:<5} {r.stat:<17} {_ms(r.a):>10} "
            f"{_ms(r.b):>10} {ratio:>8}"
        )
    return "\n".join(lines)


def summary_of(obj: Mapping[str, Any]) -> Summary:
    """A stored summary back as :class:`Summary`."""
    return Summary(
        obj["count"],
        obj["throughput_per_s"],
        obj["min_ms"],
        obj["p50_ms"],
        obj["p90_ms"],
        obj["p99_ms"],
        obj["p99.9_ms"],
        obj["max_ms"],
    )
