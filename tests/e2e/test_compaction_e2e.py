"""Compaction end to end: the official SDK -> Envoy -> sidecar -> Redis, against the fake
backend (which answers a summary request with `SUMMARY: <n> items`).

`client.responses.compact` returns the recent user messages and a sealed compaction
item; passing that back (as input, through a chain or in a conversation) sends the
backend the summary in its place and nothing before it. `context_management` and a
`compaction_trigger` item compact on create, the compaction item leading the output.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import openai
import orjson
import pytest
from support.fake_backend import BackendRecorder
from support.mcp_servers import McpServerProcess

JSON = dict[str, Any]
SUMMARY = "Summary of the earlier conversation:\n"
MANAGED = [{"type": "compaction", "compact_threshold": 1000}]


def message(text: str, role: str = "user") -> JSON:
    part = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def text_of(item: JSON) -> str:
    return "".join(part["text"] for part in item["content"])


def dumped(items: Any) -> list[JSON]:
    # The SDK reads the kept user messages as output messages (as it does the hosted
    # API's), whose schema does not expect `input_text` parts: it warns, nothing more.
    return [item.model_dump(exclude_none=True, warnings=False) for item in items]


def backend_calls(recorder: BackendRecorder) -> tuple[list[JSON], list[JSON]]:
    """(summary requests, model requests) the backend got in this test, oldest first."""
    bodies = [r.body for r in recorder.requests if r.path == "/v1/responses"]
    for body in bodies:  # the backend never sees a compaction item or trigger
        assert b'"type":"compaction' not in orjson.dumps(body)
        assert "context_management" not in body
    asked = [b for b in bodies if str(b.get("instructions")).startswith("Summarise")]
    return asked, [b for b in bodies if b not in asked]


def seen(body: JSON) -> list[tuple[str, str]]:
    return [(item["role"], text_of(item)) for item in body["input"]]


def test_compact_then_continue_from_its_output_and_the_chain(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    m = uuid.uuid4().hex[:8]
    compacted = client.responses.compact(
        model="fake-model",
        input=[
            message(f"plan the trip {m}"),
            message("Here is a plan: ...", "assistant"),
            message(f"add a museum {m}"),
            message("Added the museum.", "assistant"),
        ],
    )
    assert compacted.object == "response.compaction" and compacted.created_at > 0
    *kept, item = compacted.output
    assert [text_of(k) for k in dumped(kept)] == [f"plan the trip {m}", f"add a museum {m}"]
    assert item.type == "compaction" and item.id.startswith("cmp_")
    assert m not in item.encrypted_content and "SUMMARY" not in item.encrypted_content
    assert compacted.usage.total_tokens > 0
    [asked], _ = backend_calls(recorder)
    assert len(asked["input"]) == 5  # the four items, then the request for a summary

    recorder.clear()
    following = [*dumped(compacted.output), message(f"and lunch? {m}")]
    response = client.responses.create(model="fake-model", input=following)
    assert response.output_text == f"reply to: and lunch? {m}"
    listed = client.responses.input_items.list(response.id, order="asc").data
    assert [i.type for i in listed] == ["message", "message", "compaction", "message"]
    assert listed[2].id == item.id  # stored as the client sent it
    asked, [sent] = backend_calls(recorder)
    assert asked == []
    assert seen(sent) == [
        ("developer", SUMMARY + "SUMMARY: 4 items"),
        ("user", f"plan the trip {m}"),
        ("user", f"add a museum {m}"),
        ("user", f"and lunch? {m}"),
    ]

    recorder.clear()
    later = client.responses.create(
        model="fake-model", input="and dinner?", previous_response_id=response.id
    )
    _, [sent] = backend_calls(recorder)
    assert seen(sent) == [
        ("developer", SUMMARY + "SUMMARY: 4 items"),
        ("user", f"plan the trip {m}"),
        ("user", f"add a museum {m}"),
        ("user", f"and lunch? {m}"),
        ("assistant", f"reply to: and lunch? {m}"),
        ("user", "and dinner?"),
    ]
    assert later.output_text == "reply to: and dinner?"


def test_a_conversation_compacts_past_the_threshold_and_continues(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder
) -> None:
    m = uuid.uuid4().hex[:8]
    conversation = client.conversations.create()
    long = f"{m} " + "many words " * 400
    client.responses.create(model="fake-model", input=long, conversation=conversation.id)
    client.responses.create(model="fake-model", input=long, conversation=conversation.id)
    recorder.clear()
    compacting = client.responses.create(
        model="fake-model",
        input=f"what now {m}",
        conversation=conversation.id,
        context_management=MANAGED,  # type: ignore[list-item]
    )
    first, answer = compacting.output
    assert first.type == "compaction" and answer.type == "message"
    assert compacting.output_text == f"reply to: what now {m}"
    [asked], [sent] = backend_calls(recorder)
    assert len(asked["input"]) == 6  # five items, then the request for a summary
    # The long messages are over what a compaction keeps at this threshold.
    assert seen(sent) == [("developer", SUMMARY + "SUMMARY: 5 items"), ("user", f"what now {m}")]
    items = http.get(f"/conversations/{conversation.id}/items", params={"order": "asc"}).json()
    assert [i["type"] for i in items["data"]][-3:] == ["message", "compaction", "message"]

    recorder.clear()
    client.responses.create(model="fake-model", input="and then?", conversation=conversation.id)
    asked, [sent] = backend_calls(recorder)
    assert asked == []  # below the threshold now (and no context_management on this turn)
    assert seen(sent) == [
        ("developer", SUMMARY + "SUMMARY: 5 items"),
        ("user", f"what now {m}"),
        ("assistant", f"reply to: what now {m}"),
        ("user", "and then?"),
    ]


def test_a_trigger_compacts_a_streamed_response(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    first = client.responses.create(model="fake-model", input="one")
    with client.responses.stream(
        model="fake-model",
        input=[message("two"), {"type": "compaction_trigger"}],  # type: ignore[list-item]
        previous_response_id=first.id,
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    numbers = [event.sequence_number for event in events]
    assert numbers == list(range(len(events)))
    kinds = [(event.type, getattr(event, "output_index", None)) for event in events]
    assert kinds[:4] == [
        ("response.created", None),
        ("response.in_progress", None),
        ("response.output_item.added", 0),
        ("response.output_item.done", 0),
    ]
    assert ("response.output_item.added", 1) in kinds and kinds[-1][0] == "response.completed"
    assert [item.type for item in final.output] == ["compaction", "message"]
    assert final.output_text == "reply to: two"
    stored = client.responses.retrieve(final.id)
    assert [item.type for item in stored.output] == ["compaction", "message"]
    assert stored.output[0].id == final.output[0].id
    [asked], [_, sent] = backend_calls(recorder)
    assert len(asked["input"]) == 4  # one, its answer, two, then the request
    summary = ("developer", SUMMARY + "SUMMARY: 3 items")
    assert seen(sent) == [summary, ("user", "one"), ("user", "two")]  # short: both kept


def test_foreign_or_altered_compaction_items_are_refused(
    client: openai.OpenAI, stranger: httpx.Client, http: httpx.Client, recorder: BackendRecorder
) -> None:
    compacted = client.responses.compact(model="fake-model", input="remember the code 1234")
    item = dumped(compacted.output)[-1]
    recorder.clear()
    # Another tenant cannot use it, whether as input or to compact again.
    for path, body in (
        ("/responses", {"model": "fake-model", "input": [item, message("go on")]}),
        ("/responses/compact", {"model": "fake-model", "input": [item]}),
    ):
        answer = stranger.post(path, json=body)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_value")
        assert error["param"] == "input[0].encrypted_content"
    token = item["encrypted_content"]
    altered = {
        **item,
        "encrypted_content": token[:10] + ("A" if token[10] != "A" else "B") + token[11:],
    }
    answer = http.post("/responses", json={"model": "fake-model", "input": [altered]})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_value"
    assert recorder.requests == []  # refused before the backend


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "context_management": [{"type": "compaction", "compact_threshold": 10}]},
         "context_management[0].compact_threshold"),
        ({"input": [{"type": "compaction_trigger"}, {"role": "user", "content": "x"}]},
         "input[0]"),
        ({"input": [{"type": "compaction", "encrypted_content": "forged"}]},
         "input[0].encrypted_content"),
    ],
)  # fmt: skip
def test_bad_compaction_requests_get_openai_errors(
    http: httpx.Client, recorder: BackendRecorder, body: JSON, param: str
) -> None:
    answer = http.post("/responses", json={"model": "fake-model", **body})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert set(error) == {"message", "type", "param", "code"}
    assert recorder.requests == []


def test_compact_refuses_what_it_cannot_compact(
    http: httpx.Client, recorder: BackendRecorder
) -> None:
    for body, param, status in (
        ({"model": "fake-model"}, "input", 400),
        ({"input": "x"}, "model", 400),
        (
            {"model": "fake-model", "previous_response_id": "resp_unknown"},
            "previous_response_id",
            400,
        ),
    ):
        answer = http.post("/responses/compact", json=body)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["param"] == param
    answer = http.post("/responses/compact", json={"model": "fail-400", "input": "x"})
    assert answer.status_code == 400  # the backend's own error, relayed
    assert answer.json()["error"]["code"] == "model_not_found"
    answer = http.post("/responses/compact", json={"model": "fail-500", "input": "x"})
    assert answer.status_code == 500
    assert answer.json()["error"]["message"] == "internal failure"
    assert len(recorder.requests) == 2


@pytest.mark.parametrize("streamed", [False, True])
def test_a_compaction_leads_a_tool_loop_and_its_chain_continues(
    sdk: openai.OpenAI,
    servers: dict[str, McpServerProcess],
    recorder: BackendRecorder,
    streamed: bool,
) -> None:
    tool = {"type": "mcp", "server_label": "calc", "server_url": servers["healthy"].url}
    tool["require_approval"] = "never"
    ask = [message('call calc__add {"a": 2, "b": 40}'), {"type": "compaction_trigger"}]
    if streamed:
        with sdk.responses.stream(model="m", input=ask, tools=[tool]) as stream:  # type: ignore[arg-type, list-item]
            events = list(stream)
            response = stream.get_final_response()
        assert [e.sequence_number for e in events] == list(range(len(events)))
        added = [e.item.type for e in events if e.type == "response.output_item.added"]
        assert added == ["compaction", "mcp_list_tools", "mcp_call", "message"]
    else:
        response = sdk.responses.create(model="m", input=ask, tools=[tool])  # type: ignore[arg-type, list-item]
    kinds = [item.type for item in response.output]
    assert kinds == ["compaction", "mcp_list_tools", "mcp_call", "message"]
    assert response.output_text == "tool said: 42"
    [asked], turns = backend_calls(recorder)
    assert len(asked["input"]) == 2  # the user's message, then the request for a summary
    assert seen(turns[0]) == [
        ("developer", SUMMARY + "SUMMARY: 1 items"),
        ("user", 'call calc__add {"a": 2, "b": 40}'),
    ]
    recorder.clear()
    sdk.responses.create(model="m", input="thanks", previous_response_id=response.id, tools=[tool])  # type: ignore[arg-type, list-item]
    _, [sent] = backend_calls(recorder)
    assert [item.get("role") or item["type"] for item in sent["input"]] == [
        "developer",
        "user",
        "function_call",
        "function_call_output",
        "assistant",
        "user",
    ]
