"""Pure analysis of a run: detectors, verdict, timeline. No I/O, no event loop.

The public entry points::

    inp = analysis_input_from_history(history)        # or AnalysisInput(...) from the scenario
    findings = analyse(history, inp)                  # lagrace.analysis.findings.Findings

Detectors, one module each: :mod:`~lagrace.analysis.signatures` (the symptom WARNs),
:mod:`~lagrace.analysis.disruptions` (replicas leaving Active), :mod:`~lagrace.analysis.writes`
(upserts by outcome), :mod:`~lagrace.analysis.lag` (did the lag take hold, did it converge);
:mod:`~lagrace.analysis.verdict` merges them, :mod:`~lagrace.analysis.timeline` lines them up.
:mod:`~lagrace.testing.histories` builds literal histories for tests and scripts.
"""

from lagrace.analysis.inputs import (
    AnalysisInput,
    CustomSignature,
    Thresholds,
    analysis_input_from_history,
)
from lagrace.analysis.verdict import analyse, merge_verdicts

__all__ = [
    "AnalysisInput",
    "CustomSignature",
    "Thresholds",
    "analyse",
    "analysis_input_from_history",
    "merge_verdicts",
]
