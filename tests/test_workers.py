"""Tests of the hammer's pre-serialised upsert bodies."""

from __future__ import annotations

import json
import random

import pytest

from lagrace.plan import make_points
from lagrace.workers import VECTOR_POOL, Batches


@pytest.mark.parametrize(("batch", "size"), [(10, 8), (1, 3), (64, 4), (100, 2)])
def test_batches_are_the_seeded_points_with_consecutive_ids(batch: int, size: int) -> None:
    """Bodies parse to the points make_points gives (ids consecutive, vectors cycling)."""
    vectors = [p["vector"] for p in make_points(random.Random(7), 0, VECTOR_POOL, size)]
    batches = Batches(random.Random(7), 1_000, batch, size)
    for k in range(2 * VECTOR_POOL // batch + 3):
        got = batches.next()
        assert len(got) == got.count == batch
        points = json.loads(got.data)["points"]
        assert [p["id"] for p in points] == list(range(1_000 + k * batch, 1_000 + (k + 1) * batch))
        assert [p["vector"] for p in points] == [
            vectors[(k * batch + i) % VECTOR_POOL] for i in range(batch)
        ]
        assert all(p["payload"] == {"lagrace": True} for p in points)


def test_first_batches_equal_make_points() -> None:
    """While the pool lasts, a batch is byte for byte what make_points and json would send."""
    rng = random.Random("3-0")
    batches = Batches(random.Random("3-0"), 50, 8, 8)
    for k in range(VECTOR_POOL // 8):
        expected = {"points": make_points(rng, 50 + 8 * k, 8, 8)}
        assert batches.next().data == json.dumps(expected, separators=(",", ":")).encode()
