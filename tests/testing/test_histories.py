"""The literal-history builder: dense indexes, monotonic time, JSON-compatible events."""

from __future__ import annotations

import pytest

from lagrace.events import Outcome, event_from_json, event_to_json
from lagrace.testing.histories import HistoryBuilder, example_run, ms, upsert


def test_indexes_op_ids_and_peers() -> None:
    """Indexes are dense, op ids pair invoke and complete, peers default from the node map."""
    b = HistoryBuilder({1: 11})
    inv = b.invoke(1, upsert("c", 8, wait=True), node=1)
    done = b.complete(inv, 2, outcome="fail")
    obs = b.log(3, node=1, message="m", at_ms=2.5)
    h = b.build()
    assert [e.index for e in h] == [0, 1, 2]
    assert (done.op_id, done.peer_id, done.outcome) == (inv.op_id, 11, Outcome.FAIL)
    assert obs.data["at_ns"] == ms(2.5)
    assert h.operations("upsert")[0].complete == done
    assert (inv.request, inv.args.collection, inv.args.points) == (
        "PUT /collections/c/points?wait=true points=8",
        "c",
        8,
    )


def test_time_must_not_go_backwards() -> None:
    """The recorder's clock is monotonic, so the builder refuses to go back (unless told not to)."""
    b = HistoryBuilder()
    b.mark(5, "a")
    with pytest.raises(ValueError, match="backwards"):
        b.mark(4, "b")
    lax = HistoryBuilder(strict_time=False)
    lax.mark(5, "a")
    lax.mark(4, "b")
    assert len(lax.build()) == 2


def test_example_run_events_survive_json() -> None:
    """The canned run is valid history: every event round-trips through its JSON form."""
    h = example_run()
    assert [e.index for e in h] == list(range(len(h)))
    assert all(event_from_json(event_to_json(e)) == e for e in h)
    assert [e.t_ns for e in h] == sorted(e.t_ns for e in h)
