"""Seeing the race: the HTML timeline, the PNG plots, the Perfetto trace of one run directory.

Public API: :func:`render_report` (reads a run directory, writes ``report/``) and
:class:`ReportFiles`; :func:`build_model` / :class:`ReportModel` for callers that already hold
the history. Layout: :mod:`~lagrace.report.model` (pure extraction),
:mod:`~lagrace.report.timeline_html`, :mod:`~lagrace.report.plots`, :mod:`~lagrace.report.trace`,
:mod:`~lagrace.report.summary` (pure rendering), :mod:`~lagrace.report.rundir` (the file I/O).
"""

from __future__ import annotations

from lagrace.report.model import ReportModel, build_model
from lagrace.report.rundir import ReportFiles, load_model, render_report

__all__ = ["ReportFiles", "ReportModel", "build_model", "load_model", "render_report"]
