"""The Connectors API end to end through Envoy and the sidecar: objects, paging, updates,
tenancy, persistence, and header values (credentials) never leaving the gateway."""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import orjson
import pytest
import redis
from support.harness import Stack

from core.common.tenancy import tenant_for
from storage.tenant_keys import tenant_prefix

JSON = dict[str, Any]
Http = httpx.Client
URL = "https://mcp.example.com/mcp"


def ok(reply: httpx.Response) -> JSON:
    assert reply.status_code == 200, reply.text
    return cast(JSON, reply.json())


def error(reply: httpx.Response, status: int, param: str | None, code: str | None) -> None:
    assert reply.status_code == status, reply.text
    assert reply.json()["error"] | {"message": None} == {
        "message": None, "type": "invalid_request_error", "param": param, "code": code
    }  # fmt: skip


def secret() -> str:
    return f"secret-{uuid.uuid4().hex}"


def stored_headers(db: redis.Redis, client: Http, connector_id: str) -> JSON:
    """What Redis holds for the connector's headers, for the client's tenant."""
    tenant = tenant_for({"authorization": client.headers["authorization"]}, "x-tenant")
    raw = db.hget(f"{tenant_prefix(tenant)}cn:{connector_id}", "hdr")
    assert isinstance(raw, bytes)
    return cast(JSON, orjson.loads(raw))


def test_create_and_retrieve(http: Http, redis_sync: redis.Redis) -> None:
    key, token = secret(), secret()
    body = {
        "server_url": URL, "name": "Docs", "description": "the docs server",
        "headers": {"X-Api-Key": key}, "authorization": token,
        "allowed_tools": {"tool_names": ["search", "fetch"]},
        "require_approval": {"never": {"tool_names": ["search"]}}, "metadata": {"team": "a"},
    }  # fmt: skip
    reply = http.post("/connectors", json=body)
    created = ok(reply)
    assert created["id"].startswith("conn_") and isinstance(created.pop("created_at"), int)
    assert {k: v for k, v in created.items() if k != "id"} == {
        "object": "connector", "name": "Docs", "description": "the docs server",
        "server_url": URL, "header_names": ["authorization", "x-api-key"],
        "allowed_tools": ["search", "fetch"],
        "require_approval": {"never": {"tool_names": ["search"]}}, "metadata": {"team": "a"},
    }  # fmt: skip
    got = http.get(f"/connectors/{created['id']}")
    assert ok(got) == {**created, "created_at": ok(got)["created_at"]}
    listed = http.get("/connectors", params={"limit": 100})
    for text in (reply.text, got.text, listed.text):
        assert key not in text and token not in text
    assert stored_headers(redis_sync, http, created["id"]) == {
        "authorization": f"Bearer {token}", "x-api-key": key
    }  # fmt: skip


def test_minimal_connector_and_authorization_alone(http: Http, redis_sync: redis.Redis) -> None:
    bare = ok(http.post("/connectors", json={"server_url": "http://mcp.example.com:8080"}))
    assert (bare["name"], bare["description"], bare["header_names"]) == (None, None, [])
    assert (bare["allowed_tools"], bare["require_approval"], bare["metadata"]) == (None, None, {})
    token = secret()
    body = {"server_url": URL, "authorization": token, "allowed_tools": ["a"]}
    connector = ok(http.post("/connectors", json=body))
    assert connector["header_names"] == ["authorization"] and connector["allowed_tools"] == ["a"]
    assert stored_headers(redis_sync, http, connector["id"]) == {"authorization": f"Bearer {token}"}


def test_list_paging(stranger: Http) -> None:
    assert ok(stranger.get("/connectors")) == {
        "object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False
    }  # fmt: skip
    ids = [ok(stranger.post("/connectors", json={"server_url": URL}))["id"] for _ in range(4)]
    newest = ids[::-1]
    listing = ok(stranger.get("/connectors"))
    assert [c["id"] for c in listing["data"]] == newest
    assert (listing["first_id"], listing["last_id"], listing["has_more"]) == (
        newest[0], newest[-1], False
    )  # fmt: skip
    page = ok(stranger.get("/connectors", params={"limit": 3}))
    assert [c["id"] for c in page["data"]] == newest[:3] and page["has_more"] is True
    rest = ok(stranger.get("/connectors", params={"limit": 3, "after": page["last_id"]}))
    assert [c["id"] for c in rest["data"]] == newest[3:] and rest["has_more"] is False
    asc = ok(stranger.get("/connectors", params={"order": "asc", "limit": 2, "after": ids[0]}))
    assert [c["id"] for c in asc["data"]] == ids[1:3] and asc["has_more"] is True
    before = ok(stranger.get("/connectors", params={"before": ids[1]}))
    assert [c["id"] for c in before["data"]] == newest[:2]
    assert all(c["object"] == "connector" for c in listing["data"])
    error(stranger.get("/connectors", params={"limit": 0}), 400, "limit", "integer_below_min_value")
    error(stranger.get("/connectors", params={"order": "up"}), 400, "order", "invalid_value")


def test_update(http: Http, redis_sync: redis.Redis) -> None:
    key, token = secret(), secret()
    body = {"server_url": URL, "name": "a", "headers": {"x-key": key}, "metadata": {"m": "1"}}
    cid = ok(http.post("/connectors", json=body))["id"]
    changes = {
        "name": "b", "description": "d", "metadata": {"m": "2"}, "allowed_tools": ["t"],
        "require_approval": "always", "authorization": token,
        "server_url": "https://mcp.example.com/v2",
    }  # fmt: skip
    reply = http.post(f"/connectors/{cid}", json=changes)
    updated = ok(reply)
    assert key not in reply.text and token not in reply.text
    assert {k: updated[k] for k in changes if k != "authorization"} == {
        k: v for k, v in changes.items() if k != "authorization"
    }
    assert updated["header_names"] == ["authorization", "x-key"]
    assert ok(http.get(f"/connectors/{cid}")) == updated
    # `headers` replaces the whole set; a null authorization removes that header alone.
    replaced = ok(http.post(f"/connectors/{cid}", json={"headers": {"x-other": key}}))
    assert replaced["header_names"] == ["x-other"]
    assert stored_headers(redis_sync, http, cid) == {"x-other": key}
    unnamed = ok(http.post(f"/connectors/{cid}", json={"name": None, "description": None}))
    assert (unnamed["name"], unnamed["description"]) == (None, None)
    cleared = ok(http.post(f"/connectors/{cid}", json={"allowed_tools": None, "metadata": None}))
    assert (cleared["allowed_tools"], cleared["metadata"], cleared["header_names"]) == (
        None, {}, ["x-other"]
    )  # fmt: skip


def test_moving_to_another_origin_needs_headers_again(http: Http, redis_sync: redis.Redis) -> None:
    token = secret()
    cid = ok(http.post("/connectors", json={"server_url": URL, "authorization": token}))["id"]
    elsewhere = {"server_url": "https://attacker.example.net/mcp"}
    refused = http.post(f"/connectors/{cid}", json=elsewhere)
    error(refused, 400, "headers", "missing_required_parameter")
    assert ok(http.get(f"/connectors/{cid}"))["server_url"] == URL
    moved = ok(http.post(f"/connectors/{cid}", json={**elsewhere, "headers": {}}))
    assert moved["header_names"] == [] and stored_headers(redis_sync, http, cid) == {}


def test_delete(http: Http) -> None:
    cid = ok(http.post("/connectors", json={"server_url": URL}))["id"]
    assert ok(http.delete(f"/connectors/{cid}")) == {
        "id": cid, "object": "connector.deleted", "deleted": True
    }  # fmt: skip
    error(http.get(f"/connectors/{cid}"), 404, "connector_id", None)
    error(http.post(f"/connectors/{cid}", json={"name": "x"}), 404, "connector_id", None)
    error(http.delete(f"/connectors/{cid}"), 404, "connector_id", None)
    listed = ok(http.get("/connectors", params={"limit": 100}))["data"]
    assert cid not in {c["id"] for c in listed}


INVALID = [
    ({}, "server_url", "missing_required_parameter"),
    ({"server_url": None}, "server_url", "missing_required_parameter"),
    ({"server_url": 5}, "server_url", "invalid_type"),
    ({"server_url": "ftp://mcp.example.com"}, "server_url", "invalid_value"),
    ({"server_url": "mcp.example.com/mcp"}, "server_url", "invalid_value"),
    ({"server_url": "https://"}, "server_url", "invalid_value"),
    ({"server_url": "https://a b.example.com"}, "server_url", "invalid_value"),
    ({"server_url": "https://host:99999/"}, "server_url", "invalid_value"),
    ({"server_url": "https://user:pw@mcp.example.com"}, "server_url", "invalid_value"),
    ({"headers": {"x-key": 5}}, "headers.x-key", "invalid_type"),
    ({"headers": ["x"]}, "headers", "invalid_type"),
    ({"headers": {"bad name": "v"}}, "headers.bad name", "invalid_value"),
    ({"headers": {"host": "v"}}, "headers.host", "invalid_value"),
    ({"headers": {"x-key": "a\r\nx-evil: 1"}}, "headers.x-key", "invalid_value"),
    ({"headers": {"X-Key": "a", "x-key": "b"}}, "headers.x-key", "invalid_value"),
    ({"headers": {f"x-{i}": "v" for i in range(33)}}, "headers", "object_above_max_properties"),
    ({"authorization": 7}, "authorization", "invalid_type"),
    ({"authorization": " "}, "authorization", "invalid_value"),
    ({"authorization": "t", "headers": {"Authorization": "u"}}, "authorization",
     "conflicting_parameters"),
    ({"allowed_tools": "search"}, "allowed_tools", "invalid_type"),
    ({"allowed_tools": [1]}, "allowed_tools[0]", "invalid_type"),
    ({"allowed_tools": {"names": ["a"]}}, "allowed_tools.names", "unknown_parameter"),
    ({"allowed_tools": {}}, "allowed_tools.tool_names", "missing_required_parameter"),
    ({"require_approval": "sometimes"}, "require_approval", "invalid_value"),
    ({"require_approval": 1}, "require_approval", "invalid_type"),
    ({"require_approval": {"maybe": {"tool_names": []}}}, "require_approval.maybe",
     "unknown_parameter"),
    ({"require_approval": {"always": ["a"]}}, "require_approval.always", "invalid_type"),
    ({"require_approval": {"never": {}}}, "require_approval.never.tool_names",
     "missing_required_parameter"),
    ({"require_approval": {"never": {"tool_names": "a"}}}, "require_approval.never.tool_names",
     "invalid_type"),
    ({"require_approval": {"always": {"tool_names": ["a"]}, "never": {"tool_names": ["a"]}}},
     "require_approval", "invalid_value"),
    ({"name": 1}, "name", "invalid_type"),
    ({"description": []}, "description", "invalid_type"),
    ({"metadata": {"k": 1}}, "metadata.k", "invalid_type"),
    ({"connector_url": URL}, "connector_url", "unknown_parameter"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "param", "code"), INVALID)
def test_invalid_bodies(http: Http, body: JSON, param: str, code: str) -> None:
    full = body if param.startswith("server_url") else {"server_url": URL, **body}
    error(http.post("/connectors", json=full), 400, param, code)
    original = ok(http.post("/connectors", json={"server_url": URL, "name": "kept"}))
    if code != "missing_required_parameter" or param != "server_url":
        changes = {k: v for k, v in full.items() if k != "server_url" or "server_url" in body}
        error(http.post(f"/connectors/{original['id']}", json=changes), 400, param, code)
    assert ok(http.get(f"/connectors/{original['id']}")) == original


@pytest.mark.parametrize("raw", [b"{not json", b"[1]", b""])
def test_malformed_bodies(http: Http, raw: bytes) -> None:
    cid = ok(http.post("/connectors", json={"server_url": URL}))["id"]
    for path in ("/connectors", f"/connectors/{cid}"):
        reply = http.post(path, content=raw, headers={"content-type": "application/json"})
        error(reply, 400, None, None)


def test_unknown_ids_and_paths(http: Http) -> None:
    for reply in (
        http.get("/connectors/conn_nope"),
        http.post("/connectors/conn_nope", json={"name": "x"}),
        http.delete("/connectors/conn_nope"),
    ):
        error(reply, 404, "connector_id", None)
    error(http.put("/connectors/conn_nope", json={}), 404, None, None)
    error(http.get("/connectors/conn_nope/tools"), 404, None, None)


def test_other_tenant_sees_nothing(http: Http, stranger: Http) -> None:
    connector = ok(http.post("/connectors", json={"server_url": URL, "name": "mine"}))
    cid = connector["id"]
    error(stranger.get(f"/connectors/{cid}"), 404, "connector_id", None)
    error(stranger.post(f"/connectors/{cid}", json={"name": "theirs"}), 404, "connector_id", None)
    error(stranger.delete(f"/connectors/{cid}"), 404, "connector_id", None)
    assert ok(stranger.get("/connectors"))["data"] == []
    assert ok(http.get(f"/connectors/{cid}")) == connector


def test_connectors_survive_a_sidecar_restart(
    stack: Stack, http: Http, redis_sync: redis.Redis
) -> None:
    token = secret()
    connector = ok(http.post("/connectors", json={"server_url": URL, "authorization": token}))
    stack.restart_sidecar()
    assert ok(http.get(f"/connectors/{connector['id']}")) == connector
    assert stored_headers(redis_sync, http, connector["id"]) == {"authorization": f"Bearer {token}"}
