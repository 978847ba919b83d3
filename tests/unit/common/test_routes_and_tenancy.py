"""Routing (ids are opaque, percent-decoded path segments) and tenant resolution.

The list endpoints' parameters and paging are in test_list_params_and_paging.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import cast
from urllib.parse import quote

import pytest

from core.common.tenancy import DEFAULT_TENANT, tenant_for
from core.gateway import Gateway
from core.ports import Stores

_RID = "resp_0123456789abcdef"
_CID = "conv_0123456789abcdef"
_IID = "msg_0123456789abcdef"


@dataclass(frozen=True)
class R:
    """A route as matched: the operation's name and the ids in the path."""

    name: str
    ids: tuple[str, ...] = ()


# The gateway's routes are built without using its stores.
_NO_STORES = cast(Stores, SimpleNamespace(**{name: None for name in Stores.__dataclass_fields__}))
_TABLE = Gateway(_NO_STORES).routes


def match_route(method: str, path: str) -> R | None:
    found = _TABLE.match(method, path)
    return None if found is None else R(found.route.name, found.ids)


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("POST", "/v1/responses", R("create_response")),
        ("POST", "/v1/responses/", R("create_response")),
        ("GET", f"/v1/responses/{_RID}", R("get_response", (_RID,))),
        ("GET", f"/v1/responses/{_RID}/", R("get_response", (_RID,))),
        ("DELETE", f"/v1/responses/{_RID}", R("delete_response", (_RID,))),
        ("GET", f"/v1/responses/{_RID}/input_items", R("list_input_items", (_RID,))),
        ("GET", f"/v1/responses/{_RID}/input_items/", R("list_input_items", (_RID,))),
        ("GET", "/v1/responses/A-z_9", R("get_response", ("A-z_9",))),
        # Operations the gateway does not implement on its own paths: never the backend's.
        ("GET", "/v1/responses", R("invalid_url")),
        ("DELETE", "/v1/responses", R("invalid_url")),
        ("PUT", f"/v1/responses/{_RID}", R("invalid_url")),
        ("POST", f"/v1/responses/{_RID}", R("invalid_url")),
        ("POST", f"/v1/responses/{_RID}/cancel", R("invalid_url")),
        ("DELETE", f"/v1/responses/{_RID}/input_items", R("invalid_url")),
        ("GET", f"/v1/responses/{_RID}/input_items/extra", R("invalid_url")),
        ("GET", "/v1/responses/bad.id", R("get_response", ("bad.id",))),
        ("GET", "/v1/responses/" + "x" * 257, R("get_response", ("x" * 257,))),
        ("DELETE", "/v1/responses/" + "x" * 257, R("delete_response", ("x" * 257,))),
        ("GET", "/v1/responses/" + "x" * 1025, R("invalid_url")),
        ("DELETE", "/v1/responses/" + "x" * 1025, R("invalid_url")),
        ("GET", "/v1/responses//input_items", R("invalid_url")),
        ("POST", "/v1/conversations", R("create_conversation")),
        ("POST", "/v1/conversations/", R("create_conversation")),
        ("GET", f"/v1/conversations/{_CID}", R("get_conversation", (_CID,))),
        ("POST", f"/v1/conversations/{_CID}", R("update_conversation", (_CID,))),
        ("DELETE", f"/v1/conversations/{_CID}/", R("delete_conversation", (_CID,))),
        ("GET", f"/v1/conversations/{_CID}/items", R("list_conversation_items", (_CID,))),
        ("POST", f"/v1/conversations/{_CID}/items/", R("create_conversation_items", (_CID,))),
        (
            "GET",
            f"/v1/conversations/{_CID}/items/{_IID}",
            R("get_conversation_item", (_CID, _IID)),
        ),
        (
            "DELETE",
            f"/v1/conversations/{_CID}/items/{_IID}/",
            R("delete_conversation_item", (_CID, _IID)),
        ),
        # The gateway owns every conversation path: unknown ones are never the backend's.
        ("GET", "/v1/conversations", R("invalid_url")),
        ("DELETE", "/v1/conversations", R("invalid_url")),
        ("PUT", f"/v1/conversations/{_CID}", R("invalid_url")),
        ("PATCH", f"/v1/conversations/{_CID}/items", R("invalid_url")),
        ("POST", f"/v1/conversations/{_CID}/items/{_IID}", R("invalid_url")),
        ("GET", f"/v1/conversations/{_CID}/items/{_IID}/extra", R("invalid_url")),
        ("GET", f"/v1/conversations/{_CID}/other", R("invalid_url")),
        ("GET", "/v1/conversations/bad.id", R("get_conversation", ("bad.id",))),
        ("GET", "/v1/conversations/" + "x" * 1025, R("invalid_url")),
        ("GET", f"/v1/conversations/{_CID}/items/" + "x" * 1025, R("invalid_url")),
        ("POST", "/v1/conversations/" + "x" * 1025 + "/items", R("invalid_url")),
        ("GET", "/v1/conversations//items", R("invalid_url")),
        # Paths that only share a prefix with the gateway's are not its business.
        ("POST", "/v1/responses_foo", None),
        ("GET", "/v1/responses_foo/resp_1", None),
        ("POST", "/v1/responsesfoo", None),
        ("POST", "/v1/conversations_foo", None),
        ("GET", "/v1/conversations_foo/conv_1/items", None),
        ("GET", "/v1/conversationsx/conv_1", None),
        ("POST", "/v1/prompts_foo", None),
        ("GET", "/v1/promptsx/pmpt_1", None),
        ("POST", "/v1/connectors_foo", None),
        ("GET", "/v1/connectorsx/conn_1", None),
        # Connectors: answered by the gateway, every other path under them is invalid.
        ("POST", "/v1/connectors", R("create_connector")),
        ("GET", "/v1/connectors/", R("list_connectors")),
        ("GET", "/v1/connectors/conn_1", R("get_connector", ("conn_1",))),
        ("POST", "/v1/connectors/conn_1/", R("update_connector", ("conn_1",))),
        ("DELETE", "/v1/connectors/conn_1", R("delete_connector", ("conn_1",))),
        ("DELETE", "/v1/connectors", R("invalid_url")),
        ("PUT", "/v1/connectors/conn_1", R("invalid_url")),
        ("GET", "/v1/connectors/conn_1/tools", R("invalid_url")),
        # Token counts: answered by the gateway (it holds the state they count).
        ("POST", "/v1/responses/input_tokens", R("getinputtokencounts")),
        ("POST", "/v1/responses/input_tokens/", R("getinputtokencounts")),
        # Stateless operations: passed through to the backend.
        # Compaction seals what it summarises: answered by the gateway.
        ("POST", "/v1/responses/compact", R("compactconversation")),
        ("POST", "/v1/responses/compact/", R("compactconversation")),
        # Not the gateway's business at all.
        ("POST", "/v1/chat/completions", None),
        ("GET", "/v1/models", None),
        ("GET", "/", None),
        ("GET", "/healthz", None),
        ("POST", "/v2/responses", None),
    ],
)
def test_match_route(method: str, path: str, route: R | None) -> None:
    assert match_route(method, path) == route


@pytest.mark.parametrize("length", [1, 128, 255, 256])
def test_ids_up_to_256_characters_match(length: int) -> None:
    rid, cid, iid = "r" * length, "c" * length, "i" * length
    assert match_route("GET", f"/v1/responses/{rid}") == R("get_response", (rid,))
    assert match_route("GET", f"/v1/responses/{rid}/input_items/") == R("list_input_items", (rid,))
    path = f"/v1/conversations/{cid}/items/{iid}"
    assert match_route("GET", path) == R("get_conversation_item", (cid, iid))
    assert match_route("DELETE", path) == R("delete_conversation_item", (cid, iid))
    assert match_route("GET", f"/v1/prompts/{iid}") == R("get_prompt", (iid,))


@pytest.mark.parametrize("length", [257, 512, 1024])
def test_segments_longer_than_an_id_still_route(length: int) -> None:
    """A segment is matched still percent-encoded, which can make a 256-character id far
    longer; the store, not the router, tells a too-long id from a missing one."""
    rid, cid, iid = "r" * length, "c" * length, "i" * length
    assert match_route("GET", f"/v1/responses/{rid}") == R("get_response", (rid,))
    assert match_route("DELETE", f"/v1/responses/{rid}/") == R("delete_response", (rid,))
    path = f"/v1/conversations/{cid}/items/{iid}"
    assert match_route("GET", path) == R("get_conversation_item", (cid, iid))
    assert match_route("DELETE", path) == R("delete_conversation_item", (cid, iid))
    assert match_route("POST", f"/v1/prompts/{cid}/versions") == R("create_prompt_version", (cid,))


def test_segment_length_is_counted_before_percent_decoding() -> None:
    # 1024 characters on the wire, 342 once decoded: matched, then decoded.
    segment = "%41" * 341 + "b"
    assert len(segment) == 1024
    decoded = "A" * 341 + "b"
    path = f"/v1/conversations/{_CID}/items/{segment}"
    assert match_route("GET", path) == R("get_conversation_item", (_CID, decoded))
    assert match_route("GET", f"/v1/responses/{segment}") == R("get_response", (decoded,))
    # One more encoded byte is too long, however short the decoded id would be.
    assert match_route("GET", path + "%41") == R("invalid_url")
    assert match_route("GET", f"/v1/responses/{segment}%41") == R("invalid_url")
    # Multi-byte characters take 9 encoded characters each: 113 of them fit in 1024.
    wide = "✓" * 113
    encoded = quote(wide, safe="")
    assert len(encoded) == 1017
    assert match_route("GET", f"/v1/prompts/{encoded}") == R("get_prompt", (wide,))


def test_segments_longer_than_1024_characters_are_invalid_urls() -> None:
    cid, iid = "c" * 1024, "i" * 1024
    path = f"/v1/conversations/{cid}/items/{iid}"
    assert match_route("GET", path) == R("get_conversation_item", (cid, iid))
    assert match_route("GET", path + "x") == R("invalid_url")
    assert match_route("DELETE", path + "x") == R("invalid_url")
    assert match_route("GET", f"/v1/conversations/{cid}x/items/{iid}") == R("invalid_url")
    assert match_route("GET", f"/v1/conversations/{cid}x") == R("invalid_url")
    assert match_route("GET", f"/v1/responses/{cid}x") == R("invalid_url")
    assert match_route("GET", f"/v1/responses/{cid}x/input_items") == R("invalid_url")
    assert match_route("POST", f"/v1/prompts/{cid}x/versions") == R("invalid_url")
    assert match_route("GET", f"/v1/files/{cid}x") == R("invalid_url")


@pytest.mark.parametrize(
    "item_id",
    ["has.dot", "a~b", "x:y@z", "a+b", "(1)!$&'*,;=", "ünï✓", "..x", "msg_0123456789abcdef"],
)
def test_ids_are_opaque_segments(item_id: str) -> None:
    path = f"/v1/conversations/{_CID}/items/{item_id}"
    assert match_route("GET", path) == R("get_conversation_item", (_CID, item_id))
    assert match_route("DELETE", path + "/") == R("delete_conversation_item", (_CID, item_id))
    assert match_route("GET", f"/v1/responses/{item_id}") == R("get_response", (item_id,))
    assert match_route("POST", f"/v1/prompts/{item_id}") == R("update_prompt", (item_id,))


@pytest.mark.parametrize(
    ("segment", "decoded"),
    [
        ("has%2Edot", "has.dot"),
        ("has%2edot", "has.dot"),
        ("a%20b", "a b"),
        ("a%2Fb", "a/b"),
        ("%C3%BCn%C3%AF%E2%9C%93", "ünï✓"),
        ("100%25", "100%"),
        ("a+b", "a+b"),  # a plus is not a space in a path
        ("50%", "50%"),  # not an escape: kept as it is
        ("%ZZ", "%ZZ"),
    ],
)
def test_ids_are_percent_decoded(segment: str, decoded: str) -> None:
    path = f"/v1/conversations/{segment}/items/{segment}"
    assert match_route("GET", path) == R("get_conversation_item", (decoded, decoded))
    assert match_route("POST", f"/v1/conversations/{segment}/items") == R(
        "create_conversation_items", (decoded,)
    )
    assert match_route("GET", f"/v1/responses/{segment}/input_items") == R(
        "list_input_items", (decoded,)
    )
    assert match_route("GET", f"/v1/prompts/{segment}/versions") == R(
        "list_prompt_versions", (decoded,)
    )


def test_a_decoded_slash_does_not_split_the_path() -> None:
    # Only literal slashes separate segments: an escaped one belongs to its id.
    assert match_route("GET", "/v1/conversations/conv_1%2Fitems") == R(
        "get_conversation", ("conv_1/items",)
    )
    assert match_route("GET", "/v1/responses/resp_1%2Finput_items") == R(
        "get_response", ("resp_1/input_items",)
    )


# Tenancy


def _key_tenant(key: str) -> str:
    return "k:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def test_trusted_header_wins_over_the_bearer_key() -> None:
    headers = {"x-tenant": "acme", "authorization": "Bearer sk-secret"}
    assert tenant_for(headers, "x-tenant") == "h:acme"


def test_trusted_header_value_is_stripped() -> None:
    assert tenant_for({"x-tenant": "  acme  "}, "x-tenant") == "h:acme"


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_trusted_header_is_ignored(value: str) -> None:
    headers = {"x-tenant": value, "authorization": "Bearer sk-secret"}
    assert tenant_for(headers, "x-tenant") == _key_tenant("sk-secret")
    assert tenant_for({"x-tenant": value}, "x-tenant") == DEFAULT_TENANT


def test_header_is_not_trusted_unless_configured() -> None:
    headers = {"x-tenant": "acme", "authorization": "Bearer sk-secret"}
    assert tenant_for(headers, None) == _key_tenant("sk-secret")
    assert tenant_for(headers, "") == _key_tenant("sk-secret")
    assert tenant_for({"x-tenant": "acme"}, None) == DEFAULT_TENANT


def test_trusted_header_name_is_case_insensitive() -> None:
    # Request headers arrive with lower-case names (core.common.http.Request); an operator who
    # configures the header as `X-Tenant` must still get header-based tenancy.
    headers = {"x-tenant": "acme", "authorization": "Bearer sk-shared"}
    assert tenant_for(headers, "X-Tenant") == "h:acme"


def test_bearer_key_is_hashed() -> None:
    key = "sk-proj-very-secret-key-1234567890"
    tenant = tenant_for({"authorization": f"Bearer {key}"}, "x-tenant")
    assert tenant == _key_tenant(key)
    assert tenant.startswith("k:")
    assert key not in tenant
    assert "very-secret" not in tenant
    assert len(tenant) == 2 + 32


def test_bearer_scheme_is_case_insensitive_and_key_stripped() -> None:
    expected = _key_tenant("sk-a")
    for value in ("Bearer sk-a", "bearer sk-a", "BEARER sk-a", "Bearer  sk-a  "):
        assert tenant_for({"authorization": value}, None) == expected, value


def test_different_keys_are_different_tenants() -> None:
    a = tenant_for({"authorization": "Bearer sk-a"}, None)
    b = tenant_for({"authorization": "Bearer sk-b"}, None)
    assert a != b
    assert a != DEFAULT_TENANT


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": ""},
        {"authorization": "Bearer "},
        {"authorization": "Bearer    "},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"authorization": "sk-without-scheme"},
    ],
)
def test_default_tenant(headers: dict[str, str]) -> None:
    assert tenant_for(headers, "x-tenant") == DEFAULT_TENANT
    assert tenant_for(headers, None) == DEFAULT_TENANT


# Route names


def _operation_ids() -> dict[tuple[str, str], str]:
    """(method, path with `{}` for ids) -> the OpenAI operation id, in snake_case."""
    document = Path(__file__).resolve().parents[3].parent / "shared" / "openapi"
    spec = json.loads((document / "openai-responses-subset.json").read_text())
    found = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "operationId" in operation:
                shape = re.sub(r"\{[^}]+\}", "{}", "/v1" + path)
                name = re.sub(r"(?<!^)(?=[A-Z])", "_", operation["operationId"]).lower()
                found[(method.upper(), shape)] = name
    return found


def test_route_names_are_the_openai_operation_ids() -> None:
    ids = _operation_ids()
    names = {}
    for route in _TABLE.routes():
        shape = re.sub(r"\{[^}]+\}", "{}", route.pattern)
        names[(route.method, shape)] = route.name
    shared = set(ids) & set(names)
    assert len(shared) >= 30  # every operation the gateway serves from the document
    assert {key: names[key] for key in shared} == {key: ids[key] for key in shared}


def test_route_names_are_unique_snake_case() -> None:
    names = [route.name for route in _TABLE.routes()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in names)
