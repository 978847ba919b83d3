"""Routing, tenant resolution, and the list endpoints' paging."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from core.errors import InvalidRequestError
from core.http import Request
from core.responses_api import page, parse_list_params
from core.routes import Route, match_route
from core.tenancy import DEFAULT_TENANT, tenant_for

_RID = "resp_0123456789abcdef"
_CID = "conv_0123456789abcdef"
_IID = "msg_0123456789abcdef"


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("POST", "/v1/responses", Route("create_response")),
        ("POST", "/v1/responses/", Route("create_response")),
        ("GET", f"/v1/responses/{_RID}", Route("get_response", (_RID,))),
        ("GET", f"/v1/responses/{_RID}/", Route("get_response", (_RID,))),
        ("DELETE", f"/v1/responses/{_RID}", Route("delete_response", (_RID,))),
        ("GET", f"/v1/responses/{_RID}/input_items", Route("list_input_items", (_RID,))),
        ("GET", f"/v1/responses/{_RID}/input_items/", Route("list_input_items", (_RID,))),
        ("GET", "/v1/responses/A-z_9", Route("get_response", ("A-z_9",))),
        # Operations the gateway does not implement on its own paths: never the backend's.
        ("GET", "/v1/responses", Route("invalid_url")),
        ("DELETE", "/v1/responses", Route("invalid_url")),
        ("PUT", f"/v1/responses/{_RID}", Route("invalid_url")),
        ("POST", f"/v1/responses/{_RID}", Route("invalid_url")),
        ("POST", f"/v1/responses/{_RID}/cancel", Route("invalid_url")),
        ("DELETE", f"/v1/responses/{_RID}/input_items", Route("invalid_url")),
        ("GET", f"/v1/responses/{_RID}/input_items/extra", Route("invalid_url")),
        ("GET", "/v1/responses/bad.id", Route("invalid_url")),
        ("GET", "/v1/responses/" + "x" * 129, Route("invalid_url")),
        ("GET", "/v1/responses//input_items", Route("invalid_url")),
        ("POST", "/v1/conversations", Route("create_conversation")),
        ("POST", "/v1/conversations/", Route("create_conversation")),
        ("GET", f"/v1/conversations/{_CID}", Route("get_conversation", (_CID,))),
        ("POST", f"/v1/conversations/{_CID}", Route("update_conversation", (_CID,))),
        ("DELETE", f"/v1/conversations/{_CID}/", Route("delete_conversation", (_CID,))),
        ("GET", f"/v1/conversations/{_CID}/items", Route("list_conversation_items", (_CID,))),
        ("POST", f"/v1/conversations/{_CID}/items/", Route("add_conversation_items", (_CID,))),
        (
            "GET",
            f"/v1/conversations/{_CID}/items/{_IID}",
            Route("get_conversation_item", (_CID, _IID)),
        ),
        (
            "DELETE",
            f"/v1/conversations/{_CID}/items/{_IID}/",
            Route("delete_conversation_item", (_CID, _IID)),
        ),
        # The gateway owns every conversation path: unknown ones are never the backend's.
        ("GET", "/v1/conversations", Route("invalid_url")),
        ("DELETE", "/v1/conversations", Route("invalid_url")),
        ("PUT", f"/v1/conversations/{_CID}", Route("invalid_url")),
        ("PATCH", f"/v1/conversations/{_CID}/items", Route("invalid_url")),
        ("POST", f"/v1/conversations/{_CID}/items/{_IID}", Route("invalid_url")),
        ("GET", f"/v1/conversations/{_CID}/items/{_IID}/extra", Route("invalid_url")),
        ("GET", f"/v1/conversations/{_CID}/other", Route("invalid_url")),
        ("GET", "/v1/conversations/bad.id", Route("invalid_url")),
        ("GET", "/v1/conversations/" + "x" * 129, Route("invalid_url")),
        ("GET", "/v1/conversations//items", Route("invalid_url")),
        # Paths that only share a prefix with the gateway's are not its business.
        ("POST", "/v1/responses_foo", None),
        ("GET", "/v1/responses_foo/resp_1", None),
        ("POST", "/v1/responsesfoo", None),
        ("POST", "/v1/conversations_foo", None),
        ("GET", "/v1/conversationsx/conv_1", None),
        # Stateless operations: passed through to the backend.
        ("POST", "/v1/responses/input_tokens", None),
        ("POST", "/v1/responses/input_tokens/", None),
        ("POST", "/v1/responses/compact", None),
        ("POST", "/v1/responses/compact/", None),
        # Not the gateway's business at all.
        ("POST", "/v1/chat/completions", None),
        ("GET", "/v1/models", None),
        ("GET", "/", None),
        ("GET", "/healthz", None),
        ("POST", "/v2/responses", None),
    ],
)
def test_match_route(method: str, path: str, route: Route | None) -> None:
    assert match_route(method, path) == route


def test_response_id_up_to_128_characters_is_accepted() -> None:
    rid = "r" * 128
    assert match_route("GET", f"/v1/responses/{rid}") == Route("get_response", (rid,))


def test_conversation_and_item_ids_up_to_128_characters_are_accepted() -> None:
    cid, iid = "c" * 128, "i" * 128
    path = f"/v1/conversations/{cid}/items/{iid}"
    assert match_route("GET", path) == Route("get_conversation_item", (cid, iid))
    assert match_route("GET", path + "x") == Route("invalid_url")


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
    # Request headers arrive with lower-case names (core.http.Request); an operator who
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


# List parameters


def _request(query: str) -> Request:
    return Request.from_target("GET", f"/v1/responses/{_RID}/input_items?{query}", {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", (20, "desc", None)),
        ("limit=1", (1, "desc", None)),
        ("limit=100", (100, "desc", None)),
        ("limit=7&order=asc", (7, "asc", None)),
        ("order=desc&after=msg_1", (20, "desc", "msg_1")),
        ("limit=5&limit=9", (9, "desc", None)),
        ("order=", (20, "desc", None)),
        ("after=", (20, "desc", "")),
    ],
)
def test_parse_list_params(query: str, expected: tuple[int, str, str | None]) -> None:
    assert parse_list_params(_request(query)) == expected


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        ("limit=0", "limit", "integer_below_min_value"),
        ("limit=-5", "limit", "integer_below_min_value"),
        ("limit=101", "limit", "integer_above_max_value"),
        ("limit=ten", "limit", "invalid_type"),
        ("limit=", "limit", "invalid_type"),
        ("limit=1.5", "limit", "invalid_type"),
        ("order=sideways", "order", "invalid_value"),
        ("order=ASC", "order", "invalid_value"),
    ],
)
def test_parse_list_params_rejects(query: str, param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_list_params(_request(query))
    assert caught.value.status == 400
    assert (caught.value.param, caught.value.code) == (param, code)


# Paging

_ITEMS = [{"id": f"msg_{i}", "n": i} for i in range(5)]


def _page(limit: int, order: str, after: str | None) -> dict[str, Any]:
    result = orjson.loads(page(_ITEMS, limit, order, after))
    assert isinstance(result, dict)
    return result


def _ids(result: dict[str, Any]) -> list[str]:
    return [item["id"] for item in result["data"]]


@pytest.mark.parametrize(
    ("limit", "order", "after", "ids", "has_more"),
    [
        (20, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3", "msg_4"], False),
        (20, "desc", None, ["msg_4", "msg_3", "msg_2", "msg_1", "msg_0"], False),
        (2, "asc", None, ["msg_0", "msg_1"], True),
        (2, "desc", None, ["msg_4", "msg_3"], True),
        (2, "asc", "msg_1", ["msg_2", "msg_3"], True),
        (2, "asc", "msg_2", ["msg_3", "msg_4"], False),
        (2, "desc", "msg_3", ["msg_2", "msg_1"], True),
        (2, "desc", "msg_1", ["msg_0"], False),
        (5, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3", "msg_4"], False),
        (4, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3"], True),
        (1, "asc", "msg_4", [], False),
        (1, "desc", "msg_0", [], False),
    ],
)
def test_page(limit: int, order: str, after: str | None, ids: list[str], has_more: bool) -> None:
    result = _page(limit, order, after)
    assert result["object"] == "list"
    assert _ids(result) == ids
    assert result["has_more"] is has_more
    assert result["first_id"] == (ids[0] if ids else None)
    assert result["last_id"] == (ids[-1] if ids else None)


def test_page_data_is_the_items_themselves() -> None:
    assert _page(2, "asc", "msg_0")["data"] == _ITEMS[1:3]


def test_unknown_after_gives_an_empty_page() -> None:
    for order in ("asc", "desc"):
        result = _page(20, order, "msg_unknown")
        assert result == {
            "object": "list",
            "data": [],
            "first_id": None,
            "last_id": None,
            "has_more": False,
        }


def test_page_of_no_items() -> None:
    assert orjson.loads(page([], 20, "desc", None)) == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_paging_through_with_cursors_visits_every_item_once() -> None:
    items = [{"id": f"msg_{i:03}"} for i in range(47)]
    for order in ("asc", "desc"):
        seen: list[str] = []
        after: str | None = None
        while True:
            result = orjson.loads(page(items, 10, order, after))
            seen += [item["id"] for item in result["data"]]
            if not result["has_more"]:
                break
            after = result["last_id"]
        expected = [item["id"] for item in items]
        assert seen == (expected if order == "asc" else expected[::-1])
