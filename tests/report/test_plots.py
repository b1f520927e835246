"""Tests for lagrace.report.plots: the figures and the PNGs they save to."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from lagrace.report.model import ReportModel
from lagrace.report.plots import (
    FIGURES,
    bin_size_ns,
    lag_figure,
    latency_figure,
    throughput_figure,
)
from lagrace.report.rundir import load_model
from tests.report.fixtures import s

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; asserts the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.fixture(scope="module")
def race(race_dir: Path) -> ReportModel:
    """The model of the reproduced race."""
    return load_model(race_dir)


def test_latency_figure_scatters_by_outcome_and_shades_the_window(race: ReportModel) -> None:
    """One scatter per outcome present, log y, the slow-down span and first-disruption line."""
    ax = latency_figure(race).axes[0]
    legend = ax.get_legend()
    assert legend is not None
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels == ["slow-down", "first disruption", "ok (132)", "fail (6)", "unknown (info) (2)"]
    assert ax.get_yscale() == "log"
    assert ax.get_xlim() == (race.start_ns / 1e9, race.end_ns / 1e9)


def test_throughput_figure_stacks_outcomes_in_bins(race: ReportModel) -> None:
    """Bars per bin per outcome; their heights add up to the completion rate."""
    ax = throughput_figure(race).axes[0]
    bin_s = bin_size_ns(race.end_ns - race.start_ns) / 1e9
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() == bin_s]
    total = sum(bar.get_height() for bar in bars)
    assert total * bin_s == pytest.approx(140)


def test_lag_figure_has_a_step_line_per_peer(race: ReportModel) -> None:
    """One line per node; the target's line reaches a gap of 10."""
    ax = lag_figure(race).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) >= {"node 1", "node 2 (target)", "node 3"}
    assert float(np.max(np.asarray(lines["node 2 (target)"].get_ydata()))) == 10


def test_empty_model_draws_placeholders(race: ReportModel) -> None:
    """Without upserts or cluster observations the figures say so instead of failing."""
    from dataclasses import replace

    empty = replace(race, ops=(), lag=())
    for build in FIGURES.values():
        texts = [t.get_text() for t in build(empty).axes[0].texts]
        assert any(t.startswith("no ") for t in texts)


@pytest.mark.parametrize(
    ("span_s", "expected_s"), [(1, 0.1), (15.5, 0.5), (60, 1.0), (600, 10.0), (10_000, 60.0)]
)
def test_bin_size_is_round(span_s: float, expected_s: float) -> None:
    """About 60 bins, rounded up to a readable width."""
    assert bin_size_ns(s(span_s)) == s(expected_s)


def test_saved_pngs_are_valid_and_sized(race_dir: Path, tmp_path: Path) -> None:
    """render_report writes three real PNGs of 1100 x 420 px."""
    from lagrace.report import render_report

    files = render_report(race_dir, tmp_path / "out")
    assert [p.name for p in files.pngs] == ["latency.png", "throughput.png", "lag.png"]
    for path in files.pngs:
        assert png_size(path) == (1100, 420)
        assert path.stat().st_size > 10_000
