"""Detector (c): writes to the existing collection, by outcome."""

from __future__ import annotations

import pytest

from lagrace.analysis.builders import HistoryBuilder, ms
from lagrace.analysis.writes import (
    failed_at_ns,
    first_failure_per_worker,
    request_collection,
    summarise_writes,
)


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("collection=existing_collection points=64 wait=true", "existing_collection"),
        ("points=64 collection=c1 wait=false", "c1"),
        ('collection="quoted" points=1', "quoted"),
        ("collection: spaced, points=2", "spaced"),
        ("{collection=braced}", "braced"),
        ("points=64 wait=true", None),
        ("subcollection=nope", None),
        ("", None),
    ],
)
def test_request_collection(request_text: str, expected: str | None) -> None:
    """The collection is parsed tolerantly from the request summary."""
    assert request_collection(request_text) == expected


def test_summary_counts_outcomes_and_lists_failures() -> None:
    """ok/fail/info are counted; never-completed writes are info; other collections are ignored."""
    b = HistoryBuilder({1: 101, 2: 102})
    req = "collection=existing points=8 wait=true"
    b.operation(0, 5, "upsert", worker="hammer-0", request=req)
    b.operation(
        10, 15, "upsert", worker="hammer-0", request=req, outcome="fail", status=400, error="bad"
    )
    b.operation(
        20, 30, "upsert", worker="hammer-1", node=2, request=req, outcome="info", status=500
    )
    b.operation(40, None, "upsert", worker="hammer-1", node=2, request=req)
    b.operation(
        50, 55, "upsert", worker="hammer-1", request="collection=new_1 points=8", outcome="fail"
    )
    b.operation(60, 65, "count_points", request=req, outcome="fail")
    s = summarise_writes(b.build(), ["existing"])
    assert (s.total, s.ok, s.fail, s.info) == (4, 1, 1, 2)
    assert [(f.worker, f.outcome, f.status, f.error) for f in s.failures] == [
        ("hammer-0", "fail", 400, "bad"),
        ("hammer-1", "info", 500, None),
        ("hammer-1", "info", None, "never completed"),
    ]
    never = s.failures[-1]
    assert never.completed_ns is None
    assert failed_at_ns(never) == ms(40)
    assert [f.op_id for f in first_failure_per_worker(s)] == [
        s.failures[0].op_id,
        s.failures[1].op_id,
    ]


def test_unnamed_requests_count_only_with_one_existing_collection() -> None:
    """A summary without a collection is attributed only when it cannot be anything else."""
    b = HistoryBuilder()
    b.operation(0, 1, "upsert", request="points=8")
    assert summarise_writes(b.build(), ["existing"]).total == 1
    assert summarise_writes(b.build(), ["a", "b"]).total == 0


def test_no_writes_is_an_empty_summary() -> None:
    """A history without upserts gives zero counts."""
    s = summarise_writes(HistoryBuilder().build(), ["existing"])
    assert (s.total, s.ok, s.fail, s.info, s.failures) == (0, 0, 0, 0, ())
