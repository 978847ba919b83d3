"""The Conversations API's errors end to end: validation, unknown ids, other tenants."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import openai
import pytest
import redis
from support.fake_backend import BackendRecorder

JSON = dict[str, Any]
CONVERSATIONS = "or:*:c:conv_*"


def assert_error(
    resp: httpx.Response, status: int, param: str | None, code: str | None, message: str = ""
) -> None:
    """`resp` is exactly `{"error": {message, type, param, code}}` with this status."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert sorted(error) == ["code", "message", "param", "type"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert error["message"] == message if message else error["message"]


def items(count: int) -> list[JSON]:
    return [{"role": "user", "content": f"item {n}"} for n in range(count)]


def with_id(item_id: Any) -> JSON:
    return {"role": "user", "content": "x", "id": item_id}


@pytest.fixture
def conversation(http: httpx.Client) -> JSON:
    m = uuid.uuid4().hex
    resp = http.post("/conversations", json={"metadata": {"m": m}, "items": items(2)})
    assert resp.status_code == 200, resp.text
    created: JSON = resp.json()
    return created


def snapshot(http: httpx.Client, conversation_id: str) -> tuple[JSON, JSON]:
    record = http.get(f"/conversations/{conversation_id}")
    listed = http.get(f"/conversations/{conversation_id}/items", params={"limit": 100})
    assert record.status_code == listed.status_code == 200
    return record.json(), listed.json()


METADATA_17 = {"metadata": {f"k{n}": "v" for n in range(17)}}
NOT_JSON = b"{not json"
# (method, path under the conversation or "" for /conversations, body, query, param, code)
INVALID: list[tuple[str, str | None, Any, JSON, str | None, str | None]] = [
    ("POST", None, METADATA_17, {}, "metadata", "object_above_max_properties"),
    ("POST", None, {"items": items(21)}, {}, "items", "array_above_max_length"),
    ("POST", None, {"items": "hello"}, {}, "items", "invalid_type"),
    ("POST", None, {"items": [{"role": "bot", "content": "x"}]}, {}, "items[0].role",
     "invalid_value"),
    ("POST", None, {"items": [{"content": "x"}]}, {}, "items[0].type",
     "missing_required_parameter"),
    ("POST", None, NOT_JSON, {}, None, None),
    ("POST", None, b"[1]", {}, None, None),
    ("POST", "", {}, {}, "metadata", "missing_required_parameter"),
    ("POST", "", {"metadata": {"k": 1}}, {}, "metadata.k", "invalid_type"),
    ("POST", "", METADATA_17, {}, "metadata", "object_above_max_properties"),
    ("POST", "", NOT_JSON, {}, None, None),
    ("POST", "", b"", {}, None, None),
    ("POST", "/items", {"items": items(21)}, {}, "items", "array_above_max_length"),
    ("POST", "/items", {}, {}, "items", "missing_required_parameter"),
    ("POST", "/items", {"items": [5]}, {}, "items[0]", "invalid_type"),
    ("POST", "/items", NOT_JSON, {}, None, None),
    ("POST", None, {"items": [with_id(5)]}, {}, "items[0].id", "invalid_type"),
    ("POST", "/items", {"items": [*items(1), with_id("")]}, {}, "items[1].id", "invalid_type"),
    ("POST", "/items", {"items": [with_id("i" * 257)]}, {}, "items[0].id", "invalid_type"),
    # Item ids are unique within a conversation: a batch may not repeat one.
    ("POST", None, {"items": [with_id("a.1"), with_id("a.1")]}, {}, "items",
     "duplicate_item_id"),
    ("POST", "/items", {"items": [with_id("b"), *items(1), with_id("b")]}, {}, "items",
     "duplicate_item_id"),
    ("GET", "/items", None, {"limit": 0}, "limit", "integer_below_min_value"),
    ("GET", "/items", None, {"limit": 101}, "limit", "integer_above_max_value"),
    ("GET", "/items", None, {"limit": "ten"}, "limit", "invalid_type"),
    ("GET", "/items", None, {"order": "up"}, "order", "invalid_value"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "query", "param", "code"), INVALID)
def test_invalid_requests_change_nothing(
    http: httpx.Client,
    recorder: BackendRecorder,
    redis_sync: redis.Redis,
    conversation: JSON,
    method: str,
    path: str | None,
    body: Any,
    query: JSON,
    param: str | None,
    code: str | None,
) -> None:
    url = "/conversations" if path is None else f"/conversations/{conversation['id']}{path}"
    before, count = snapshot(http, conversation["id"]), len(redis_sync.keys(CONVERSATIONS))
    recorder.clear()
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    headers = {"content-type": "application/json"}
    resp = http.request(method, url, content=content, params=query, headers=headers)
    assert_error(resp, 400, param, code)
    assert snapshot(http, conversation["id"]) == before
    assert len(redis_sync.keys(CONVERSATIONS)) == count
    assert recorder.requests == []


def test_malformed_json_message(http: httpx.Client) -> None:
    resp = http.post("/conversations", content=NOT_JSON)
    message = (
        "We could not parse the JSON body of your request. The API expects a JSON payload, "
        "but what was sent was not valid JSON."
    )
    assert_error(resp, 400, None, None, message)


def test_at_the_limits_is_accepted(http: httpx.Client) -> None:
    metadata = {f"{n:0>64}": "v" * 512 for n in range(16)}
    resp = http.post("/conversations", json={"metadata": metadata, "items": items(20)})
    assert resp.status_code == 200, resp.text
    added = http.post(f"/conversations/{resp.json()['id']}/items", json={"items": items(20)})
    assert added.status_code == 200 and len(added.json()["data"]) == 20
    listed = http.get(f"/conversations/{resp.json()['id']}/items", params={"limit": 100})
    assert len(listed.json()["data"]) == 40


# (method, path with {c} for the conversation and {i} for the item, body)
OPERATIONS: list[tuple[str, str, JSON | None]] = [
    ("GET", "/conversations/{c}", None),
    ("POST", "/conversations/{c}", {"metadata": {"a": "b"}}),
    ("DELETE", "/conversations/{c}", None),
    ("GET", "/conversations/{c}/items", None),
    ("POST", "/conversations/{c}/items", {"items": items(1)}),
    ("GET", "/conversations/{c}/items/{i}", None),
    ("DELETE", "/conversations/{c}/items/{i}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_unknown_conversation_is_404(
    http: httpx.Client, method: str, path: str, body: JSON | None
) -> None:
    missing = f"conv_{uuid.uuid4().hex}"
    resp = http.request(method, path.format(c=missing, i="msg_1"), json=body)
    message = f"Conversation with id '{missing}' not found."
    assert_error(resp, 404, "conversation_id", None, message)
    assert http.get(f"/conversations/{missing}").status_code == 404  # nothing was created


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_item_is_404(http: httpx.Client, conversation: JSON, method: str) -> None:
    before = snapshot(http, conversation["id"])
    resp = http.request(method, f"/conversations/{conversation['id']}/items/msg_missing")
    assert_error(resp, 404, "item_id", None, "Item with id 'msg_missing' not found.")
    assert snapshot(http, conversation["id"]) == before


def test_unknown_ids_through_the_sdk(client: openai.OpenAI) -> None:
    missing = f"conv_{uuid.uuid4().hex}"
    calls = [
        lambda: client.conversations.retrieve(missing),
        lambda: client.conversations.update(missing, metadata={"a": "b"}),
        lambda: client.conversations.delete(missing),
        lambda: client.conversations.items.list(missing),
        lambda: client.conversations.items.create(
            missing, items=[{"role": "user", "content": "x"}]
        ),
        lambda: client.conversations.items.retrieve("msg_1", conversation_id=missing),
        lambda: client.conversations.items.delete("msg_1", conversation_id=missing),
    ]
    for call in calls:
        with pytest.raises(openai.NotFoundError) as caught:
            call()
        assert caught.value.status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_another_tenant_gets_404(
    http: httpx.Client,
    stranger: httpx.Client,
    conversation: JSON,
    method: str,
    path: str,
    body: JSON | None,
) -> None:
    before = snapshot(http, conversation["id"])
    item_id = before[1]["data"][0]["id"]
    resp = stranger.request(method, path.format(c=conversation["id"], i=item_id), json=body)
    assert_error(resp, 404, "conversation_id", None)
    assert snapshot(http, conversation["id"]) == before


@pytest.mark.parametrize("stream", [False, True])
def test_another_tenants_conversation_in_a_response_is_404(
    http: httpx.Client,
    stranger: httpx.Client,
    recorder: BackendRecorder,
    conversation: JSON,
    stream: bool,
) -> None:
    before = snapshot(http, conversation["id"])
    recorder.clear()
    body = {"model": "m", "input": "x", "conversation": conversation["id"], "stream": stream}
    resp = stranger.post("/responses", json=body)
    message = f"Conversation with id '{conversation['id']}' not found."
    assert_error(resp, 404, "conversation", None, message)
    assert recorder.requests == []
    assert snapshot(http, conversation["id"]) == before


@pytest.mark.parametrize("conversation_param", ["id", "object"])
def test_unknown_conversation_in_a_response_is_404(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder, conversation_param: str
) -> None:
    missing = f"conv_{uuid.uuid4().hex}"
    value: Any = missing if conversation_param == "id" else {"id": missing}
    recorder.clear()
    resp = http.post("/responses", json={"model": "m", "input": "x", "conversation": value})
    assert_error(resp, 404, "conversation", None, f"Conversation with id '{missing}' not found.")
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="m", input="x", conversation=value)
    assert recorder.requests == []


def test_conversation_with_previous_response_id_is_400(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder, conversation: JSON
) -> None:
    previous = client.responses.create(model="m", input=f"first {uuid.uuid4().hex}")
    before = snapshot(http, conversation["id"])
    recorder.clear()
    body = {"model": "m", "input": "x", "previous_response_id": previous.id}
    resp = http.post("/responses", json={**body, "conversation": conversation["id"]})
    assert_error(resp, 400, "conversation", "mutually_exclusive_parameters")
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(**body, conversation={"id": conversation["id"]})
    assert caught.value.code == "mutually_exclusive_parameters"
    resp = http.post("/responses", json={"model": "m", "input": "x", "conversation": {}})
    assert_error(resp, 400, "conversation.id", "missing_required_parameter")
    assert recorder.requests == []
    assert snapshot(http, conversation["id"]) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/conversations"),
        ("PUT", "/conversations/conv_1"),
        ("PATCH", "/conversations/conv_1/items"),
        ("GET", "/conversations/conv_1/items/msg_1/extra"),
        ("GET", "/conversations/" + "c" * 1025),
        ("DELETE", "/conversations/conv_1/items/" + "i" * 1025),
        ("GET", "/conversations/conv_1/items/" + "%41" * 341 + "ii"),
    ],
)
def test_unknown_conversation_path_is_404(
    http: httpx.Client, recorder: BackendRecorder, method: str, path: str
) -> None:
    resp = http.request(method, path)
    assert_error(resp, 404, None, None, f"Invalid URL ({method} /v1{path})")
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("path", "conversation_id"),
    [
        ("/conversations/bad.id", "bad.id"),
        ("/conversations/bad.id/items", "bad.id"),
        ("/conversations/conv%20x%2Fy/items/msg_1", "conv x/y"),
        ("/conversations/" + "c" * 256, "c" * 256),
        # Longer than any id (the router allows for percent-encoding): simply not found.
        ("/conversations/" + "c" * 257, "c" * 257),
        ("/conversations/" + "c" * 1024 + "/items", "c" * 1024),
        ("/conversations/" + "%41" * 341 + "c", "A" * 341 + "c"),
    ],
)
def test_any_path_segment_is_a_conversation_id(
    http: httpx.Client, recorder: BackendRecorder, path: str, conversation_id: str
) -> None:
    message = f"Conversation with id '{conversation_id}' not found."
    assert_error(http.get(path), 404, "conversation_id", None, message)
    assert recorder.requests == []
