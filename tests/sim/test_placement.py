"""Seeded peer ids, placement, routing and election timeouts."""

from __future__ import annotations

import uuid
from collections import Counter

from lagrace.sim.placement import (
    MAX_PEER_ID,
    election_timeouts_s,
    peer_ids_from_seed,
    place_shards,
    shard_for_point,
)


def test_peer_ids_are_seeded_distinct_and_in_range() -> None:
    """Same seed, same ids; all in 1..2^53; different seeds differ."""
    ids = peer_ids_from_seed(42, 5)
    assert ids == peer_ids_from_seed(42, 5)
    assert len(set(ids)) == 5
    assert all(1 <= i <= MAX_PEER_ID for i in ids)
    assert ids != peer_ids_from_seed(43, 5)


def test_placement_is_deterministic_balanced_and_capped() -> None:
    """Replicas per shard capped at the peer count; load balanced; seeded."""
    peers = (5, 9, 2)
    full = place_shards(1, "c", peers, 3, 3)
    assert full == ((2, 5, 9),) * 3
    single = place_shards(1, "c", peers, 6, 1)
    assert single == place_shards(1, "c", peers, 6, 1)
    assert Counter(p for shard in single for p in shard) == {2: 2, 5: 2, 9: 2}
    assert place_shards(1, "c", peers, 2, 10) == ((2, 5, 9), (2, 5, 9))


def test_routing_by_id_modulo_and_uuid_hash() -> None:
    """Integer ids route by modulo; UUIDs route stably."""
    assert [shard_for_point(i, 3) for i in range(6)] == [0, 1, 2, 0, 1, 2]
    point = str(uuid.UUID(int=12345))
    assert shard_for_point(point, 3) == shard_for_point(point, 3)
    assert 0 <= shard_for_point(point, 3) < 3


def test_election_timeouts_in_range() -> None:
    """Seeded timeouts lie in [2, 4) seconds."""
    timeouts = election_timeouts_s(3, 4, 2.0, 4.0)
    assert timeouts == election_timeouts_s(3, 4, 2.0, 4.0)
    assert all(2.0 <= t < 4.0 for t in timeouts)
