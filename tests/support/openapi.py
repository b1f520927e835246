"""Validate response bodies against Qdrant's OpenAPI v1.18 spec (a contract test helper).

The spec lives outside the repository, at ``../shared/qdrant/openapi-v1.18.json`` relative to
the repository root (CI clones the repo with ``shared/`` beside it). It is OpenAPI 3.0: schemas
use ``nullable: true`` instead of a ``null`` type, and the null alternative of an ``anyOf`` is
written ``{"nullable": true}``. :func:`to_json_schema` rewrites both into plain JSON Schema
(draft 4 semantics, which OpenAPI 3.0 follows for ``exclusiveMinimum``), and ``$ref``s resolve
through a ``referencing`` registry that holds the whole rewritten spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_NAME = "openapi-v1.18.json"
REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT.parent / "shared" / "qdrant" / SPEC_NAME
SPEC_URI = "urn:qdrant:openapi-v1.18"


def to_json_schema(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 ``nullable`` into JSON Schema, recursively."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if not node.get("nullable"):
        return converted
    if not converted or set(converted) <= {"default", "description"}:
        return {"type": "null"}
    if "enum" in converted and None not in converted["enum"]:
        converted["enum"] = [*converted["enum"], None]
    if isinstance(converted.get("type"), str) and "$ref" not in converted:
        converted["type"] = [converted["type"], "null"]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@dataclass(frozen=True)
class OpenApiSpec:
    """The rewritten spec and a registry resolving its ``#/components/...`` references."""

    document: dict[str, Any]
    registry: Registry[Any]

    def response_pointer(self, path: str, method: str, status: int) -> str:
        """JSON pointer to a response schema: exact status, else ``4XX``, else ``default``."""
        responses = self.document["paths"][path][method.lower()]["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if "application/json" in responses.get(key, {}).get("content", {}):
                parts = ["paths", path, method.lower(), "responses", key, "content"]
                parts += ["application/json", "schema"]
                return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
        raise KeyError(f"no JSON response schema for {method.upper()} {path} {status}")

    def validate(self, path: str, method: str, status: int, body: Any) -> None:
        """Raise ``jsonschema.ValidationError`` unless ``body`` fits the response schema."""
        pointer = quote(self.response_pointer(path, method, status), safe="/~")
        validator = Draft4Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)
        validator.validate(body)


def load_spec(path: Path = SPEC_PATH) -> OpenApiSpec:
    """Read and rewrite the spec; its ``#/...`` references resolve within :data:`SPEC_URI`."""
    document = to_json_schema(json.loads(path.read_text(encoding="utf-8")))
    resource = Resource.from_contents(document, default_specification=DRAFT4)
    return OpenApiSpec(document, Registry().with_resource(SPEC_URI, resource))


def require_spec() -> OpenApiSpec:
    """The spec, or skip the calling test with the reason if the file is absent."""
    if not SPEC_PATH.is_file():
        pytest.skip(
            f"Qdrant's OpenAPI spec not found at {SPEC_PATH} (expected ../shared/ beside the repo)"
        )
    return load_spec()
