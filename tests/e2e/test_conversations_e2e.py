"""The Conversations API end to end: SDK -> Envoy -> sidecar -> Redis, and conversation=
on /v1/responses against the fake backend."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import RedisServer, Stack
from support.served_bodies import checked_http

JSON = dict[str, Any]


def marker() -> str:
    return uuid.uuid4().hex[:12]


def message(text: str, role: str = "user") -> JSON:
    part = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def text_of(item: JSON) -> str:
    return "".join(part["text"] for part in item["content"])


def all_items(http: httpx.Client, conversation_id: str) -> list[JSON]:
    """Every item, oldest first, by raw HTTP."""
    resp = http.get(
        f"/conversations/{conversation_id}/items", params={"limit": 100, "order": "asc"}
    )
    assert resp.status_code == 200, resp.text
    page: JSON = resp.json()
    assert page["has_more"] is False
    items: list[JSON] = page["data"]
    return items


def backend_inputs(recorder: BackendRecorder) -> list[list[JSON]]:
    return [r.body["input"] for r in recorder.requests if r.path == "/v1/responses"]


def test_conversation_lifecycle(client: openai.OpenAI, http: httpx.Client) -> None:
    m = marker()
    conversation = client.conversations.create(metadata={"topic": m}, items=[message(f"hi {m}")])
    assert conversation.id.startswith("conv_")
    raw = http.get(f"/conversations/{conversation.id}")
    assert raw.status_code == 200
    assert raw.json() == {
        "id": conversation.id,
        "object": "conversation",
        "created_at": conversation.created_at,
        "metadata": {"topic": m},
    }
    assert isinstance(raw.json()["created_at"], int)
    assert client.conversations.retrieve(conversation.id) == conversation

    updated = client.conversations.update(conversation.id, metadata={"topic": "new", "n": m})
    assert updated.id == conversation.id and updated.created_at == conversation.created_at
    assert updated.metadata == {"topic": "new", "n": m}
    assert client.conversations.retrieve(conversation.id).metadata == {"topic": "new", "n": m}

    deleted = http.delete(f"/conversations/{conversation.id}")
    assert deleted.status_code == 200
    assert deleted.json() == {
        "id": conversation.id,
        "object": "conversation.deleted",
        "deleted": True,
    }
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)
    with pytest.raises(openai.NotFoundError):
        client.conversations.delete(conversation.id)


def test_create_without_a_body_and_sdk_delete(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = http.post("/conversations")
    assert raw.status_code == 200, raw.text
    assert raw.json()["metadata"] == {} and raw.json()["object"] == "conversation"
    assert all_items(http, raw.json()["id"]) == []
    deleted = client.conversations.delete(raw.json()["id"])
    assert (deleted.id, deleted.object, deleted.deleted) == (
        raw.json()["id"],
        "conversation.deleted",
        True,
    )


def test_items_api(client: openai.OpenAI, http: httpx.Client) -> None:
    m = marker()
    conversation = client.conversations.create(items=[{"role": "user", "content": f"one {m}"}])
    added = http.post(
        f"/conversations/{conversation.id}/items",
        json={"items": [{"role": "assistant", "content": f"two {m}"}, message(f"three {m}")]},
    )
    assert added.status_code == 200, added.text
    page = added.json()
    assert sorted(page) == ["data", "first_id", "has_more", "last_id", "object"]
    assert (page["object"], page["has_more"]) == ("list", False)
    assert [text_of(i) for i in page["data"]] == [f"two {m}", f"three {m}"]
    assert (page["first_id"], page["last_id"]) == (page["data"][0]["id"], page["data"][1]["id"])
    # Stored as the hosted API lists them: ids, types, content parts in their full output
    # shape and a status.
    two = page["data"][0]
    assert two["id"].startswith("msg_")
    assert {k: v for k, v in two.items() if k != "id"} == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": f"two {m}", "annotations": [], "logprobs": []}],
        "status": "completed",
    }
    items = all_items(http, conversation.id)
    assert [text_of(i) for i in items] == [f"one {m}", f"two {m}", f"three {m}"]
    assert items[0]["content"] == [{"type": "input_text", "text": f"one {m}"}]
    assert items[1:] == page["data"]
    ids = [i["id"] for i in items]

    sdk_added = client.conversations.items.create(conversation.id, items=[message(f"four {m}")])
    assert sdk_added.first_id == sdk_added.last_id == sdk_added.data[0].id
    ids.append(sdk_added.data[0].id)
    newest = client.conversations.items.list(conversation.id, limit=2)
    assert [i.id for i in newest.data] == ids[::-1][:2]  # newest first by default
    assert newest.has_more is True and newest.last_id == ids[2]
    older = client.conversations.items.list(conversation.id, limit=2, after=ids[2])
    assert [i.id for i in older.data] == [ids[1], ids[0]] and older.has_more is False
    first = client.conversations.items.list(conversation.id, limit=1, order="asc")
    assert [i.id for i in first.data] == ids[:1] and first.has_more is True
    walked = client.conversations.items.list(conversation.id, limit=1, order="asc")
    assert [i.id for i in walked] == ids  # the SDK follows the cursor to the end

    item = client.conversations.items.retrieve(ids[1], conversation_id=conversation.id)
    assert item.model_dump(exclude_none=True) == two
    raw_item = http.get(f"/conversations/{conversation.id}/items/{ids[1]}")
    assert raw_item.json() == two
    after_delete = client.conversations.items.delete(ids[1], conversation_id=conversation.id)
    assert after_delete == client.conversations.retrieve(conversation.id)
    assert [i["id"] for i in all_items(http, conversation.id)] == [ids[0], *ids[2:]]
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(ids[1], conversation_id=conversation.id)


@pytest.mark.parametrize("by_object", [False, True], ids=["id", "object"])
def test_responses_continue_the_conversation(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder, by_object: bool
) -> None:
    m = marker()
    conversation = client.conversations.create(items=[message(f"first {m}")])
    client.conversations.items.create(conversation.id, items=[message(f"added {m}", "assistant")])
    history = all_items(http, conversation.id)
    param: Any = {"id": conversation.id} if by_object else conversation.id

    recorder.clear()
    resp = client.responses.create(model="m", input=f"ask {m}", conversation=param)
    assert resp.output_text == f"reply to: ask {m}"
    assert resp.conversation is not None and resp.conversation.id == conversation.id
    [sent] = backend_inputs(recorder)
    assert sent[:2] == history  # the conversation's items, then the new input
    assert len(sent) == 3 and text_of(sent[2]) == f"ask {m}"
    items = all_items(http, conversation.id)
    assert items[:3] == sent
    assert items[3:] == [resp.output[0].model_dump(exclude_none=True)]
    stored = http.get(f"/responses/{resp.id}").json()
    assert stored["conversation"] == {"id": conversation.id}

    # Several input items are added in order, after the previous turn.
    recorder.clear()
    turn = [message(f"rule {m}", "developer"), message(f"again {m}")]
    second = client.responses.create(model="m", input=turn, conversation=param)  # type: ignore[arg-type]
    [sent] = backend_inputs(recorder)
    assert sent[:4] == items
    assert [text_of(i) for i in sent[4:]] == [f"rule {m}", f"again {m}"]
    after = all_items(http, conversation.id)
    assert after[:6] == sent
    assert [text_of(i) for i in after[6:]] == [f"reply to: again {m}"]
    assert after[6]["id"] == second.output[0].id


def test_streaming_with_a_conversation(client: openai.OpenAI, http: httpx.Client) -> None:
    m = marker()
    conversation = client.conversations.create(items=[message(f"before {m}")])
    with client.responses.create(
        model="m", input=f"stream {m}", conversation=conversation.id, stream=True
    ) as stream:
        events = list(stream)
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.conversation is not None
    assert completed.response.conversation.id == conversation.id
    items = all_items(http, conversation.id)
    assert [text_of(i) for i in items] == [f"before {m}", f"stream {m}", f"reply to: stream {m}"]
    assert items[2] == completed.response.output[0].model_dump(exclude_none=True)


def sse_types(raw: str) -> list[str]:
    lines = [line for line in raw.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: "))["type"] for line in lines[:-1]]


@pytest.mark.parametrize(
    ("model", "stream", "status"),
    [("fail-500", False, 500), ("fail-400", False, 400), ("stream-fail", True, 200)],
)
def test_a_failed_response_adds_nothing(
    client: openai.OpenAI,
    http: httpx.Client,
    recorder: BackendRecorder,
    model: str,
    stream: bool,
    status: int,
) -> None:
    m = marker()
    conversation = client.conversations.create(items=[message(f"kept {m}")])
    before = all_items(http, conversation.id)
    recorder.clear()
    body = {"model": model, "input": f"lost {m}", "conversation": conversation.id}
    resp = http.post("/responses", json={**body, "stream": stream})
    assert resp.status_code == status, resp.text
    if stream:
        assert sse_types(resp.text)[-1] == "response.failed"
    [sent] = backend_inputs(recorder)  # the backend did get the conversation's items
    assert sent[:1] == before and text_of(sent[1]) == f"lost {m}"
    assert all_items(http, conversation.id) == before


def test_fifty_parallel_responses_into_one_conversation(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    m = marker()
    conversation = client.conversations.create()
    texts = [f"parallel {m} {n}" for n in range(50)]

    def ask(text: str) -> str:
        resp = client.responses.create(model="m", input=text, conversation=conversation.id)
        assert resp.output_text == f"reply to: {text}"
        return resp.output[0].id

    with ThreadPoolExecutor(max_workers=50) as pool:
        outputs = dict(zip(texts, pool.map(ask, texts), strict=True))
    items = all_items(http, conversation.id)
    assert len(items) == 100
    assert len({item["id"] for item in items}) == 100
    inputs = items[0::2]
    assert sorted(text_of(item) for item in inputs) == sorted(texts)
    for question, answer in zip(inputs, items[1::2], strict=True):
        # Every reply directly follows its own input: turns never interleave.
        assert question["role"] == "user" and answer["role"] == "assistant"
        assert text_of(answer) == f"reply to: {text_of(question)}"
        assert answer["id"] == outputs[text_of(question)]


# The backend's own answer to a path it does not serve.
BACKEND_404 = {
    "error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}
}


@pytest.mark.parametrize(
    "path",
    ["/conversations_foo", "/conversations_foo/conv_1/items", "/prompts_foo", "/responses_foo"],
)
def test_a_path_only_sharing_a_prefix_is_the_backends(
    http: httpx.Client, recorder: BackendRecorder, path: str
) -> None:
    resp = http.post(path, json={"n": 1})
    assert (resp.status_code, resp.json()) == (404, BACKEND_404)
    assert [(r.method, r.path, r.body) for r in recorder.requests] == [
        ("POST", f"/v1{path}", {"n": 1})
    ]


def test_a_path_only_sharing_a_prefix_skips_the_processor(
    redis_server: RedisServer, backend: BackendThread, recorder: BackendRecorder
) -> None:
    """It takes the generic route: the backend path rewrite, and no processor at all."""
    gateway = Stack(backend.url, redis_server.url)  # a backend without a path prefix
    try:
        gateway.start()
        gateway.sidecar.stop()
        recorder.clear()
        with checked_http(gateway.base_url, timeout=30) as raw:
            resp = raw.get("/conversations_foo", params={"limit": 1})
            assert (resp.status_code, resp.json()) == (404, BACKEND_404)
            assert [r.path for r in recorder.requests] == ["/conversations_foo?limit=1"]
            # The gateway's own paths need the processor, which is gone: they fail closed.
            for path in ("/conversations", "/conversations/conv_1", "/prompts/p.1"):
                assert raw.get(path).status_code == 503, path
            assert len(recorder.requests) == 1
    finally:
        gateway.stop()
