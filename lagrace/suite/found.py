"""What one run of a catalogue scenario found: the kinds its findings show, and the cell of
the matrix (found / not found / inconclusive / not modelled). Pure."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from lagrace.analysis.findings import Findings, Verdict
from lagrace.analysis.panics import SOURCE_LOG
from lagrace.suite.catalogue import SIGNATURE_PREFIX


class Cell(enum.StrEnum):
    """The outcome of one run in the matrix."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    INCONCLUSIVE = "inconclusive"
    NOT_MODELLED = "not_modelled"  # the simulated cluster does not model this scenario

    @property
    def label(self) -> str:
        """``not found``, ``not modelled``, ..."""
        return self.value.replace("_", " ")


def kinds_of(findings: Findings) -> tuple[str, ...]:
    """Every kind (lagrace/suite/catalogue.py ``FOUND_KINDS``) the findings show, sorted."""
    kinds: set[str] = set()
    for hit in findings.signatures:
        if hit.explained_by is None:
            kinds.update(("signature", SIGNATURE_PREFIX + hit.signature))
    if any(d.explained_by is None for d in findings.disruptions):
        kinds.add("disruption")
    for panic in findings.panics:
        kinds.add("panic" if panic.source == SOURCE_LOG else "task_panicked")
    if findings.server_errors:
        kinds.add("write_500")
    if findings.unresponsive:
        kinds.add("unresponsive")
    if findings.stalls:
        kinds.add("apply_stall")
    if findings.freezes:
        kinds.add("freeze")
    if findings.verdict is Verdict.REPRODUCED:
        kinds.add("reproduced")
    return tuple(sorted(kinds))


def classify(
    wanted: Iterable[str],
    kinds: Iterable[str],
    verdict: Verdict,
    *,
    sim: bool,
    sim_modelled: bool,
    interrupted: bool = False,
) -> Cell:
    """Found if any ``wanted`` kind is there (evidence stands whatever else happened);
    otherwise inconclusive when the run could not tell; otherwise, on the simulated cluster for
    a scenario it does not model, not modelled (never "not found"); else not found."""
    if set(wanted) & set(kinds):
        return Cell.FOUND
    if interrupted or verdict in (Verdict.INCONCLUSIVE, Verdict.ERROR):
        return Cell.INCONCLUSIVE
    if sim and not sim_modelled:
        return Cell.NOT_MODELLED
    return Cell.NOT_FOUND
