"""The REST surface: every model response against Qdrant's OpenAPI spec, plus error shapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lagrace.sim.cluster import SimCluster
from lagrace.sim.config import SimConfig
from tests.support.openapi import OpenApiSpec, require_spec

pytestmark = pytest.mark.sim

VECTOR = {"size": 4, "distance": "Dot"}
COLL = "/collections/{collection_name}"


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[SimCluster]:
    """A 3-node buggy-mode cluster with logs in the test's temp dir."""
    async with SimCluster.start(SimConfig(seed=11, log_dir=tmp_path)) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client with a bounded timeout."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as client:
        yield client


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None, *, raw: str = ""
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": raw, "headers": {"content-type": "application/json"}}
    if not raw:
        kwargs = {"json": body} if body is not None else {}
    async with session.request(method, url, **kwargs) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def _checked(
    spec: OpenApiSpec,
    session: aiohttp.ClientSession,
    method: str,
    base: str,
    template: str,
    *,
    body: Any = None,
    status: int = 200,
    query: str = "",
) -> Any:
    path = template.replace("{collection_name}", "c")
    got, payload = await _call(session, method, f"{base}{path}{query}", body)
    assert got == status, payload
    spec.validate(template, method, got, payload)
    return payload


async def test_every_response_fits_the_openapi_schema(
    cluster: SimCluster, session: aiohttp.ClientSession
) -> None:
    """Responses of every endpoint in the spec validate against its response schema."""
    spec = require_spec()
    url = cluster.nodes[0].url
    body = {"vectors": VECTOR, "shard_number": 3, "replication_factor": 3}
    created = await _checked(spec, session, "PUT", url, COLL, body=body)
    assert created["result"] is True
    await _checked(spec, session, "PUT", url, COLL, body=body, status=409)
    assert (await _checked(spec, session, "GET", url, "/"))["version"] == "1.16.2"  # buggy mode
    for node in cluster.nodes:
        await _checked(spec, session, "GET", node.url, "/cluster")
        await _checked(spec, session, "GET", node.url, f"{COLL}/cluster")
    listing = await _checked(spec, session, "GET", url, "/collections")
    assert listing["result"] == {"collections": [{"name": "c"}]}
    await _checked(spec, session, "GET", url, COLL)
    await _checked(spec, session, "GET", url, f"{COLL}/exists")
    points = {"points": [{"id": i, "vector": [1, 0, 0, 0]} for i in range(9)]}
    for wait in ("true", "false"):
        upsert = await _checked(
            spec, session, "PUT", url, f"{COLL}/points", body=points, query=f"?wait={wait}"
        )
        assert upsert["result"]["status"] == ("completed" if wait == "true" else "acknowledged")
    batch = {"batch": {"ids": [100, 101], "vectors": [[1, 2, 3, 4], [4, 3, 2, 1]]}}
    await _checked(spec, session, "PUT", url, f"{COLL}/points", body=batch)
    count = await _checked(spec, session, "POST", url, f"{COLL}/points/count", body={"exact": True})
    assert count["result"] == {"count": 11}
    slow = {"test_slow_down": {"peer_id": cluster.nodes[1].peer_id, "duration": 0.2}}
    await _checked(spec, session, "POST", url, f"{COLL}/cluster", body=slow)
    await _checked(spec, session, "POST", url, f"{COLL}/cluster", body={"bogus": {}}, status=400)
    for level in range(5):
        await _checked(spec, session, "GET", url, "/telemetry", query=f"?details_level={level}")
    await _checked(spec, session, "GET", url, "/cluster/telemetry")
    await _checked(spec, session, "DELETE", url, COLL)
    await _checked(spec, session, "GET", url, COLL, status=404)
    await _checked(spec, session, "PUT", url, f"{COLL}/points", body=points, status=404)


async def test_error_shapes_and_statuses(
    cluster: SimCluster, session: aiohttp.ClientSession
) -> None:
    """Unknown routes, malformed JSON and cluster-operation errors answer like Qdrant."""
    url = cluster.nodes[0].url
    status, text = await _call(session, "GET", f"{url}/no/such/route")
    assert (status, text) == (404, "")
    status, body = await _call(session, "PUT", f"{url}/collections/c", raw="{not json")
    assert status == 400
    assert body["status"]["error"].startswith("Format error in JSON body: ")
    assert body["time"] == 0.0
    root = (await _call(session, "GET", f"{url}/"))[1]
    assert "lagrace simulated model" in root["title"]
    slow = {"test_slow_down": {"duration": 1}}
    status, body = await _call(session, "POST", f"{url}/collections/c/cluster", slow)
    assert (status, body["status"]["error"]) == (404, "Not found: Collection `c` doesn't exist!")
    assert (await _call(session, "PUT", f"{url}/collections/c", {"vectors": VECTOR}))[0] == 200
    bad = {"test_slow_down": {"duration": 301}}
    status, body = await _call(session, "POST", f"{url}/collections/c/cluster", bad)
    assert status == 422
    assert body["status"]["error"].startswith("Validation error in JSON body: ")
    unknown = {"test_slow_down": {"peer_id": 42}}
    status, body = await _call(session, "POST", f"{url}/collections/c/cluster", unknown)
    assert (status, body["status"]["error"]) == (400, "Bad request: Peer 42 does not exist")
    status, body = await _call(
        session, "PUT", f"{url}/collections/c", {"vectors": VECTOR, "shard_number": 0}
    )
    assert status == 422
    short = {"points": [{"id": 1, "vector": [1, 2]}]}
    status, body = await _call(session, "PUT", f"{url}/collections/c/points", short)
    assert status == 400
    assert body["status"]["error"] == "Wrong input: Vector dimension error: expected dim: 4, got 2"


async def test_without_staging_slow_down_is_not_a_variant(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """``--no-staging``: test_slow_down is a format error and telemetry says staging false."""
    async with SimCluster.start(SimConfig(seed=1, staging=False, log_dir=tmp_path)) as cluster:
        url = cluster.nodes[0].url
        assert (await _call(session, "PUT", f"{url}/collections/c", {"vectors": VECTOR}))[0] == 200
        slow = {"test_slow_down": {"duration": 1}}
        status, body = await _call(session, "POST", f"{url}/collections/c/cluster", slow)
        assert status == 400
        assert body["status"]["error"] == (
            "Format error in JSON body: data did not match any variant of untagged enum "
            "ClusterOperations"
        )
        telemetry = (await _call(session, "GET", f"{url}/telemetry?details_level=1"))[1]
        assert telemetry["result"]["app"]["features"]["staging"] is False


async def test_meta_op_on_a_sleeping_peer_times_out_but_applies_later(
    cluster: SimCluster, session: aiohttp.ClientSession
) -> None:
    """Waiting for local apply on a sleeping peer gives 500; the entry still applies later."""
    first, target = cluster.nodes[0], cluster.nodes[2]
    assert (await _call(session, "PUT", f"{first.url}/collections/c", {"vectors": VECTOR}))[
        0
    ] == 200
    slow = {"test_slow_down": {"peer_id": target.peer_id, "duration": 2.0}}
    assert (await _call(session, "POST", f"{first.url}/collections/c/cluster", slow))[0] == 200
    await asyncio.sleep(0.2)
    status, body = await _call(session, "DELETE", f"{target.url}/collections/c?timeout=1")
    assert status == 500
    assert body["status"]["error"] == (
        "Service internal error: Waiting for consensus operation commit failed. "
        "Timeout set at: 1 seconds"
    )
    await asyncio.sleep(1.5)
    exists = (await _call(session, "GET", f"{target.url}/collections/c/exists"))[1]
    assert exists["result"] == {"exists": False}


async def test_identical_in_flight_slow_downs_merge(
    cluster: SimCluster, session: aiohttp.ClientSession
) -> None:
    """Two identical concurrent test_slow_down requests to one node make one entry."""
    url, target = cluster.nodes[0].url, cluster.nodes[1]
    assert (await _call(session, "PUT", f"{url}/collections/c", {"vectors": VECTOR}))[0] == 200
    slow = {"test_slow_down": {"peer_id": target.peer_id, "duration": 0.2}}
    results = await asyncio.gather(
        *(_call(session, "POST", f"{url}/collections/c/cluster", slow) for _ in range(2))
    )
    assert [status for status, _ in results] == [200, 200]
    await asyncio.sleep(0.5)
    assert target.log_path.read_text().count("TestSlowDown: sleeping for 200ms") == 1


async def test_metrics_health_and_logger(
    cluster: SimCluster, session: aiohttp.ClientSession
) -> None:
    """Prometheus families, latched readiness, constant health, runtime log level."""
    node = cluster.nodes[1]
    assert (await _call(session, "PUT", f"{node.url}/collections/c", {"vectors": VECTOR}))[0] == 200
    status, text = await _call(session, "GET", f"{node.url}/metrics")
    assert status == 200
    assert f'cluster_commit{{peer_id="{node.peer_id}"}}' in text
    assert "collections_total 1" in text
    assert "collection_dead_replicas 0" in text
    assert 'cluster_working_state{state="working"} 1' in text
    assert await _call(session, "GET", f"{node.url}/healthz") == (200, "healthz check passed")
    for _ in range(40):  # readiness needs the idle peers' trailing Active entries applied too
        ready = await _call(session, "GET", f"{node.url}/readyz")
        if ready[0] == 200:
            break
        await asyncio.sleep(0.05)
    assert ready == (200, "all shards are ready")
    status, body = await _call(session, "POST", f"{node.url}/logger", {"log_level": "INFO"})
    assert (status, body["result"]) == (200, True)
    before = node.log_path.read_text().count("Applying committed entry")
    assert (await _call(session, "PUT", f"{node.url}/collections/d", {"vectors": VECTOR}))[0] == 200
    assert node.log_path.read_text().count("Applying committed entry") == before
    assert "Creating collection d" in node.log_path.read_text()


def test_contract_validator_can_fail() -> None:
    """The OpenAPI helper rewrites ``nullable`` and rejects a body of the wrong shape."""
    from jsonschema import ValidationError

    from tests.support.openapi import to_json_schema

    assert to_json_schema({"type": "integer", "nullable": True}) == {"type": ["integer", "null"]}
    assert to_json_schema({"anyOf": [{"$ref": "#/x"}, {"nullable": True}]}) == {
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}]
    }
    spec = require_spec()
    spec.validate("/cluster", "get", 200, {"result": {"status": "disabled"}, "time": 0.1})
    with pytest.raises(ValidationError):
        spec.validate("/cluster", "get", 200, {"result": {"status": "enabled"}, "time": 0.1})
    with pytest.raises(ValidationError):
        spec.validate(COLL + "/exists", "get", 200, {"result": {"exists": "yes"}, "time": 0.1})
