"""The locally-disabled re-notification backoff (notes §4.6-C)."""

from __future__ import annotations

from lagrace.sim.backoff import LocallyDisabled, ReplicaKey, backoff_delay_s
from lagrace.sim.replica_states import ReplicaState
from lagrace.timebase import NS_PER_S


def test_schedule_is_1_2_4_8_then_10_cap() -> None:
    """Delays after the n-th notification: 1, 2, 4, 8, 10, 10 s."""
    assert [backoff_delay_s(n) for n in range(1, 8)] == [1, 2, 4, 8, 10, 10, 10]


def test_first_notification_is_immediate_then_backs_off() -> None:
    """Disable notifies at once; re-disabling within the backoff does not."""
    key = ReplicaKey("c", 0, 7)
    disabled = LocallyDisabled()
    assert disabled.disable(key, ReplicaState.ACTIVE, 0)
    assert not disabled.disable(key, ReplicaState.ACTIVE, NS_PER_S // 2)
    assert disabled.due(NS_PER_S - 1) == []
    times = [t for t in range(0, 40 * NS_PER_S, NS_PER_S // 10) if disabled.due(t)]
    assert [t / NS_PER_S for t in times] == [1.0, 3.0, 7.0, 15.0, 25.0, 35.0]


def test_enable_forgets_and_order_is_kept() -> None:
    """Enabled replicas are forgotten; the rest keep insertion order."""
    disabled = LocallyDisabled()
    a, b = ReplicaKey("c", 0, 1), ReplicaKey("c", 1, 2)
    disabled.disable(a, ReplicaState.ACTIVE, 0)
    disabled.disable(b, None, 0)
    assert disabled.keys_in_order() == [a, b]
    assert disabled.from_state(b) is None
    disabled.enable(a)
    assert a not in disabled
    assert disabled.keys_in_order() == [b]
