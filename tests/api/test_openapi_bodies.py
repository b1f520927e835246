"""The fake Qdrant's bodies fit Qdrant's OpenAPI v1.18 response schemas (client tests are real)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.api.qdrant_app import NodeState, make_app, three_nodes
from tests.support.openapi import OpenApiSpec, require_spec

C = "/collections/{collection_name}"
BODY = {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 2}
POINTS = {"points": [{"id": 1, "vector": [0.1, 0.2, 0.3, 0.4], "payload": {"k": "v"}}]}

# (method, concrete path, JSON body, spec path template, expected status, set-up)
CASES: list[tuple[str, str, Any, str, int, str]] = [
    ("GET", "/", None, "/", 200, ""),
    ("GET", "/cluster", None, "/cluster", 200, ""),
    ("GET", "/cluster", None, "/cluster", 200, "disabled"),
    ("GET", "/cluster", None, "/cluster", 200, "stopped"),
    ("GET", "/cluster", None, "/cluster", 200, "failures"),
    ("GET", "/cluster/telemetry", None, "/cluster/telemetry", 200, ""),
    ("GET", "/telemetry?details_level=1", None, "/telemetry", 200, ""),
    ("GET", "/collections", None, "/collections", 200, "c1"),
    ("GET", "/collections/c1", None, C, 200, "c1"),
    ("GET", "/collections/nope", None, C, 404, ""),
    ("GET", "/collections/c1/exists", None, f"{C}/exists", 200, ""),
    ("PUT", "/collections/c1?timeout=5", BODY, C, 200, ""),
    ("PUT", "/collections/c1", BODY, C, 409, "c1"),
    ("PUT", "/collections/c1", BODY, C, 500, "fault500"),
    ("DELETE", "/collections/c1", None, C, 200, "c1"),
    ("GET", "/collections/c1/cluster", None, f"{C}/cluster", 200, "c1"),
    (
        "POST",
        "/collections/c1/cluster",
        {"drop_replica": {"shard_id": 0, "peer_id": 1}},
        f"{C}/cluster",
        200,
        "c1",
    ),
    (
        "POST",
        "/collections/c1/cluster",
        {"test_slow_down": {"peer_id": 1, "duration": 1.0}},
        f"{C}/cluster",
        400,
        "c1",
    ),
    ("PUT", "/collections/c1/points?wait=true", POINTS, f"{C}/points", 200, "c1"),
    (
        "PUT",
        "/collections/c1/points",
        {"batch": {"ids": [1], "vectors": [[0.0] * 4]}},
        f"{C}/points",
        200,
        "c1",
    ),
    ("POST", "/collections/c1/points/count", {"exact": True}, f"{C}/points/count", 200, "c1"),
]


@pytest.fixture(scope="module")
def spec() -> OpenApiSpec:
    """Qdrant's OpenAPI v1.18 spec (skips if the shared spec file is absent)."""
    return require_spec()


@pytest.fixture
def state() -> NodeState:
    """Node 1 of the fake cluster."""
    return three_nodes()[0]


@pytest.fixture
async def http(state: NodeState) -> AsyncIterator[TestClient[Any, Any]]:
    """A raw HTTP client of the fake node."""
    async with TestClient(TestServer(make_app(state))) as client:
        yield client


def _set_up(state: NodeState, setup: str) -> None:
    if setup == "c1":
        state.collections["c1"] = dict(BODY)
    elif setup == "disabled":
        state.cluster_enabled = False
    elif setup == "stopped":
        state.thread_status = "stopped_with_err"
        state.leader = None
    elif setup == "failures":
        state.send_failures = {"http://127.0.0.1:20100/": 3}
    elif setup == "fault500":
        state.faults["/collections/c1"] = "500"
    elif setup:
        raise AssertionError(setup)


@pytest.mark.parametrize(
    ("method", "path", "body", "template", "status", "setup"),
    CASES,
    ids=[f"{c[0]} {c[1]} {c[4]} {c[5]}".strip() for c in CASES],
)
async def test_fake_bodies_fit_the_spec(  # noqa: PLR0917  # pytest passes parameters positionally
    spec: OpenApiSpec,
    http: TestClient[Any, Any],
    state: NodeState,
    method: str,
    path: str,
    body: Any,
    template: str,
    status: int,
    setup: str,
) -> None:
    """Each fake answer has the status we expect and validates against the spec's schema."""
    _set_up(state, setup)
    resp = await http.request(method, path, json=body)
    assert resp.status == status
    spec.validate(template, method, status, await resp.json())


def test_the_validator_rejects_wrong_shapes(spec: OpenApiSpec) -> None:
    """The shapes the client tests call wrong are rejected by the spec too."""
    with pytest.raises(jsonschema.ValidationError):
        spec.validate("/cluster", "GET", 200, {"result": {"unexpected": 1}, "status": "ok"})
    with pytest.raises(jsonschema.ValidationError):
        spec.validate("/", "GET", 200, {"name": "nginx", "hello": "world"})
