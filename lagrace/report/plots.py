"""The PNG plots of the report: upsert latency, throughput, apply lag per peer.

Pure-ish: each ``*_figure`` builds a :class:`matplotlib.figure.Figure` from a
:class:`~lagrace.report.model.ReportModel` (an Agg canvas, never pyplot, so there is no global
figure state and no display); saving is the caller's I/O (:mod:`lagrace.report.rundir`).
Slow-down windows are shaded on every plot; times are seconds since the run origin.
"""

from __future__ import annotations

from typing import Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lagrace.events import Outcome
from lagrace.report.model import ReportModel, throughput
from lagrace.report.timeline_assets import STATE_COLOURS

OUTCOME_COLOURS: Final = {Outcome.OK: "#2e7d32", Outcome.FAIL: "#d62728", Outcome.INFO: "#7b1fa2"}
OUTCOME_LABELS: Final = {Outcome.OK: "ok", Outcome.FAIL: "fail", Outcome.INFO: "unknown (info)"}
PEER_COLOURS: Final = ("#1565c0", "#ef6c00", "#6a1b9a", "#00897b", "#c62828", "#5d4037")
SIZE: Final = (11.0, 4.2)  # inches; at DPI 100 that is 1100 x 420 px
DPI: Final = 100
_NICE_BINS_S: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def _figure() -> Figure:
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _shade_windows(model: ReportModel, ax: Axes) -> None:
    for i, w in enumerate(model.windows):
        label = "slow-down" + (" (derived)" if w.source == "derived" else "")
        ax.axvspan(
            w.start_ns / 1e9,
            w.end_ns / 1e9,
            color="#ffd54f",
            alpha=0.35 if w.source == "log" else 0.2,
            label=label if i == 0 else None,
            zorder=0,
        )
    if model.findings is not None and model.findings.first_disruption_ns is not None:
        ax.axvline(
            model.findings.first_disruption_ns / 1e9,
            color=STATE_COLOURS["Dead"],
            linestyle="--",
            linewidth=1,
            label="first disruption",
        )


def _finish(ax: Axes, model: ReportModel, title: str, ylabel: str) -> None:
    ax.set_xlim(model.start_ns / 1e9, model.end_ns / 1e9)
    ax.set_xlabel("seconds since the run origin")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} — {model.scenario} {model.run_id}", fontsize=11)
    ax.grid(visible=True, alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.85)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")


def latency_figure(model: ReportModel) -> Figure:
    """Upsert latency (log ms) against send time, by outcome, with the slow-downs shaded."""
    fig = _figure()
    ax = fig.add_subplot()
    _shade_windows(model, ax)
    upserts = model.upserts()
    done = [p for p in upserts if p.latency_ns is not None]
    top_ms = max((p.latency_ns or 0 for p in done), default=1_000_000) / 1e6
    for outcome in Outcome:
        pts = [p for p in done if p.outcome is outcome]
        if pts:
            ax.scatter(
                [p.invoked_ns / 1e9 for p in pts],
                [max(0.01, (p.latency_ns or 0) / 1e6) for p in pts],
                s=10,
                c=OUTCOME_COLOURS[outcome],
                label=f"{OUTCOME_LABELS[outcome]} ({len(pts)})",
                alpha=0.8,
                linewidths=0,
            )
    lost = [p for p in upserts if p.latency_ns is None]
    if lost:
        ax.scatter(
            [p.invoked_ns / 1e9 for p in lost],
            [max(top_ms, 1.0) * 1.3] * len(lost),
            marker="x",
            s=18,
            c=OUTCOME_COLOURS[Outcome.INFO],
            label=f"never completed ({len(lost)})",
        )
    if upserts:
        ax.set_yscale("log")
    else:
        _empty(ax, "no upserts recorded")
    _finish(ax, model, "Upsert latency", "latency (ms, log)")
    return fig


def bin_size_ns(span_ns: int, target_bins: int = 60) -> int:
    """A round bin width giving about ``target_bins`` bins over ``span_ns``."""
    want = span_ns / 1e9 / target_bins
    chosen = next((b for b in _NICE_BINS_S if b >= want), _NICE_BINS_S[-1])
    return int(chosen * 1e9)


def throughput_figure(model: ReportModel) -> Figure:
    """Completed upserts per second in bins, stacked by outcome, with the slow-downs shaded."""
    fig = _figure()
    ax = fig.add_subplot()
    _shade_windows(model, ax)
    upserts = model.upserts()
    bin_ns = bin_size_ns(model.end_ns - model.start_ns)
    starts, rates = throughput(upserts, model.start_ns, model.end_ns, bin_ns)
    bottom = [0.0] * len(starts)
    for outcome in Outcome:
        values = rates[outcome]
        if any(values):
            ax.bar(
                starts,
                values,
                width=bin_ns / 1e9,
                bottom=bottom,
                align="edge",
                color=OUTCOME_COLOURS[outcome],
                label=OUTCOME_LABELS[outcome],
                alpha=0.85,
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if not upserts:
        _empty(ax, "no upserts recorded")
    _finish(ax, model, f"Upsert throughput ({bin_ns / 1e9:g} s bins)", "completions / s")
    return fig


def lag_figure(model: ReportModel) -> Figure:
    """Each peer's commit gap (largest commit seen minus its own) over time, as steps."""
    fig = _figure()
    ax = fig.add_subplot()
    _shade_windows(model, ax)
    nodes = sorted({p.node for p in model.lag})
    for i, node in enumerate(nodes):
        pts = [p for p in model.lag if p.node == node]
        xs = [p.t_ns / 1e9 for p in pts] + [model.end_ns / 1e9]
        ys = [p.gap for p in pts] + [pts[-1].gap]
        target = " (target)" if node == model.target_node else ""
        ax.step(
            xs,
            ys,
            where="post",
            color=PEER_COLOURS[i % len(PEER_COLOURS)],
            linewidth=2 if target else 1.3,
            label=f"node {node}{target}",
        )
    if not nodes:
        _empty(ax, "no cluster observations recorded")
    _finish(ax, model, "Apply lag per peer (commit gap)", "entries behind the max commit")
    return fig


FIGURES: Final = {
    "latency.png": latency_figure,
    "throughput.png": throughput_figure,
    "lag.png": lag_figure,
}
