"""Seeded choices: peer ids (§6.4), shard placement (§2.4), point routing, election timeouts.

Everything here is a pure function of the seed and its arguments (``random.Random`` seeded
with ints or strings, which does not depend on ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Sequence

MAX_PEER_ID = 2**53


def peer_ids_from_seed(seed: int, count: int) -> tuple[int, ...]:
    """``count`` distinct peer ids in ``1..2^53``, like ``rand::random::<u64>() % 2^53 + 1``."""
    rng = random.Random(f"peer-ids:{seed}")
    ids: list[int] = []
    while len(ids) < count:
        candidate = rng.getrandbits(64) % MAX_PEER_ID + 1
        if candidate not in ids:
            ids.append(candidate)
    return tuple(ids)


def election_timeouts_s(seed: int, count: int, low_s: float, high_s: float) -> tuple[float, ...]:
    """One randomized election timeout per node, in ``[low_s, high_s)`` seconds."""
    rng = random.Random(f"election:{seed}")
    return tuple(rng.uniform(low_s, high_s) for _ in range(count))


def place_shards(
    seed: int, collection: str, peers: Sequence[int], shard_number: int, replication_factor: int
) -> tuple[tuple[int, ...], ...]:
    """Replicas per shard: least-loaded peers first, seeded tie-break; capped at peer count."""
    rng = random.Random(f"placement:{seed}:{collection}")
    load = dict.fromkeys(sorted(peers), 0)
    replicas = min(replication_factor, len(load))
    distribution: list[tuple[int, ...]] = []
    for _ in range(shard_number):
        order = sorted(load, key=lambda peer: (load[peer], rng.random()))
        chosen = tuple(sorted(order[:replicas]))
        for peer in chosen:
            load[peer] += 1
        distribution.append(chosen)
    return tuple(distribution)


def shard_for_point(point_id: int | str, shard_number: int) -> int:
    """The shard a point id routes to: ``id % shards``, a CRC32 of the UUID bytes for UUIDs."""
    if isinstance(point_id, int):
        return point_id % shard_number
    return zlib.crc32(uuid.UUID(point_id).bytes) % shard_number
