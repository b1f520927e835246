"""PNG plots of a hunt: reproduction probability against each searched parameter.

As :mod:`lagrace.report.plots`: a :class:`matplotlib.figure.Figure` on an Agg canvas (no pyplot,
no global state); saving is the caller's I/O. Each point shows its estimate with the 95% Wilson
interval and ``k/n``; the bracket of the boundary is shaded, the shrink threshold drawn.
"""

from __future__ import annotations

from typing import Final

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lagrace.hunt.window import AxisResult

SIZE: Final = (9.0, 4.2)
DPI: Final = 100
POINT_COLOUR: Final = "#1565c0"
BRACKET_COLOUR: Final = "#ffd54f"
THRESHOLD_COLOUR: Final = "#c62828"


def axis_figure(axis: AxisResult, *, threshold: float, title: str) -> Figure:
    """Estimate and interval at every tried value of ``axis``."""
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    p = axis.param
    rows = [r for r in axis.points if r.estimate.n]
    if axis.bracket is not None:
        lo, hi = sorted(axis.bracket)
        ax.axvspan(lo, hi, color=BRACKET_COLOUR, alpha=0.4, label="boundary bracket", zorder=0)
    ax.axhline(
        threshold, color=THRESHOLD_COLOUR, linestyle=":", linewidth=1, label="shrink threshold"
    )
    if rows:
        xs = [r.value for r in rows]
        ps = [r.estimate.p for r in rows]
        below = [r.estimate.p - r.estimate.low for r in rows]
        above = [r.estimate.high - r.estimate.p for r in rows]
        ax.errorbar(
            xs,
            ps,
            yerr=[below, above],
            fmt="o",
            color=POINT_COLOUR,
            ecolor=POINT_COLOUR,
            capsize=4,
            label="p with 95% Wilson interval",
        )
        for r in rows:
            ax.annotate(
                f"{r.estimate.k}/{r.estimate.n}",
                (r.value, r.estimate.p),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=8,
                color="#333",
            )
    else:
        ax.text(0.5, 0.5, "no counted trial", ha="center", va="center", transform=ax.transAxes)
    if p.scale == "log":
        ax.set_xscale("log")
    span = (p.hi - p.lo) or 1.0
    pad = 0.04 * span if p.scale == "linear" else 0.0
    ax.set_xlim(p.lo - pad, p.hi + pad)
    ax.set_ylim(-0.04, 1.04)
    if p.name == "hammer.ordering":
        ax.set_xticks([0, 1, 2], ["weak", "medium", "strong"])
    ax.set_xlabel(p.name)
    ax.set_ylabel("reproduction probability")
    ax.set_title(title, fontsize=11)
    ax.grid(visible=True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.85)
    return fig
