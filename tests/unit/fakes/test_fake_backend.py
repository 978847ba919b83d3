"""Tests for the scripted fake /v1/responses backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.fake_backend import BackendRecorder, BackendThread


@pytest.fixture
def backend_http(backend: BackendThread) -> Iterator[httpx.Client]:
    """Raw HTTP straight to the session's fake backend."""
    with httpx.Client(base_url=backend.url, timeout=10) as c:
        yield c


def _events(resp: httpx.Response) -> list[dict[str, Any]]:
    raw = resp.read().decode()
    out = []
    for block in raw.split("\n\n"):
        if block.startswith("event: "):
            name, data = block.split("\n", 1)
            ev = json.loads(data.removeprefix("data: "))
            assert ev["type"] == name.removeprefix("event: ")
            out.append(ev)
    return out


def test_json_reply(backend_http: httpx.Client) -> None:
    r = backend_http.post("/v1/responses", json={"model": "m", "input": "hello", "store": False})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "response" and body["status"] == "completed"
    assert body["id"].startswith("resp_") and len(body["id"]) == 37
    assert body["store"] is False and body["tools"] == [] and body["temperature"] == 1.0
    assert body["output"][0]["content"][0]["text"] == "reply to: hello"
    assert body["usage"]["total_tokens"] == body["usage"]["input_tokens"] + 3
    items = [{"type": "function_call_output", "call_id": "c", "output": "sunny"}]
    r = backend_http.post("/responses", json={"model": "m", "input": items})
    assert r.json()["output"][0]["content"][0]["text"] == "tool said: sunny"


def test_summary_request(backend_http: httpx.Client) -> None:
    """Asked to summarise (as the gateway compacts), it counts the items before the ask."""
    items = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "Summarise the conversation above."},
    ]
    body = {"model": "m", "input": items, "instructions": "Summarise the conversation so far."}
    r = backend_http.post("/v1/responses", json=body)
    assert r.json()["output"][0]["content"][0]["text"] == "SUMMARY: 2 items"


def test_function_call_and_reasoning(backend_http: httpx.Client) -> None:
    msg = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": 'call get_weather {"city": "Paris"}'}],
    }
    r = backend_http.post("/v1/responses", json={"model": "fake-reasoning", "input": [msg]})
    reasoning, call = r.json()["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["content"][0]["text"].startswith("thinking about call get_weather")
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert call["arguments"] == '{"city": "Paris"}'
    assert call["id"].startswith("fc_") and call["call_id"].startswith("call_")


def test_echo_id(backend_http: httpx.Client) -> None:
    msg = {"type": "message", "role": "user", "content": "hi", "id": "has.dot"}
    r = backend_http.post("/v1/responses", json={"model": "fake-echo-id", "input": [msg]})
    [reply] = r.json()["output"]
    assert reply["id"] == "has.dot" and reply["content"][0]["text"] == "reply to: hi"
    req = {"model": "fake-echo-id", "input": [msg], "stream": True}
    with backend_http.stream("POST", "/v1/responses", json=req) as streamed:
        events = _events(streamed)
    assert {e["item_id"] for e in events if "item_id" in e} == {"has.dot"}
    assert events[-1]["response"]["output"][0]["id"] == "has.dot"
    # Without an id to take, the message has one of its own.
    r = backend_http.post("/v1/responses", json={"model": "fake-echo-id", "input": "hi"})
    assert r.json()["output"][0]["id"].startswith("msg_")


def test_errors(backend_http: httpx.Client) -> None:
    r = backend_http.get("/nope")
    assert r.status_code == 404 and r.json()["error"]["message"] == "not found"
    r = backend_http.post("/v1/responses", json={"model": "fail-400", "input": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "model_not_found"
    r = backend_http.post("/v1/responses", json={"model": "fail-plain", "input": "x"})
    assert r.status_code == 500 and r.text == "boom"


def test_streaming_order(backend_http: httpx.Client) -> None:
    req = {"model": "m", "input": "one two three", "stream": True}
    with backend_http.stream("POST", "/v1/responses", json=req, headers={"x-fake-done": "1"}) as r:
        assert r.headers["content-type"] == "text/event-stream"
        raw = r.read()
    assert raw.endswith(b"data: [DONE]\n\n")
    events = _events(httpx.Response(200, content=raw))
    types = [e["type"] for e in events]
    head = ["response.created", "response.in_progress", "response.output_item.added"]
    head.append("response.content_part.added")
    tail = ["response.output_text.done", "response.content_part.done"]
    tail += ["response.output_item.done", "response.completed"]
    assert types[:4] == head and types[-4:] == tail
    assert set(types[4:-4]) == {"response.output_text.delta"}
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["response"]["status"] == "in_progress"
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == "reply to: one two three"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == deltas


def test_chunky_reassembly(backend_http: httpx.Client) -> None:
    req = {"model": "chunky", "input": "héllo", "stream": True}
    with backend_http.stream("POST", "/v1/responses", json=req) as r:
        pieces = list(r.iter_raw())
    assert len(pieces) > 10
    events = _events(httpx.Response(200, content=b"".join(pieces)))
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "reply to: héllo — ünïcödé ✓"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == text


def test_recorded_requests(recorder: BackendRecorder, backend_http: httpx.Client) -> None:
    backend_http.post("/v1/responses", json={"model": "m", "input": "x"}, headers={"X-Tag": "t"})
    (rec,) = recorder.requests
    assert (rec.method, rec.path, rec.headers["x-tag"]) == ("POST", "/v1/responses", "t")
    assert rec.body == {"model": "m", "input": "x"}


def test_a_recorder_sees_only_requests_made_while_attached(
    backend: BackendThread, backend_http: httpx.Client
) -> None:
    def send(text: str) -> None:
        backend_http.post("/v1/responses", json={"model": "m", "input": text})

    send("before")
    with backend.recording() as outer:
        send("one")
        with backend.recording() as inner:
            send("two")
        send("three")
        outer.clear()
        send("four")
    send("after")
    assert [r.body["input"] for r in inner.requests] == ["two"]
    assert [r.body["input"] for r in outer.requests] == ["four"]


def test_context_windows_as_vllm_enforces_them(backend_http: httpx.Client) -> None:
    fits = backend_http.post("/v1/responses", json={"model": "ctx-10-a", "input": "a b c"})
    assert fits.status_code == 200
    words = " ".join(["w"] * 11)
    over = backend_http.post("/v1/responses", json={"model": "ctx-10-a", "input": words})
    assert over.status_code == 400
    error = over.json()
    assert error["object"] == "error" and error["type"] == "BadRequestError"
    assert error["message"].startswith(
        "This model's maximum context length is 10 tokens. However, your request has 11 input"
    )
    body = {"model": "ctx-10", "input": "a b c", "max_output_tokens": 8}
    too_long = backend_http.post("/v1/responses", json=body)
    assert "your request has 3 input tokens (8 > 10 - 3)" in too_long.json()["message"]


def test_models_and_tokenize(backend_http: httpx.Client) -> None:
    listed = {m["id"]: m["max_model_len"] for m in backend_http.get("/v1/models").json()["data"]}
    assert listed["ctx-60"] == 60
    counted = backend_http.post("/tokenize", json={"model": "ctx-60-x", "prompt": "a b  c\nd"})
    assert counted.json() == {"count": 4, "max_model_len": 60, "tokens": [0, 1, 2, 3]}
    missing = backend_http.post("/tokenize", json={"model": "ctx-60-notok", "prompt": "a"})
    assert missing.status_code == 404
