"""Request parsing and Qdrant's answers to bad input."""

from __future__ import annotations

import pytest

from lagrace.sim.bodies import (
    BadBody,
    check_collection_name,
    parse_cluster_operation,
    parse_create_collection,
    parse_points,
)

VECTORS = {"size": 4, "distance": "Cosine"}


def test_create_defaults_follow_cluster_mode() -> None:
    """shard_number defaults to the peer count, replication factor and wcf to 1."""
    params = parse_create_collection({"vectors": VECTORS}, 3)
    assert (params.shard_number, params.replication_factor, params.write_consistency_factor) == (
        3,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("body", "status", "start"),
    [
        (
            {"vectors": VECTORS, "shard_number": 0},
            422,
            "Validation error in JSON body: [shard_number",
        ),
        ({"vectors": VECTORS, "replication_factor": 0}, 422, "Validation error in JSON body"),
        ({"vectors": VECTORS, "shard_number": "x"}, 400, "Format error in JSON body"),
        ({"vectors": {"size": 4, "distance": "Foo"}}, 400, "Format error in JSON body"),
        ({}, 400, "Bad request: the model needs"),
    ],
)
def test_create_rejects_bad_values(body: object, status: int, start: str) -> None:
    """Out-of-range → 422, wrong type → 400, model limit → 400 naming the model."""
    with pytest.raises(BadBody) as info:
        parse_create_collection(body, 3)
    assert info.value.status == status
    assert info.value.message.startswith(start)


def test_collection_name_length() -> None:
    """Names longer than 255 characters fail validation."""
    check_collection_name("a" * 255)
    with pytest.raises(BadBody):
        check_collection_name("a" * 256)


def test_slow_down_parsing_and_validation() -> None:
    """Defaults, truncation to ms, range check, staging off, other ops."""
    request = parse_cluster_operation({"test_slow_down": {"peer_id": 5}}, staging=True)
    assert request.peer_id == 5
    assert request.duration_ms == 1000
    assert (
        parse_cluster_operation({"test_slow_down": {"duration": 0.0019}}, staging=True).duration_ms
        == 1
    )
    with pytest.raises(BadBody) as info:
        parse_cluster_operation({"test_slow_down": {"duration": 301}}, staging=True)
    assert info.value.status == 422
    with pytest.raises(BadBody) as info:
        parse_cluster_operation({"test_slow_down": {}}, staging=False)
    assert info.value.status == 400
    assert "did not match any variant of untagged enum" in info.value.message
    with pytest.raises(BadBody) as info:
        parse_cluster_operation({"move_shard": {}}, staging=True)
    assert info.value.status == 400
    assert "lagrace simulated model" in info.value.message


def test_points_list_and_batch() -> None:
    """Both upsert body shapes give ids and vector lengths; bad ids are format errors."""
    listed = parse_points({"points": [{"id": 1, "vector": [1, 2]}]})
    assert listed.ids == [1]
    assert listed.vector_lengths == [2]
    uid = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
    batch = parse_points({"batch": {"ids": [uid, 2], "vectors": [[1], [2]]}})
    assert batch.ids == [uid, 2]
    with pytest.raises(BadBody):
        parse_points({"points": [{"id": -1, "vector": [1]}]})
