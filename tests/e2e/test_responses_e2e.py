"""The stateful Responses API end to end: SDK -> Envoy -> sidecar -> fake backend, Redis."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder

JSON = dict[str, Any]
STREAM_TYPES = [f"response.{name}" for name in (
    "created", "in_progress", "output_item.added", "content_part.added", "output_text.delta",
    "output_text.done", "content_part.done", "output_item.done", "completed",
)]  # fmt: skip


def marker() -> str:
    return uuid.uuid4().hex[:12]


def only_request(recorder: BackendRecorder) -> JSON:
    """The body of the one /v1/responses call the backend got in this test (since the
    recorder was last cleared)."""
    sent = [r for r in recorder.requests if r.path == "/v1/responses"]
    assert len(sent) == 1, [r.path for r in recorder.requests]
    body: JSON = sent[0].body
    return body


def text_of(item: JSON) -> str:
    content = item["content"]
    return content if isinstance(content, str) else "".join(p["text"] for p in content)


def texts(items: list[JSON]) -> list[str]:
    return [text_of(item) for item in items]


def user(text: str, role: str = "user") -> JSON:
    return {"role": role, "content": [{"type": "input_text", "text": text}]}


def collapse(types: list[str]) -> list[str]:
    return [t for i, t in enumerate(types) if i == 0 or t != types[i - 1]]


def test_create_with_string_input(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    m = marker()
    recorder.clear()
    resp = client.responses.create(
        model="m", input=f"hi {m}", metadata={"tag": m}, instructions="be brief"
    )
    assert resp.id.startswith("resp_")
    assert resp.status == "completed"
    assert resp.output_text == f"reply to: hi {m}"
    assert resp.store is True
    assert resp.metadata == {"tag": m}
    assert resp.previous_response_id is None
    assert resp.instructions == "be brief"
    sent = only_request(recorder)
    assert sent["store"] is False
    assert "metadata" not in sent and "previous_response_id" not in sent
    assert sent["instructions"] == "be brief"
    [item] = sent["input"]
    assert item["id"].startswith("msg_")
    assert {k: v for k, v in item.items() if k != "id"} == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": f"hi {m}"}],
        "status": "completed",
    }


def test_create_with_item_list_input(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    m = marker()
    items: list[Any] = [
        {"type": "message", "role": "developer", "content": f"rules {m}"},
        user(f"question {m}"),
    ]
    recorder.clear()
    resp = client.responses.create(model="m", input=items, store=True, metadata={"a": "1"})
    assert resp.id.startswith("resp_")
    assert resp.output_text == f"reply to: question {m}"
    assert (resp.store, resp.metadata, resp.previous_response_id) == (True, {"a": "1"}, None)
    sent = only_request(recorder)
    assert sent["store"] is False
    assert "metadata" not in sent and "previous_response_id" not in sent
    assert [(i["type"], i["role"]) for i in sent["input"]] == [
        ("message", "developer"),
        ("message", "user"),
    ]
    assert all(i["id"].startswith("msg_") for i in sent["input"])
    assert texts(sent["input"]) == [f"rules {m}", f"question {m}"]
    # String content arrives as content parts, and every message has a status.
    assert [i["content"] for i in sent["input"]] == [
        [{"type": "input_text", "text": f"rules {m}"}],
        [{"type": "input_text", "text": f"question {m}"}],
    ]
    assert [i["status"] for i in sent["input"]] == ["completed", "completed"]


def test_stream_with_sdk(client: openai.OpenAI) -> None:
    m = marker()
    with client.responses.create(
        model="m", input=f"stream {m}", metadata={"tag": m}, stream=True
    ) as stream:
        events = list(stream)
    assert collapse([e.type for e in events]) == STREAM_TYPES
    numbers = [e.sequence_number for e in events]
    assert all(a < b for a, b in itertools.pairwise(numbers))
    created, completed = events[0], events[-1]
    assert created.type == "response.created" and completed.type == "response.completed"
    assert created.response.id.startswith("resp_")
    assert created.response.metadata == completed.response.metadata == {"tag": m}
    assert completed.response.id == created.response.id
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == completed.response.output_text == f"reply to: stream {m}"
    stored = client.responses.retrieve(completed.response.id)
    assert stored.model_dump() == completed.response.model_dump()


@pytest.mark.parametrize("backend_done", [False, True])
def test_stream_raw_sse_framing(http: httpx.Client, backend_done: bool) -> None:
    body = {"model": "m", "input": f"raw {marker()}", "stream": True}
    # x-fake-done: the backend ends with its own `data: [DONE]`, which must not repeat.
    headers = {"x-fake-done": "1"} if backend_done else {}
    with http.stream("POST", "/responses", json=body, headers=headers) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = resp.read().decode()
    assert raw.endswith("data: [DONE]\n\n") and raw.count("[DONE]") == 1
    frames = [f for f in raw.split("\n\n") if f]
    assert frames[-1] == "data: [DONE]"
    types = []
    for frame in frames[:-1]:
        event, data = frame.split("\n")
        assert event.startswith("event: ") and data.startswith("data: ")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == event.removeprefix("event: ")
        types.append(payload["type"])
    assert collapse(types) == STREAM_TYPES


def test_stream_chunky_multibyte(client: openai.OpenAI) -> None:
    m = marker()
    with client.responses.create(model="chunky", input=f"ü {m}", stream=True) as stream:
        events = list(stream)
    expected = f"reply to: ü {m} — ünïcödé ✓"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == expected
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == expected
    assert client.responses.retrieve(events[-1].response.id).output_text == expected


def test_chain_with_tools_and_reasoning(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder
) -> None:
    m = marker()
    t1 = client.responses.create(model="m", input=f"weather? {m}", instructions="INSTR-ONE")
    t2 = client.responses.create(
        model="m",
        input='call get_weather {"city": "Paris"}',
        previous_response_id=t1.id,
        instructions="INSTR-TWO",
    )
    call = t2.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    output = {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'}
    reply = http.post(
        "/responses",
        json={"model": "fake-reasoning", "previous_response_id": t2.id, "input": [output]},
    )
    assert reply.status_code == 200, reply.text
    t3 = reply.json()
    assert [i["type"] for i in t3["output"]] == ["reasoning", "message"]
    assert text_of(t3["output"][1]) == 'tool said: {"temp": 21}'
    recorder.clear()
    t4 = client.responses.create(
        model="m", input=f"thanks {m}", previous_response_id=t3["id"], instructions="INSTR-FOUR"
    )
    assert t4.output_text == f"reply to: thanks {m}"
    sent = only_request(recorder)
    replay = sent["input"]
    kinds = "message message message function_call function_call_output reasoning message message"
    assert [i["type"] for i in replay] == kinds.split()
    roles = [i["role"] for i in replay if i["type"] == "message"]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert text_of(replay[0]) == f"weather? {m}"
    assert text_of(replay[1]) == f"reply to: weather? {m}"
    assert text_of(replay[2]) == 'call get_weather {"city": "Paris"}'
    assert {k: replay[3][k] for k in ("id", "call_id", "name", "arguments")} == {
        "id": call.id,
        "call_id": call.call_id,
        "name": "get_weather",
        "arguments": call.arguments,
    }
    assert {k: replay[4][k] for k in ("type", "call_id", "output")} == output
    assert replay[5] == t3["output"][0]  # reasoning replayed byte for byte
    assert replay[6] == t3["output"][1]
    assert text_of(replay[7]) == f"thanks {m}"
    assert replay[0]["id"] == client.responses.input_items.list(t1.id).data[0].id
    assert sent["instructions"] == "INSTR-FOUR"
    assert "INSTR-ONE" not in json.dumps(sent) and "INSTR-TWO" not in json.dumps(sent)


def test_streaming_chain(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    m = marker()
    first = client.responses.create(model="m", input=f"first {m}")
    recorder.clear()
    with client.responses.create(
        model="m", input=f"second {m}", previous_response_id=first.id, stream=True
    ) as stream:
        events = list(stream)
    done = events[-1]
    assert done.type == "response.completed"
    assert done.response.previous_response_id == first.id
    sent = only_request(recorder)
    assert sent["stream"] is True
    assert texts(sent["input"]) == [f"first {m}", f"reply to: first {m}", f"second {m}"]
    stored = client.responses.retrieve(done.response.id)
    assert stored.previous_response_id == first.id
    assert stored.output_text == f"reply to: second {m}"
    recorder.clear()
    client.responses.create(model="m", input=f"third {m}", previous_response_id=stored.id)
    assert len(only_request(recorder)["input"]) == 5


@pytest.mark.parametrize("stream", [False, True])
def test_store_false_is_not_retrievable(client: openai.OpenAI, stream: bool) -> None:
    m = marker()
    if stream:
        with client.responses.create(model="m", input=m, store=False, stream=True) as events:
            resp = list(events)[-1].response
    else:
        resp = client.responses.create(model="m", input=m, store=False)
    assert resp.store is False and resp.output_text == f"reply to: {m}"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(resp.id)
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model="m", input="next", previous_response_id=resp.id)
    assert error.value.code == "previous_response_not_found"
    assert error.value.param == "previous_response_id"


def test_retrieve_equals_create(client: openai.OpenAI) -> None:
    created = client.responses.create(
        model="m", input=f"keep {marker()}", metadata={"k": "v"}, instructions="x", temperature=0.5
    )
    retrieved = client.responses.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()
    assert retrieved.output_text == created.output_text


def test_delete(client: openai.OpenAI, http: httpx.Client) -> None:
    created = client.responses.create(model="m", input=f"bye {marker()}")
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(created.id)
    other = client.responses.create(model="m", input=f"bye {marker()}")
    raw = http.delete(f"/responses/{other.id}")
    assert raw.status_code == 200
    assert raw.json() == {"id": other.id, "object": "response", "deleted": True}


def test_input_items_paging(client: openai.OpenAI) -> None:
    m = marker()
    roles = ["developer", "user", "system", "user", "developer", "user", "user"]
    items: list[Any] = [user(f"item {i} {m}", role) for i, role in enumerate(roles)]
    resp = client.responses.create(model="m", input=items)
    expected = [f"item {i} {m}" for i in range(7)]
    seen: list[Any] = []
    after: str | None = None
    for size, more in ((3, True), (3, True), (1, False)):
        kwargs: Any = {"after": after} if after else {}
        page = client.responses.input_items.list(resp.id, limit=3, order="asc", **kwargs)
        assert len(page.data) == size and page.has_more is more
        seen += page.data
        after = page.data[-1].id
    assert [text_of(i.model_dump()) for i in seen] == expected
    assert [i.model_dump()["role"] for i in seen] == roles
    assert len({i.id for i in seen}) == 7
    newest_first = client.responses.input_items.list(resp.id)
    assert [i.id for i in newest_first.data] == [i.id for i in reversed(seen)]
    assert newest_first.has_more is False


def test_chained_input_items_are_own_input(client: openai.OpenAI) -> None:
    m = marker()
    first = client.responses.create(model="m", input=f"one {m}")
    second = client.responses.create(model="m", input=f"two {m}", previous_response_id=first.id)
    listed = client.responses.input_items.list(second.id).data
    assert [text_of(i.model_dump()) for i in listed] == [f"two {m}"]


def test_branches_see_only_their_history(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    m = marker()
    root = client.responses.create(model="m", input=f"root {m}")
    base = [f"root {m}", f"reply to: root {m}"]
    left = client.responses.create(model="m", input=f"left {m}", previous_response_id=root.id)
    right = client.responses.create(model="m", input=f"right {m}", previous_response_id=root.id)
    # The root is continued a third time after both branches exist.
    for branch, own in ((left, ["left"]), (right, ["right"]), (root, [])):
        recorder.clear()
        client.responses.create(model="m", input=f"more {m}", previous_response_id=branch.id)
        history = [text for name in own for text in (f"{name} {m}", f"reply to: {name} {m}")]
        assert texts(only_request(recorder)["input"]) == [*base, *history, f"more {m}"]


def test_deleting_middle_keeps_later_chainable(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    m = marker()
    first = client.responses.create(model="m", input=f"a {m}")
    middle = client.responses.create(model="m", input=f"b {m}", previous_response_id=first.id)
    last = client.responses.create(model="m", input=f"c {m}", previous_response_id=middle.id)
    client.responses.delete(middle.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="m", input="x", previous_response_id=middle.id)
    recorder.clear()
    client.responses.create(model="m", input=f"d {m}", previous_response_id=last.id)
    replayed = texts(only_request(recorder)["input"])
    assert replayed == [f"{w}{s} {m}" for s in "abc" for w in ("", "reply to: ")] + [f"d {m}"]
