"""The bench's PNG plots: per-entry latency over time per peer, and per-peer lag over time.

Each ``*_figure`` builds a :class:`matplotlib.figure.Figure` on an Agg canvas from an
:class:`~lagrace.bench.result.Analysis` (no pyplot, no global state); :func:`write_plots` saves
them (the caller's I/O). Times are seconds since the bench's origin.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lagrace.bench.result import Analysis
from lagrace.report.plots import DPI, PEER_COLOURS, SIZE


def _figure() -> Figure:
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def latency_figure(a: Analysis, metric: str, title: str) -> Figure | None:
    """``metric`` (ms) of every entry on every peer, by send time; stalls marked."""
    samples = [s for s in a.samples if s.metric == metric]
    if not samples:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    nodes = sorted({s.node for s in samples})
    for i, node in enumerate(nodes):
        mine = [s for s in samples if s.node == node]
        ax.scatter(
            [s.sent_ns / 1e9 for s in mine],
            [s.value_ns / 1e6 for s in mine],
            s=6,
            color=PEER_COLOURS[i % len(PEER_COLOURS)],
            label=f"node {node}",
        )
    for stall in a.stalls:
        ax.axvline(stall.sent_ns / 1e9, color="#d62728", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the bench origin (entry sent)")
    ax.set_ylabel(f"{metric} (ms, log scale)")
    ax.set_title(f"{metric} per entry and peer — {title}", fontsize=11)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def lag_figure(a: Analysis, title: str) -> Figure | None:
    """Every peer's apply lag (entries behind the most advanced peer) over time."""
    if not a.lag:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    nodes = sorted({p.node for p in a.lag})
    for i, node in enumerate(nodes):
        mine = [p for p in a.lag if p.node == node]
        ax.step(
            [p.t_ns / 1e9 for p in mine],
            [p.lag for p in mine],
            where="post",
            color=PEER_COLOURS[i % len(PEER_COLOURS)],
            label=f"node {node}",
        )
    ax.set_xlabel("seconds since the bench origin")
    ax.set_ylabel("entries behind the most advanced peer")
    ax.set_title(f"apply lag per peer — {title}", fontsize=11)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def write_plots(a: Analysis, out: Path, *, title: str) -> list[Path]:
    """Save every plot that has data under ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        f"{metric}.png": latency_figure(a, metric, title)
        for metric in ("answer", "applied_poll", "applied_log", "apply_poll", "apply_log", "ready")
    }
    figures["lag.png"] = lag_figure(a, title)
    written = []
    for name, fig in figures.items():
        if fig is not None:
            fig.savefig(out / name)
            written.append(out / name)
    return written
