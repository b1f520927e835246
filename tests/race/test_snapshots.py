"""Tests of watcher snapshots (judged in tests/analysis/test_convergence.py)."""

from __future__ import annotations

import itertools

from lagrace.api.models import ClusterStatus, SendFailure
from lagrace.race.snapshots import cluster_changed, cluster_data
from lagrace.timebase import NS_PER_MS, WallAnchor

ANCHOR = WallAnchor(unix_ns=1_000_000 * NS_PER_MS)


def _status(commit: int = 10, last_update_ms: int = 1_000_000, pending: int = 0) -> ClusterStatus:
    return ClusterStatus(
        peer_id=7,
        peers={7: "http://127.0.0.1:1/", 8: "http://127.0.0.1:2/"},
        term=1,
        commit=commit,
        pending_operations=pending,
        leader=7,
        role="Leader",
        is_voter=True,
        thread_status="working",
        thread_error=None,
        last_update_unix_ns=last_update_ms * NS_PER_MS,
        message_send_failures={"http://127.0.0.1:2/": SendFailure(3, "timeout", None)},
    )


def test_cluster_data_places_last_update_on_the_run_axis() -> None:
    """last_update becomes run-axis ns; its age is measured against the wall clock now."""
    data = cluster_data(_status(last_update_ms=1_000_500), ANCHOR, (1_002_000) * NS_PER_MS)
    assert data["last_update_ns"] == 500 * NS_PER_MS
    assert data["last_update_age_ms"] == 1500.0
    assert data["stalled"] is True
    assert data["send_failures"] == {"http://127.0.0.1:2/": 3}


def test_only_real_changes_are_recorded() -> None:
    """A growing age alone is not a change; a new commit is."""
    a = cluster_data(_status(), ANCHOR, 1_000_100 * NS_PER_MS)
    b = cluster_data(_status(), ANCHOR, 1_000_200 * NS_PER_MS)
    assert cluster_changed(None, a)
    assert not cluster_changed(a, b)
    assert cluster_changed(a, cluster_data(_status(commit=11), ANCHOR, 1_000_200 * NS_PER_MS))


def test_a_stall_is_re_recorded_every_second() -> None:
    """While a peer's last_update is frozen, each new whole second of age is recorded."""
    stalled = [
        cluster_data(_status(), ANCHOR, (1_000_000 + ms) * NS_PER_MS) for ms in range(0, 4000, 250)
    ]
    recorded = [b for a, b in itertools.pairwise(stalled) if cluster_changed(a, b)]
    assert [r["last_update_age_ms"] for r in recorded] == [1250.0, 2000.0, 3000.0]
