"""Detector (c): upserts to the existing collection(s), by outcome (notes §4.6-A, §9.9).

An upsert's collection is its invoke's ``args.collection``, written by the client. An upsert
without one (a history written before invokes had typed fields) is counted only when exactly
one existing collection is watched (then it can only be that one). Operations that never
completed count as ``info`` (unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lagrace.analysis.findings import WriteFailure, WriteSummary
from lagrace.events import Outcome
from lagrace.history import History, Operation

UPSERT: Final = "upsert"


def _targets(op: Operation, existing: set[str]) -> bool:
    name = op.invoke.args.collection
    if name is None:
        return len(existing) == 1
    return name in existing


def summarise_writes(history: History, existing: Iterable[str]) -> WriteSummary:
    """Counts of upserts to ``existing`` by outcome, and every non-ok one in invoke order."""
    watched = set(existing)
    ops = [op for op in history.operations(UPSERT) if _targets(op, watched)]
    failures = tuple(
        WriteFailure(
            op_id=op.invoke.op_id,
            worker=op.invoke.worker,
            node=op.invoke.node,
            invoked_ns=op.invoke.t_ns,
            completed_ns=None if op.complete is None else op.complete.t_ns,
            outcome=op.outcome.value,
            status=None if op.complete is None else op.complete.status,
            error="never completed" if op.complete is None else op.complete.error,
        )
        for op in ops
        if op.outcome is not Outcome.OK
    )
    return WriteSummary(
        total=len(ops),
        ok=sum(op.outcome is Outcome.OK for op in ops),
        fail=sum(op.outcome is Outcome.FAIL for op in ops),
        info=sum(op.outcome is Outcome.INFO for op in ops),
        failures=failures,
    )


def failed_at_ns(failure: WriteFailure) -> int:
    """When a write was known to fail: its completion, or its invocation if it never completed."""
    return failure.completed_ns if failure.completed_ns is not None else failure.invoked_ns


def first_failure_per_worker(writes: WriteSummary) -> tuple[WriteFailure, ...]:
    """The earliest failed or unknown write of each worker (by :func:`failed_at_ns`)."""
    first: dict[str, WriteFailure] = {}
    for failure in sorted(writes.failures, key=lambda f: (failed_at_ns(f), f.op_id)):
        first.setdefault(failure.worker, failure)
    return tuple(first.values())
