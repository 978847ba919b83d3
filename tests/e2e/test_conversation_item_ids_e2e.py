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
from support.fake_backend import BackendRecorder

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


def test_ids_of_up_to_256_characters_and_longer_path_segments(
    client: openai.OpenAI, http: httpx.Client
) -> None:
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
    # Fully percent-encoded (768 characters on the wire), the longest id is still found.
    stored = http.get(f"/conversations/{conversation.id}/items/{encoded(longest)}")
    assert stored.status_code == 200, stored.text
    assert stored.json() == item.model_dump(exclude_none=True)
    # A longer id in the path reaches the store, which has no such item.
    path = f"/conversations/{conversation.id}/items/{longest}i"
    for method in ("GET", "DELETE"):
        message_ = assert_error(http.request(method, path), 404, "item_id", None)
        assert message_ == f"Item with id '{longest}i' not found."
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(longest + "i", conversation_id=conversation.id)
    # Only a segment of more than 1024 characters, as sent, is no URL of the gateway's.
    path = f"/conversations/{conversation.id}/items/{'i' * 1025}"
    for method in ("GET", "DELETE"):
        message_ = assert_error(http.request(method, path), 404, None, None)
        assert message_ == f"Invalid URL ({method} /v1{path})"
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


def respond(client: openai.OpenAI, body: JSON, stream: bool) -> Any:
    """The finished response, created with or without streaming."""
    if stream:
        with client.responses.create(**body, stream=True) as events:
            return list(events)[-1].response
    return client.responses.create(**body)


# A renamed item keeps its id's prefix only if the id is `<prefix>_<rest>` with a prefix of
# 1 to 16 characters; any other id becomes `item_<48 hex>`.
_RENAMES = [
    ("msg_mine{m}", "msg"),
    ("has.dot{m}", "item"),  # no underscore at all
    ("0123456789abcdef_{m}", "0123456789abcdef"),  # 16 characters: kept
    ("0123456789abcdefg_{m}", "item"),  # 17 characters: too long to be a prefix
    ("_lead{m}", "item"),  # nothing before the underscore
    ("a_b_c{m}", "a"),  # up to the first underscore
]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_response_reusing_item_ids_adds_the_whole_turn(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder, stream: bool
) -> None:
    m = uuid.uuid4().hex
    ids = [template.format(m=m) for template, _ in _RENAMES]
    history_items = [message(f"old {n}", item_id) for n, item_id in enumerate(ids)]
    conversation = client.conversations.create(items=history_items)  # type: ignore[arg-type]
    history = all_items(http, conversation.id)
    assert [i["id"] for i in history] == ids
    turn = [message("new", f"fresh.{m}")]
    turn += [message(f"again {n}", item_id) for n, item_id in enumerate(ids)]
    recorder.clear()
    body: JSON = {"model": "m", "input": turn, "conversation": conversation.id}
    response = respond(client, body, stream)
    [sent] = [r.body["input"] for r in recorder.requests if r.path == "/v1/responses"]
    assert sent[: len(ids)] == history  # the model saw the items as the client sent them
    assert [i["id"] for i in sent[len(ids) :]] == [f"fresh.{m}", *ids]

    items = all_items(http, conversation.id)
    assert items[: len(ids)] == history
    added = items[len(ids) :]
    texts = [text_of(i) for i in added]
    again = [f"again {n}" for n in range(len(ids))]
    assert texts == ["new", *again, f"reply to: {again[-1]}"]
    assert added[0]["id"] == f"fresh.{m}"  # no clash: kept
    for item, (_, prefix) in zip(added[1:-1], _RENAMES, strict=True):
        assert re.fullmatch(rf"{re.escape(prefix)}_[0-9a-f]{{48}}", item["id"]), item["id"]
    assert added[-1] == response.output[0].model_dump(exclude_none=True)
    assert len({i["id"] for i in items}) == len(items)
    for stored, given in zip(added[:-1], sent[len(ids) :], strict=True):
        assert {**stored, "id": given["id"]} == given  # only the id changed
    # The renamed items are items like any other; the originals are untouched.
    for renamed_item in added[1:-1]:
        renamed = client.conversations.items.retrieve(
            renamed_item["id"], conversation_id=conversation.id
        )
        assert renamed.model_dump(exclude_none=True) == renamed_item
    for original in history:
        found = http.get(f"/conversations/{conversation.id}/items/{quote(original['id'])}")
        assert found.status_code == 200 and found.json() == original


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_response_repeating_an_id_in_its_input_adds_every_item(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder, stream: bool
) -> None:
    m = uuid.uuid4().hex
    twice, dotted = f"msg_twice{m}", f"has.dot{m}"
    conversation = client.conversations.create(items=[message("before")])
    history = all_items(http, conversation.id)
    turn = [
        message("one", twice),
        message("two", dotted),
        message("three", twice),
        message("four", dotted),
        message("five", twice),
    ]
    recorder.clear()
    body: JSON = {"model": "m", "input": turn, "conversation": conversation.id}
    response = respond(client, body, stream)
    [sent] = [r.body["input"] for r in recorder.requests if r.path == "/v1/responses"]
    assert [i["id"] for i in sent[1:]] == [twice, dotted, twice, dotted, twice]  # as sent

    items = all_items(http, conversation.id)
    assert items[:1] == history
    added = items[1:]
    assert [text_of(i) for i in added] == ["one", "two", "three", "four", "five", "reply to: five"]
    assert [added[0]["id"], added[1]["id"]] == [twice, dotted]  # the first of each is kept
    assert re.fullmatch(r"msg_[0-9a-f]{48}", added[2]["id"]), added[2]["id"]
    assert re.fullmatch(r"item_[0-9a-f]{48}", added[3]["id"]), added[3]["id"]
    assert re.fullmatch(r"msg_[0-9a-f]{48}", added[4]["id"]), added[4]["id"]
    assert added[5] == response.output[0].model_dump(exclude_none=True)
    assert len({i["id"] for i in items}) == len(items) == 7
    for stored, given in zip(added[:5], sent[1:], strict=True):
        assert {**stored, "id": given["id"]} == given  # only the id changed

    # Every item, the repeated ones included, is retrieved and deleted by its own id.
    for n, item in enumerate(added[:5]):
        found = client.conversations.items.retrieve(item["id"], conversation_id=conversation.id)
        assert found.model_dump(exclude_none=True) == item
        client.conversations.items.delete(item["id"], conversation_id=conversation.id)
        with pytest.raises(openai.NotFoundError):
            client.conversations.items.retrieve(item["id"], conversation_id=conversation.id)
        assert all_items(http, conversation.id) == [*history, *added[n + 1 :]]
    gone = http.delete(f"/conversations/{conversation.id}/items/{twice}")
    assert assert_error(gone, 404, "item_id", None) == f"Item with id '{twice}' not found."


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    ("template", "prefix"), [("msg_q{m}", "msg"), ("has.dot{m}", "item")], ids=["msg", "dotted"]
)
def test_an_output_id_equal_to_an_input_id_is_renamed(
    client: openai.OpenAI,
    http: httpx.Client,
    recorder: BackendRecorder,
    stream: bool,
    template: str,
    prefix: str,
) -> None:
    m = uuid.uuid4().hex
    input_id = template.format(m=m)
    conversation = client.conversations.create(items=[message("before")])
    history = all_items(http, conversation.id)
    body: JSON = {
        "model": "fake-echo-id",  # the reply takes the id of the last input item
        "input": [message("question", input_id)],
        "conversation": conversation.id,
    }
    response = respond(client, body, stream)
    [output] = [i.model_dump(exclude_none=True) for i in response.output]
    assert output["id"] == input_id  # the client is answered as the backend answered

    items = all_items(http, conversation.id)
    assert items[:1] == history
    question, reply = items[1:]
    assert question["id"] == input_id and text_of(question) == "question"  # kept: first
    assert re.fullmatch(rf"{prefix}_[0-9a-f]{{48}}", reply["id"]), reply["id"]
    assert {**reply, "id": input_id} == output  # only the id changed
    for item in (question, reply):
        found = http.get(f"/conversations/{conversation.id}/items/{quote(item['id'])}")
        assert found.status_code == 200 and found.json() == item
    client.conversations.items.delete(reply["id"], conversation_id=conversation.id)
    assert all_items(http, conversation.id) == [*history, question]


def test_a_dotted_response_id_is_looked_up(http: httpx.Client, recorder: BackendRecorder) -> None:
    for method in ("GET", "DELETE"):
        resp = http.request(method, "/responses/bad.id")
        assert assert_error(resp, 404, None, None) == "Response with id 'bad.id' not found."
    resp = http.get("/responses/bad%2Eid/input_items")
    assert assert_error(resp, 404, None, None) == "Response with id 'bad.id' not found."
    assert recorder.requests == []
