"""Conversation item ids end to end (SDK / httpx -> Envoy -> sidecar -> Redis): ids are
opaque, percent-encoded path segments, unique within their conversation, and a response's
turn that reuses ids is still added whole, its clashing items under fresh ids."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import openai
import pytest
from fake_backend import BackendThread

JSON = dict[str, Any]


def message(text: str, item_id: str | None = None) -> JSON:
    item: JSON = {"type": "message", "role": "user"}
    item["content"] = [{"type": "input_text", "text": text}]
    return item if item_id is None else {**item, "id": item_id}


def text_of(item: JSON) -> str:
    return "".join(part["text"] for part in item["content"])


def all_items(http: httpx.Client, conversation_id: str) -> list[JSON]:
    resp = http.get(
        f"/conversations/{conversation_id}/items", params={"limit": 100, "order": "asc"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["has_more"] is False
    items: list[JSON] = resp.json()["data"]
    return items


def assert_error(resp: httpx.Response, status: int, param: str | None, code: str | None) -> str:
    """`resp` is an OpenAI-shaped error with this status; answers its message."""
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    message: str = error["message"]
    return message


def encoded(value: str) -> str:
    """Every byte percent-encoded, even those that need not be."""
    return "".join(f"%{byte:02X}" for byte in value.encode())


def test_a_dotted_id_added_by_the_items_api_is_retrieved_and_deleted_by_the_sdk(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    m = uuid.uuid4().hex
    conversation = client.conversations.create(items=[message(f"first {m}")])
    [first] = all_items(http, conversation.id)
    added = http.post(
        f"/conversations/{conversation.id}/items", json={"items": [message(m, "has.dot")]}
    )
    assert added.status_code == 200, added.text
    [dotted] = added.json()["data"]
    assert dotted["id"] == "has.dot" and text_of(dotted) == m
    assert all_items(http, conversation.id) == [first, dotted]
    item = client.conversations.items.retrieve("has.dot", conversation_id=conversation.id)
    assert item.model_dump(exclude_none=True) == dotted
    raw = http.get(f"/conversations/{conversation.id}/items/has%2Edot")
    assert raw.status_code == 200 and raw.json() == dotted

    after = client.conversations.items.delete("has.dot", conversation_id=conversation.id)
    assert after == client.conversations.retrieve(conversation.id)
    assert all_items(http, conversation.id) == [first]
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve("has.dot", conversation_id=conversation.id)
    gone = http.delete(f"/conversations/{conversation.id}/items/has.dot")
    assert assert_error(gone, 404, "item_id", None) == "Item with id 'has.dot' not found."


def test_percent_encoded_ids(client: openai.OpenAI, http: httpx.Client) -> None:
    odd = f"a b/ç ✓ 100% {uuid.uuid4().hex[:6]}"
    conversation = client.conversations.create(items=[message("before")])
    added = http.post(
        f"/conversations/{conversation.id}/items", json={"items": [message("odd", odd)]}
    )
    assert added.status_code == 200, added.text
    [stored] = added.json()["data"]
    assert stored["id"] == odd
    # The SDK escapes the id itself; a client may escape every byte of both ids too.
    item = client.conversations.items.retrieve(odd, conversation_id=conversation.id)
    assert item.model_dump(exclude_none=True) == stored
    path = f"/conversations/{encoded(conversation.id)}/items/{encoded(odd)}"
    assert http.get(path).json() == stored
    assert http.get(f"/conversations/{encoded(conversation.id)}").json() == (
        client.conversations.retrieve(conversation.id).model_dump()
    )
    before = client.conversations.items.list(conversation.id, order="asc").data[0]
    listed = client.conversations.items.list(conversation.id, order="desc", after=odd)
    assert [i.id for i in listed.data] == [before.id]
    deleted = http.delete(f"/conversations/{conversation.id}/items/{quote(odd, safe='')}")
    assert deleted.status_code == 200, deleted.text
    assert [i["id"] for i in all_items(http, conversation.id)] == [before.id]


def test_ids_of_up_to_256_characters(client: openai.OpenAI, http: httpx.Client) -> None:
    conversation = client.conversations.create()
    longest = uuid.uuid4().hex + "i" * 224
    added = http.post(
        f"/conversations/{conversation.id}/items", json={"items": [message("long", longest)]}
    )
    assert added.status_code == 200, added.text
    item = client.conversations.items.retrieve(longest, conversation_id=conversation.id)
    assert item.id == longest
    too_long = http.post(
        f"/conversations/{conversation.id}/items", json={"items": [message("x", longest + "i")]}
    )
    assert_error(too_long, 400, "items[0].id", "invalid_type")
    path = f"/conversations/{conversation.id}/items/{longest}i"
    message_ = assert_error(http.get(path), 404, None, None)
    assert message_ == f"Invalid URL (GET /v1{path})"
    assert [i["id"] for i in all_items(http, conversation.id)] == [longest]


def test_an_id_the_conversation_holds_is_refused_and_nothing_is_added(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    m = uuid.uuid4().hex
    conversation = client.conversations.create(items=[message("kept", f"mine.{m}")])
    before = all_items(http, conversation.id)
    batch = [message("fresh", f"fresh.{m}"), message("clash", f"mine.{m}")]
    resp = http.post(f"/conversations/{conversation.id}/items", json={"items": batch})
    message_ = assert_error(resp, 400, "items", "duplicate_item_id")
    assert message_ == f"An item with id 'mine.{m}' is already in the conversation."
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.items.create(conversation.id, items=batch)  # type: ignore[list-item]
    assert (caught.value.code, caught.value.param) == ("duplicate_item_id", "items")
    assert all_items(http, conversation.id) == before
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(f"fresh.{m}", conversation_id=conversation.id)
    # Once the item is gone its id is free again, and the new item goes last.
    client.conversations.items.delete(f"mine.{m}", conversation_id=conversation.id)
    resp = http.post(f"/conversations/{conversation.id}/items", json={"items": batch[::-1]})
    assert resp.status_code == 200, resp.text
    assert [text_of(i) for i in all_items(http, conversation.id)] == ["clash", "fresh"]


def test_an_id_repeated_in_one_batch_is_refused(client: openai.OpenAI, http: httpx.Client) -> None:
    twice = [message("one", "twice"), message("two"), message("three", "twice")]
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.create(items=twice)  # type: ignore[list-item]
    assert (caught.value.code, caught.value.param) == ("duplicate_item_id", "items")
    conversation = client.conversations.create(items=[message("only")])
    before = all_items(http, conversation.id)
    resp = http.post(f"/conversations/{conversation.id}/items", json={"items": twice})
    assert_error(resp, 400, "items", "duplicate_item_id")
    assert all_items(http, conversation.id) == before


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_response_reusing_item_ids_adds_the_whole_turn(
    client: openai.OpenAI, http: httpx.Client, backend: BackendThread, stream: bool
) -> None:
    m = uuid.uuid4().hex
    mine, dotted = f"msg_mine{m}", f"has.dot{m}"
    conversation = client.conversations.create(items=[message("a", mine), message("b", dotted)])
    history = all_items(http, conversation.id)
    turn = [message("a again", mine), message("new", f"fresh.{m}"), message("b again", dotted)]
    backend.clear()
    body: Any = {"model": "m", "input": turn, "conversation": conversation.id}
    if stream:
        with client.responses.create(**body, stream=True) as events:
            response = list(events)[-1].response
    else:
        response = client.responses.create(**body)
    [sent] = [r.body["input"] for r in backend.requests if r.path == "/v1/responses"]
    assert sent[:2] == history  # the model saw the items as the client sent them
    assert [i["id"] for i in sent[2:]] == [mine, f"fresh.{m}", dotted]

    items = all_items(http, conversation.id)
    assert items[:2] == history
    texts = [text_of(i) for i in items[2:]]
    assert texts == ["a again", "new", "b again", "reply to: b again"]
    assert re.fullmatch(r"msg_[0-9a-f]{48}", items[2]["id"]), items[2]["id"]
    assert items[3]["id"] == f"fresh.{m}"  # no clash: kept
    assert re.fullmatch(rf"has\.dot{m}_[0-9a-f]{{48}}", items[4]["id"]), items[4]["id"]
    assert items[5] == response.output[0].model_dump(exclude_none=True)
    assert len({i["id"] for i in items}) == 6
    for stored, given in zip(items[2:5], sent[2:], strict=True):
        assert {**stored, "id": given["id"]} == given  # only the id changed
    # The renamed items are items like any other; the originals are untouched.
    renamed = client.conversations.items.retrieve(items[4]["id"], conversation_id=conversation.id)
    assert renamed.model_dump(exclude_none=True) == items[4]
    assert http.get(f"/conversations/{conversation.id}/items/{mine}").json() == history[0]


def test_a_dotted_response_id_is_looked_up(http: httpx.Client, backend: BackendThread) -> None:
    backend.clear()
    for method in ("GET", "DELETE"):
        resp = http.request(method, "/responses/bad.id")
        assert assert_error(resp, 404, None, None) == "Response with id 'bad.id' not found."
    resp = http.get("/responses/bad%2Eid/input_items")
    assert assert_error(resp, 404, None, None) == "Response with id 'bad.id' not found."
    assert backend.requests == []
