"""Request parsing with Qdrant's answers for bad input (notes §1, §2.4, §2.7, §2.8).

Pure functions from decoded JSON to typed values, or a :class:`BadBody` carrying the HTTP
status and message Qdrant's actix extractors give: 400 ``Format error in JSON body: ...`` for
a body that does not deserialize, 422 ``Validation error in JSON body: ...`` for values out of
range. Where the model is narrower than Qdrant it answers 400 and says so.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from lagrace.sim.operations import CollectionParams

DISTANCES = ("Cosine", "Euclid", "Dot", "Manhattan")
PUBLIC_CLUSTER_OPERATIONS = (
    "move_shard",
    "replicate_shard",
    "abort_transfer",
    "drop_replica",
    "create_sharding_key",
    "drop_sharding_key",
    "restart_transfer",
    "start_resharding",
    "abort_resharding",
    "replicate_points",
)
MAX_NAME_LEN = 255
MAX_SLOW_DOWN_S = 300.0
UNTAGGED = "data did not match any variant of untagged enum ClusterOperations"


class BadBody(Exception):
    """A request Qdrant would reject before the handler runs."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def format_error(detail: str) -> BadBody:
    """400 ``Format error in JSON body: ...``."""
    return BadBody(400, f"Format error in JSON body: {detail}")


def validation_error(field: str, detail: str) -> BadBody:
    """422 ``Validation error in JSON body: [field: detail]``."""
    return BadBody(422, f"Validation error in JSON body: [{field}: {detail}]")


def model_limit(detail: str) -> BadBody:
    """400 for input Qdrant accepts but the model does not implement."""
    return BadBody(400, f"Bad request: {detail} (a limit of the lagrace simulated model)")


def check_collection_name(name: str) -> None:
    """Path names are 1..255 characters (422 otherwise)."""
    if not 1 <= len(name) <= MAX_NAME_LEN:
        raise BadBody(
            422,
            "Validation error in path parameters: [name: length must be between 1 and "
            f"{MAX_NAME_LEN}, got {len(name)}]",
        )


def _uint(body: dict[str, Any], field: str, default: int, minimum: int = 1) -> int:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise format_error(f"invalid value: {value!r}, expected u32 for `{field}`")
    if value < minimum:
        raise validation_error(field, f"value {value} invalid, must be {minimum} or larger")
    return value


def parse_create_collection(body: object, peer_count: int) -> CollectionParams:
    """``CreateCollection`` body → the params the model keeps (defaults per §2.4)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct CreateCollection")
    vectors = body.get("vectors")
    if not isinstance(vectors, dict) or "size" not in vectors:
        raise model_limit("the model needs a single unnamed vector config `vectors.size`")
    size = vectors["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise format_error(f"invalid value: {size!r}, expected u64 for `vectors.size`")
    if size < 1:
        raise validation_error("vectors.size", f"value {size} invalid, must be 1 or larger")
    distance = vectors.get("distance")
    if distance not in DISTANCES:
        raise format_error(
            f"unknown variant `{distance}`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`"
        )
    on_disk_payload = body.get("on_disk_payload", True)
    if not isinstance(on_disk_payload, bool):
        raise format_error("invalid type for `on_disk_payload`, expected a boolean")
    return CollectionParams(
        vector_size=size,
        distance=str(distance),
        shard_number=_uint(body, "shard_number", max(1, peer_count)),
        replication_factor=_uint(body, "replication_factor", 1),
        write_consistency_factor=_uint(body, "write_consistency_factor", 1),
        on_disk_payload=on_disk_payload,
    )


@dataclass(frozen=True, slots=True)
class SlowDownRequest:
    """A parsed ``test_slow_down`` operation."""

    peer_id: int | None
    duration_s: float

    @property
    def duration_ms(self) -> int:
        """``(duration * 1000) as u64``: truncation."""
        return int(self.duration_s * 1000)


def parse_cluster_operation(body: object, *, staging: bool) -> SlowDownRequest:
    """``ClusterOperations`` (untagged): the model implements ``test_slow_down`` only."""
    if not isinstance(body, dict) or len(body) != 1:
        raise format_error(UNTAGGED)
    (key,) = body
    payload = body[key]
    if key in PUBLIC_CLUSTER_OPERATIONS:
        raise model_limit(f"the cluster operation `{key}` is not implemented")
    if key != "test_slow_down" or not staging or not isinstance(payload, dict):
        raise format_error(UNTAGGED)
    peer_id = payload.get("peer_id")
    if peer_id is not None and (
        isinstance(peer_id, bool) or not isinstance(peer_id, int) or peer_id < 0
    ):
        raise format_error(UNTAGGED)
    duration = payload.get("duration", 1.0)
    if duration is None:
        duration = 1.0
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise format_error(UNTAGGED)
    duration = float(duration)
    if not math.isfinite(duration) or not 0.0 <= duration <= MAX_SLOW_DOWN_S:
        raise validation_error(
            "test_slow_down.duration",
            f"value {duration:g} invalid, must be in 0.0..={MAX_SLOW_DOWN_S:g}",
        )
    return SlowDownRequest(peer_id, duration)


PointId = int | str


@dataclass(frozen=True, slots=True)
class PointsBatch:
    """Point ids of an upsert and the length of each vector (``None`` for a named vector)."""

    ids: list[PointId]
    vector_lengths: list[int | None]


def _point_id(value: object) -> PointId:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise format_error(f"invalid value: {value!r}, expected an unsigned integer or a UUID")


def _vector_length(value: object) -> int | None:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return None
    raise format_error("invalid type for `vector`, expected a sequence or a map")


def parse_points(body: object) -> PointsBatch:
    """``{"points": [...]}`` or ``{"batch": {"ids": [...], "vectors": [...]}}``."""
    if not isinstance(body, dict):
        raise format_error("data did not match any variant of untagged enum PointInsertOperations")
    if isinstance(body.get("points"), list):
        ids: list[PointId] = []
        lengths: list[int | None] = []
        for point in body["points"]:
            if not isinstance(point, dict) or "id" not in point or "vector" not in point:
                raise format_error("missing field `id` or `vector` in a point")
            ids.append(_point_id(point["id"]))
            lengths.append(_vector_length(point["vector"]))
        return PointsBatch(ids, lengths)
    batch = body.get("batch")
    if isinstance(batch, dict) and isinstance(batch.get("ids"), list):
        ids = [_point_id(v) for v in batch["ids"]]
        vectors = batch.get("vectors")
        if not isinstance(vectors, list) or len(vectors) != len(ids):
            raise BadBody(400, "Wrong input: number of ids and vectors must be equal")
        return PointsBatch(ids, [_vector_length(v) for v in vectors])
    raise format_error("data did not match any variant of untagged enum PointInsertOperations")
