"""The OpenAPI documents served bodies are checked against, as JSON Schema.

Two documents describe what the gateway serves: OpenAI's published document cut to the
operations we serve (`../shared/openapi/openai-responses-subset.json`, beside the clone)
and the gateway's own Prompts API (`docs/prompts-openapi.yaml`). Both are OpenAPI 3.1,
whose schemas are JSON Schema 2020-12 except for a few OpenAPI leftovers converted here
(`nullable`, `$recursiveRef`). Every schema is addressed by a JSON pointer into its
document, so `$ref`s resolve inside the document they were written in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = [
    "OPENAI_URI",
    "PROMPTS_URI",
    "Operation",
    "error_envelope",
    "find_operation",
    "stream_event_schemas",
    "validator",
]

REPO = Path(__file__).resolve().parents[2]
OPENAI_DOCUMENT = REPO.parent / "shared" / "openapi" / "openai-responses-subset.json"
PROMPTS_DOCUMENT = REPO / "docs" / "prompts-openapi.yaml"
OPENAI_URI = "urn:openresponses-gw:openai-responses-subset"
PROMPTS_URI = "urn:openresponses-gw:prompts"
# OpenAI's document leaves out the `/v1` its servers put in front of every path.
OPENAI_PREFIX = "/v1"
METHODS = ("get", "post", "put", "patch", "delete")


def _pointer(*parts: str) -> str:
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "/" + "/".join(escaped)


def _as_json_schema(node: Any, component: str | None) -> Any:
    """`node` with OpenAPI's own keywords turned into JSON Schema 2020-12."""
    if isinstance(node, list):
        return [_as_json_schema(item, component) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value, component) for key, value in node.items()}
    if out.pop("nullable", False) and "type" in out:
        # OpenAPI 3.0's `nullable: true` is `null` among the types (and enum values).
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if out.get("$recursiveRef") == "#" and component is not None:
        # 2019-09's recursion to the enclosing schema (CompoundFilter nests itself);
        # 2020-12 ignores the keyword, which would accept anything there.
        del out["$recursiveRef"]
        out["$ref"] = "#" + _pointer("components", "schemas", component)
    return out


def _converted(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    converted: dict[str, Any] = _as_json_schema(document, None)
    converted.setdefault("components", {})["schemas"] = {
        name: _as_json_schema(schema, name) for name, schema in schemas.items()
    }
    return converted


@cache
def documents() -> dict[str, dict[str, Any]]:
    """Both documents by URI, converted to JSON Schema."""
    if not OPENAI_DOCUMENT.exists():
        raise FileNotFoundError(f"{OPENAI_DOCUMENT}: the checkout needs shared/ beside it")
    openai_doc = json.loads(OPENAI_DOCUMENT.read_text())
    prompts_doc = yaml.safe_load(PROMPTS_DOCUMENT.read_text())
    return {OPENAI_URI: _converted(openai_doc), PROMPTS_URI: _converted(prompts_doc)}


@cache
def _registry() -> Registry[Any]:
    resources = [(uri, DRAFT202012.create_resource(doc)) for uri, doc in documents().items()]
    return Registry().with_resources(resources)


@cache
def validator(uri: str, pointer: str) -> Draft202012Validator:
    """A validator of the schema at `pointer` in the document `uri`."""
    return Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=_registry())


def error_envelope() -> Draft202012Validator:
    """Errors are `{"error": Error}`: the document's 4xx schemas sometimes show only the
    inner object, the live API always wraps it (api-semantics.md)."""
    return Draft202012Validator(
        {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"$ref": f"{OPENAI_URI}#/components/schemas/Error"}},
        },
        registry=_registry(),
    )


@dataclass(frozen=True)
class Operation:
    """One operation of a document: where its description lives, to find its schemas."""

    uri: str
    method: str
    template: str  # as the gateway serves it, `/v1/...`
    document_path: str  # as the document spells it
    operation_id: str

    def media_schema(self, status: int, media_type: str) -> str | None:
        """The pointer to the schema of a `status` answer of `media_type`, if described."""
        document = documents()[self.uri]
        answers = document["paths"][self.document_path][self.method]["responses"]
        key = str(status)
        if key not in answers:
            return None
        answer = answers[key]
        pointer = _pointer("paths", self.document_path, self.method, "responses", key)
        while "$ref" in answer:  # an answer shared under components/responses
            pointer = answer["$ref"].removeprefix("#")
            answer = _resolve(document, pointer)
        if media_type not in answer.get("content", {}):
            return None
        return pointer + _pointer("content", media_type, "schema")


def _resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@cache
def _operations() -> list[tuple[re.Pattern[str], Operation]]:
    found: list[tuple[int, re.Pattern[str], Operation]] = []
    for uri, document in documents().items():
        prefix = OPENAI_PREFIX if uri == OPENAI_URI else ""
        for path, item in document["paths"].items():
            template = prefix + path
            pattern = re.compile(
                "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            )
            for method in METHODS:
                if method in item:
                    operation = Operation(
                        uri, method, template, path, item[method].get("operationId", "")
                    )
                    found.append((template.count("{"), pattern, operation))
    # Literal segments win over parameters (`/responses/compact` is not a response id).
    found.sort(key=lambda entry: entry[0])
    return [(pattern, operation) for _, pattern, operation in found]


def find_operation(method: str, raw_path: str) -> Operation | None:
    """The documented operation serving `method raw_path` (path still percent-encoded,
    so an escaped `/` stays inside its segment)."""
    for pattern, operation in _operations():
        if operation.method == method.lower() and pattern.match(raw_path):
            return operation
    return None


@cache
def stream_event_schemas() -> dict[str, str]:
    """Event `type` -> pointer to its schema: the members of the ResponseStreamEvent union."""
    schemas = documents()[OPENAI_URI]["components"]["schemas"]
    chosen: dict[str, str] = {}
    for member in schemas["ResponseStreamEvent"]["anyOf"]:
        pointer = member["$ref"].removeprefix("#")
        name = pointer.rsplit("/", 1)[-1]
        for event_type in schemas[name]["properties"]["type"]["enum"]:
            chosen[event_type] = pointer
    return chosen
