"""Each entry's index and per-peer timings from a literal bench history."""

from __future__ import annotations

from lagrace.bench.applylog import peer_logs
from lagrace.bench.measure import entry_timings, proposals_from_history, samples_of
from lagrace.bench.progress import samples_from_observations
from lagrace.events import OBS_LOG, Outcome
from tests.bench.histories import MS, BenchHistory


def _idle_noop(h: BenchHistory) -> int:
    """Entry 11: committed on node 1 within (90, 101] ms, applied within (140, 152]."""
    for node in (1, 2):
        h.progress(0, node, 10, 0, None)
    h.measure(50)
    sent = h.send_noop(60)
    h.progress(101, 1, 11, 1, 90)
    h.progress(111, 2, 11, 1, 100)
    h.progress(152, 1, 11, 0, 140)
    op = h.answer(sent, 155, floor=10, applied_after=11)
    h.progress(170, 2, 11, 0, 160)
    return op


def test_poll_only_noop_timings() -> None:
    """Exact index from the poll bounds; applied = window middle minus send; apply = the
    applied window's middle minus the commit window's, ± both half-widths."""
    h = BenchHistory()
    _idle_noop(h)
    history = h.history()
    entries = entry_timings(
        proposals_from_history(history),
        samples_from_observations(history.observations()),
        {},
        nodes=[1, 2],
        target=2,
    )
    (entry,) = entries
    assert (entry.index, entry.index_exact, entry.index_source) == (11, True, "poll")
    got = {(s.metric, s.node): (s.value_ns / MS, s.resolution_ns / MS) for s in samples_of(entries)}
    assert got == {
        ("answer", 1): (95.0, 0.0),
        ("applied_poll", 1): (86.0, 6.0),
        ("apply_poll", 1): (50.5, 11.5),
        ("applied_poll", 2): (105.0, 5.0),
        ("apply_poll", 2): (59.5, 10.5),
    }


def test_logs_add_exact_times_and_warmup_and_failures_are_left_out() -> None:
    """Log lines give applied and apply times at 1 µs; warm-up and failed entries are skipped."""
    h = BenchHistory()
    h.answer(h.send_noop(0), 1, floor=9, applied_after=10)  # before measuring: warm-up
    op = _idle_noop(h)
    h.answer(h.send_noop(200), 230, outcome=Outcome.FAIL)
    h.applied_lines(2, 11, 120, 170.5)
    history = h.history()
    proposals = proposals_from_history(history)
    assert [(p.warmup, p.ok) for p in proposals] == [(True, True), (False, True), (False, False)]
    entries = entry_timings(
        proposals,
        samples_from_observations(history.observations()),
        peer_logs(history.observations(OBS_LOG)),
        nodes=[1, 2],
        target=2,
    )
    assert [e.proposal.op_id for e in entries] == [op]
    logged = {(s.metric, s.node): s.value_ns / MS for s in samples_of(entries) if "log" in s.metric}
    assert logged == {("applied_log", 2): 110.5, ("apply_log", 2): 50.5}


def test_an_inexact_index_is_the_upper_bound() -> None:
    """Other entries between the floor and the proposer's applied index: the bound is used."""
    h = BenchHistory()
    h.progress(0, 1, 10, 0, None)
    h.measure(1)
    sent = h.send_noop(5)
    h.progress(40, 1, 13, 0, 20)
    h.answer(sent, 50, floor=10, applied_after=13)
    history = h.history()
    (entry,) = entry_timings(
        proposals_from_history(history),
        samples_from_observations(history.observations()),
        {},
        nodes=[1],
        target=1,
    )
    assert (entry.index, entry.index_exact, entry.index_source) == (13, False, "poll")


def test_create_index_from_the_log_and_readiness() -> None:
    """A create's index comes from ``Creating collection``; ready is its polled window."""
    h = BenchHistory()
    h.measure(0)
    op = h.create(10, 300, "bench_c_x_1")  # log lines carry their own (earlier) times
    h.log(30, 2, "Applying committed entry with index 21")
    h.log(31, 2, "Creating collection bench_c_x_1")
    h.log(260, 2, "Successfully applied consensus operation entry. Index: 21. Result: true")
    h.ready(op, 2, 280, 290)
    history = h.history()
    (entry,) = entry_timings(
        proposals_from_history(history),
        {},
        peer_logs(history.observations(OBS_LOG)),
        nodes=[2],
        target=2,
    )
    assert (entry.index, entry.index_source) == (21, "log")
    got = {s.metric: s.value_ns / MS for s in samples_of([entry])}
    assert got == {"answer": 290.0, "applied_log": 250.0, "apply_log": 230.0, "ready": 275.0}
