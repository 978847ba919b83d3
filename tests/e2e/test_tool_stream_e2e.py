"""Server-side tools (`mcp`, `file_search`) with `stream: true`, end to end.

Real Envoy, sidecar and Redis, real MCP servers (tests/support/mcp_servers.py), the scripted fake
model, driven with the official SDK so it parses every event. The client must get one
continuous stream for the whole tool loop: the tools' own items and events in place of
the backend's internal function calls, numbered without gaps, then the follow-up turn's
events, and one terminal event for the whole response.

The gateway here has a Redis of its own: its ingestion worker (file_search tests upload
files) must not share a job stream with another test stack's worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import openai
import pytest
from openai.types.responses import ToolParam
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import Stack
from support.mcp_servers import McpServerProcess
from support.served_bodies import checked_http, checked_sdk
from support.vector_fixtures import private_stack, upload, wait_ingested, word

ADD = 'call calc__add {"a": 2, "b": 40}'
ADD_ARGUMENTS = {"a": 2, "b": 40}
OPENING = ["response.created", "response.in_progress"]
LIST_EVENTS = [
    "response.output_item.added",
    "response.mcp_list_tools.in_progress",
    "response.mcp_list_tools.completed",
    "response.output_item.done",
]
CALL_EVENTS = [
    "response.output_item.added",
    "response.mcp_call_arguments.delta",
    "response.mcp_call_arguments.done",
    "response.mcp_call.in_progress",
    "response.mcp_call.completed",
    "response.output_item.done",
]
LIFECYCLE = {
    "response.created",
    "response.in_progress",
    "response.completed",
    "response.failed",
    "response.incomplete",
}


def message_events(deltas: int) -> list[str]:
    return [
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]


# The fake model streams its answer a word at a time: "tool said: 42" is three deltas.
ANSWER_EVENTS = message_events(3)


@pytest.fixture(scope="module")
def stream_gateway(backend: BackendThread) -> Iterator[Stack]:
    with private_stack(
        f"{backend.url}/v1", mcp_allowed_hosts="127.0.0.1", mcp_timeout_seconds="2"
    ) as stack:
        yield stack


@pytest.fixture
def stream_sdk(stream_gateway: Stack, key: str) -> Iterator[openai.OpenAI]:
    """The SDK on this module's gateway, as the test's own tenant."""
    with checked_sdk(stream_gateway.base_url, api_key=key, max_retries=0) as client:
        yield client


def mcp_tool(server: McpServerProcess, label: str, **extra: Any) -> ToolParam:
    """An inline MCP tool whose calls run without approval unless the test says so."""
    extra.setdefault("require_approval", "never")
    return cast(
        ToolParam, {"type": "mcp", "server_label": label, "server_url": server.url, **extra}
    )


def stream(client: openai.OpenAI, **kwargs: Any) -> list[Any]:
    """Every event of a streamed create, as the SDK parsed them (the stream must end)."""
    kwargs.setdefault("model", "m")
    return list(client.responses.create(stream=True, **kwargs))


def types(events: list[Any]) -> list[str]:
    return [event.type for event in events]


def check_numbering(events: list[Any]) -> None:
    assert [event.sequence_number for event in events] == list(range(len(events)))


def check_one_response(events: list[Any]) -> str:
    """Every lifecycle event carries the same response, the gateway's; its id."""
    ids = {event.response.id for event in events if event.type in LIFECYCLE}
    assert len(ids) == 1, ids
    [response_id] = ids
    assert response_id.startswith("resp_")
    return str(response_id)


def of_type(events: list[Any], kind: str) -> list[Any]:
    return [event for event in events if event.type == kind]


def item_events(events: list[Any], kind: str) -> tuple[Any, Any]:
    """The output_item.added and output_item.done events of the one item of a kind."""
    [added] = [e for e in of_type(events, "response.output_item.added") if e.item.type == kind]
    [done] = [e for e in of_type(events, "response.output_item.done") if e.item.type == kind]
    return added, done


def without_ids(value: Any) -> Any:
    """An output item's JSON shape with its (random) ids left out."""
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def raw_stream(gateway: Stack, key: str, body: dict[str, Any]) -> tuple[str, list[str]]:
    """A streamed create over plain HTTP: the content type and the SSE blocks."""
    headers = {"authorization": f"Bearer {key}"}
    with (
        checked_http(gateway.base_url, headers=headers, timeout=30) as http,
        http.stream("POST", "/responses", json={**body, "stream": True}) as answer,
    ):
        assert answer.status_code == 200
        text = answer.read().decode()
        content_type = answer.headers["content-type"]
    return content_type, [block for block in text.split("\n\n") if block.strip()]


def check_wire(blocks: list[str]) -> list[dict[str, Any]]:
    """Every block but the last is `event: <type>` + `data: <json>` naming the same type;
    the last is `data: [DONE]`. The events' payloads."""
    assert blocks[-1] == "data: [DONE]"
    payloads = []
    for block in blocks[:-1]:
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(fields) == {"event", "data"}, block
        payload = json.loads(fields["data"])
        assert payload["type"] == fields["event"]
        payloads.append(payload)
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    return payloads


# ---------------------------------------------------------------- mcp, the whole loop


def test_mcp_call_streams_as_one_response(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    tool = mcp_tool(servers["healthy"], "calc")
    events = stream(stream_sdk, input=ADD, tools=[tool])

    assert types(events) == [
        *OPENING,
        *LIST_EVENTS,
        *CALL_EVENTS,
        *ANSWER_EVENTS,
        "response.completed",
    ]
    check_numbering(events)
    response_id = check_one_response(events)
    opened = events[0].response
    assert (opened.status, opened.output) == ("in_progress", [])

    # The client's items: the tool list at 0, the call at 1, the answer at 2.
    listed_added, listed_done = item_events(events, "mcp_list_tools")
    call_added, call_done = item_events(events, "mcp_call")
    message_added, message_done = item_events(events, "message")
    listed_id, call_id, message_id = listed_done.item.id, call_done.item.id, message_done.item.id
    assert len({listed_id, call_id, message_id}) == 3
    assert (listed_added.item.id, call_added.item.id) == (listed_id, call_id)
    assert message_added.item.id == message_id
    where = {0: listed_id, 1: call_id, 2: message_id}
    for event in events:
        if event.type in LIFECYCLE:
            continue
        assert event.output_index in where, event
        item_id = event.item.id if "output_item" in event.type else event.item_id
        assert item_id == where[event.output_index], event
    assert listed_added.item.tools == []
    assert {t.name for t in listed_done.item.tools} == {"add", "echo", "whoami"}
    assert listed_done.item.server_label == "calc"

    started = call_added.item
    assert (started.status, started.name, started.server_label) == ("in_progress", "add", "calc")
    assert (started.arguments, started.output, started.error) == ("", None, None)
    [delta] = of_type(events, "response.mcp_call_arguments.delta")
    [arguments] = of_type(events, "response.mcp_call_arguments.done")
    assert json.loads(delta.delta) == json.loads(arguments.arguments) == ADD_ARGUMENTS
    call = call_done.item
    assert (call.status, call.name, call.output, call.error) == ("completed", "add", "42", None)
    assert json.loads(call.arguments) == ADD_ARGUMENTS

    deltas = of_type(events, "response.output_text.delta")
    assert "".join(d.delta for d in deltas) == "tool said: 42"
    [text_done] = of_type(events, "response.output_text.done")
    assert text_done.text == "tool said: 42"

    # The backend's function call never reaches the client, not even by name.
    for event in events:
        raw = event.model_dump_json()
        assert "function_call" not in raw, raw
        assert "calc__add" not in raw, raw

    final = events[-1].response
    assert final.status == "completed"
    assert [item.type for item in final.output] == ["mcp_list_tools", "mcp_call", "message"]
    assert [item.id for item in final.output] == [listed_id, call_id, message_id]
    assert final.output[1].model_dump() == call.model_dump()
    assert final.output_text == "tool said: 42"
    assert [t.model_dump(exclude_none=True) for t in final.tools] == [tool]
    stored = stream_sdk.responses.retrieve(response_id)
    assert stored.model_dump() == final.model_dump()

    # Both turns were streamed from the backend; the second carries the call and its output.
    first, second = (r.body for r in recorder.requests)
    assert first["stream"] is True and second["stream"] is True
    assert [i["type"] for i in second["input"][-2:]] == ["function_call", "function_call_output"]
    fc, fco = second["input"][-2:]
    assert (fc["name"], json.loads(fc["arguments"])) == ("calc__add", ADD_ARGUMENTS)
    assert (fco["call_id"], fco["output"]) == (fc["call_id"], "42")

    # The same request without streaming gives the same response, ids aside.
    recorder.clear()
    buffered = stream_sdk.responses.create(model="m", input=ADD, tools=[tool])
    assert without_ids(buffered.model_dump()["output"]) == without_ids(final.model_dump()["output"])
    assert buffered.usage is not None and final.usage is not None
    assert buffered.usage.model_dump() == final.usage.model_dump()
    assert all(r.body.get("stream") is not True for r in recorder.requests)


def test_mcp_stream_through_the_sdk_stream_helper(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess]
) -> None:
    # The helper rebuilds the response from the events and checks every item's identity
    # from `added` to `done` to the final response.
    tool = mcp_tool(servers["healthy"], "calc")
    with stream_sdk.responses.stream(model="m", input=ADD, tools=[tool]) as helper:
        seen = [event.type for event in helper]
        final = helper.get_final_response()
    assert seen[-1] == "response.completed"
    assert [item.type for item in final.output] == ["mcp_list_tools", "mcp_call", "message"]
    assert final.output_text == "tool said: 42"


def test_mcp_stream_on_the_wire(
    stream_gateway: Stack, key: str, servers: dict[str, McpServerProcess]
) -> None:
    content_type, blocks = raw_stream(
        stream_gateway,
        key,
        {"model": "m", "input": ADD, "tools": [mcp_tool(servers["healthy"], "calc")]},
    )
    assert content_type.startswith("text/event-stream")
    payloads = check_wire(blocks)
    assert [p["type"] for p in payloads] == [
        *OPENING,
        *LIST_EVENTS,
        *CALL_EVENTS,
        *ANSWER_EVENTS,
        "response.completed",
    ]


def test_failing_mcp_tool_streams_mcp_call_failed(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess]
) -> None:
    events = stream(
        stream_sdk,
        input='call boom__explode {"reason": "on purpose"}',
        tools=[mcp_tool(servers["failing"], "boom")],
    )
    _, done = item_events(events, "mcp_call")
    call = done.item
    assert (call.status, call.name, call.output) == ("failed", "explode", None)
    assert call.model_dump()["error"] == {
        "type": "mcp_tool_execution_error",
        "content": [{"type": "text", "text": "Error executing tool explode: on purpose"}],
    }
    said = "tool said: Error: Error executing tool explode: on purpose"
    failed_call = [*CALL_EVENTS[:4], "response.mcp_call.failed", "response.output_item.done"]
    assert types(events) == [
        *OPENING,
        *LIST_EVENTS,
        *failed_call,
        *message_events(len(said.split())),
        "response.completed",
    ]
    check_numbering(events)
    response_id = check_one_response(events)
    [failed] = of_type(events, "response.mcp_call.failed")
    assert (failed.item_id, failed.output_index) == (done.item.id, 1)
    final = events[-1].response
    assert final.status == "completed"
    # `error` is the API's object, so the SDK serializes it without complaint.
    assert final.output[1].model_dump() == call.model_dump()
    assert final.output_text == said
    stored = stream_sdk.responses.retrieve(response_id)
    assert stored.model_dump() == final.model_dump()


# ---------------------------------------------------------------- file_search


@dataclass
class Corpus:
    store_id: str
    words: dict[str, str]  # file name -> a term only that file holds
    ids: dict[str, str]  # file name -> file id


@pytest.fixture
def streamed_corpus(stream_sdk: openai.OpenAI) -> Corpus:
    store = stream_sdk.vector_stores.create(name="fs-stream")
    words, ids = {}, {}
    for name, team, body in (
        ("alpha.txt", "red", "crimson apples ripen slowly in autumn orchards"),
        ("beta.txt", "blue", "cobalt ocean waves crash against the rocky shore"),
    ):
        words[name] = word()
        f = upload(stream_sdk, name, f"{words[name]} {body}")
        stream_sdk.vector_stores.files.create(
            vector_store_id=store.id, file_id=f.id, attributes={"team": team}
        )
        ids[name] = f.id
    for file_id in ids.values():
        assert wait_ingested(stream_sdk, store.id, file_id).status == "completed"
    return Corpus(store.id, words, ids)


def test_file_search_streams_its_events_results_and_citations(
    stream_sdk: openai.OpenAI, streamed_corpus: Corpus, recorder: BackendRecorder
) -> None:
    query = f"{streamed_corpus.words['alpha.txt']} apples"
    red = {"type": "eq", "key": "team", "value": "red"}
    events = stream(
        stream_sdk,
        input="call file_search " + json.dumps({"queries": [query]}),
        tools=[
            {"type": "file_search", "vector_store_ids": [streamed_corpus.store_id], "filters": red}
        ],
        include=["file_search_call.results"],
    )
    kinds = types(events)
    searched = [
        *OPENING,
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
    ]
    assert kinds[: len(searched)] == searched
    deltas = kinds.count("response.output_text.delta")
    assert deltas > 0
    # The citation is announced once the text is done, before its part and item are.
    assert kinds[len(searched) :] == [
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.output_text.annotation.added",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    check_numbering(events)
    response_id = check_one_response(events)

    added, done = item_events(events, "file_search_call")
    call_id = done.item.id
    assert added.item.id == call_id and added.item.status == "in_progress"
    for kind in ("in_progress", "searching", "completed"):
        [event] = of_type(events, f"response.file_search_call.{kind}")
        assert (event.item_id, event.output_index) == (call_id, 0)
    call = done.item
    assert (call.status, call.queries) == ("completed", [query])
    assert call.results
    assert [(r.file_id, r.filename) for r in call.results] == [
        (streamed_corpus.ids["alpha.txt"], "alpha.txt")
    ]

    _, message = item_events(events, "message")
    text = message.item.content[0].text
    [note] = of_type(events, "response.output_text.annotation.added")
    assert (note.item_id, note.output_index) == (message.item.id, 1)
    assert (note.content_index, note.annotation_index) == (0, 0)
    annotation = note.annotation.model_dump()
    assert annotation["type"] == "file_citation"
    assert (annotation["file_id"], annotation["filename"]) == (
        streamed_corpus.ids["alpha.txt"],
        "alpha.txt",
    )
    assert text[annotation["index"] :].startswith(streamed_corpus.ids["alpha.txt"])
    assert "beta.txt" not in text and streamed_corpus.ids["beta.txt"] not in text

    [part_done] = of_type(events, "response.content_part.done")
    assert [a.model_dump() for a in part_done.part.annotations] == [annotation]
    assert [a.model_dump() for a in message.item.content[0].annotations] == [annotation]
    final = events[-1].response
    assert final.status == "completed"
    assert [item.type for item in final.output] == ["file_search_call", "message"]
    assert final.output[0].model_dump() == call.model_dump()
    assert [a.model_dump() for a in final.output[1].content[0].annotations] == [annotation]
    assert stream_sdk.responses.retrieve(response_id).model_dump() == final.model_dump()
    assert [r.body["stream"] for r in recorder.requests] == [True, True]

    # Without the include, the client's item has no results (the model still got them).
    recorder.clear()
    events = stream(
        stream_sdk,
        input="call file_search " + json.dumps({"queries": [query]}),
        tools=[
            {"type": "file_search", "vector_store_ids": [streamed_corpus.store_id], "filters": red}
        ],
    )
    _, done = item_events(events, "file_search_call")
    final = events[-1].response
    assert (final.status, done.item.results, final.output[0].results) == ("completed", None, None)
    assert streamed_corpus.ids["alpha.txt"] in recorder.requests[1].body["input"][-1]["output"]


# ---------------------------------------------------------------- limits and failures


def test_max_tool_calls_zero_streams_incomplete(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    events = stream(
        stream_sdk, input=ADD, tools=[mcp_tool(servers["healthy"], "calc")], max_tool_calls=0
    )
    # The tools were listed; the call was never made nor shown.
    assert types(events) == [*OPENING, *LIST_EVENTS, "response.incomplete"]
    check_numbering(events)
    response_id = check_one_response(events)
    final = events[-1].response
    assert final.status == "incomplete"
    assert final.incomplete_details is not None
    assert final.incomplete_details.reason is None  # no documented reason fits
    assert [item.type for item in final.output] == ["mcp_list_tools"]
    assert len(recorder.requests) == 1
    stored = stream_sdk.responses.retrieve(response_id)
    assert stored.status == "incomplete"
    assert stored.model_dump() == final.model_dump()


def test_follow_up_turn_failure_ends_the_stream_failed(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    events = stream(
        stream_sdk, model="fail-after-tool", input=ADD, tools=[mcp_tool(servers["healthy"], "calc")]
    )
    # The list and the call were streamed; the turn carrying the call's output failed.
    assert types(events) == [*OPENING, *LIST_EVENTS, *CALL_EVENTS, "error", "response.failed"]
    check_numbering(events)
    response_id = check_one_response(events)
    error = events[-2]
    assert (error.code, error.message) == ("server_error", "overloaded after the tool")
    final = events[-1].response
    assert final.status == "failed"
    assert final.error is not None
    assert final.error.message == "overloaded after the tool"
    assert [item.type for item in final.output] == ["mcp_list_tools", "mcp_call"]
    assert final.output[1].output == "42"
    assert [r.body["input"][-1]["type"] for r in recorder.requests] == [
        "message",
        "function_call_output",
    ]
    stored = stream_sdk.responses.retrieve(response_id)
    assert stored.status == "failed"
    assert stored.error is not None and stored.error.message == "overloaded after the tool"


# ---------------------------------------------------------------- chains


@pytest.mark.parametrize("streamed", [False, True], ids=["buffered", "streamed"])
def test_chain_after_a_streamed_tool_turn_replays_the_function_call(
    stream_sdk: openai.OpenAI,
    servers: dict[str, McpServerProcess],
    recorder: BackendRecorder,
    streamed: bool,
) -> None:
    tool = mcp_tool(servers["healthy"], "calc")
    events = stream(stream_sdk, input=ADD, tools=[tool])
    first_id = check_one_response(events)
    assert events[-1].response.status == "completed"
    recorder.clear()
    text = f"thanks {word()}"
    if streamed:
        follow_events = stream(stream_sdk, input=text, tools=[tool], previous_response_id=first_id)
        # The chain listed the server already: no list, no call, just the answer.
        # ("reply to: thanks <word>" is four deltas.)
        assert types(follow_events) == [
            *OPENING,
            *message_events(4),
            "response.completed",
        ]
        check_numbering(follow_events)
        follow = follow_events[-1].response
    else:
        follow = stream_sdk.responses.create(
            model="m", input=text, tools=[tool], previous_response_id=first_id
        )
    assert follow.status == "completed"
    assert [item.type for item in follow.output] == ["message"]
    assert follow.output_text == f"reply to: {text}"
    [sent] = [r.body for r in recorder.requests]
    kinds = [item.get("type") for item in sent["input"]]
    assert "mcp_call" not in kinds and "mcp_list_tools" not in kinds
    assert kinds.count("function_call") == 1 and kinds.count("function_call_output") == 1
    fc = sent["input"][kinds.index("function_call")]
    fco = sent["input"][kinds.index("function_call_output")]
    assert kinds.index("function_call_output") == kinds.index("function_call") + 1
    assert (fc["name"], json.loads(fc["arguments"])) == ("calc__add", ADD_ARGUMENTS)
    assert (fco["call_id"], fco["output"]) == (fc["call_id"], "42")
    assert sent["input"][-1]["content"] in (text, [{"type": "input_text", "text": text}])
    # The function is still offered to the model, from the reused list.
    assert "calc__add" in {t["name"] for t in sent["tools"]}


def ask_approval(sdk: openai.OpenAI, tool: ToolParam, recorder: BackendRecorder) -> tuple[str, Any]:
    """A streamed first turn that stops on an approval request for add(2, 40): the
    response's id and the request item."""
    events = stream(sdk, input=ADD, tools=[tool])
    assert types(events) == [
        *OPENING,
        *LIST_EVENTS,
        "response.output_item.added",
        "response.output_item.done",
        "response.completed",
    ]
    check_numbering(events)
    first_id = check_one_response(events)
    added, done = item_events(events, "mcp_approval_request")
    assert added.output_index == done.output_index == 1
    request = done.item
    assert added.item.id == request.id
    assert (request.server_label, request.name) == ("calc", "add")
    assert json.loads(request.arguments) == ADD_ARGUMENTS
    final = events[-1].response
    assert final.status == "completed"
    assert [item.type for item in final.output] == ["mcp_list_tools", "mcp_approval_request"]
    assert final.output[1].id == request.id
    assert "mcp_call" not in " ".join(types(events))
    # The model was asked once: the tool did not run, so there was no follow-up turn.
    assert len(recorder.requests) == 1
    assert sdk.responses.retrieve(first_id).model_dump() == final.model_dump()
    return first_id, request


def approved(request_id: str) -> dict[str, Any]:
    return {"type": "mcp_approval_response", "approval_request_id": request_id, "approve": True}


APPROVED_CALL_EVENTS = [
    "response.output_item.added",
    "response.mcp_call.in_progress",
    "response.mcp_call.completed",
    "response.output_item.done",
]


def check_approved_call(events: list[Any], request_id: str, index: int) -> None:
    added, done = item_events(events, "mcp_call")
    assert added.item.id == done.item.id
    assert added.output_index == done.output_index == index
    assert added.item.status == "in_progress" and added.item.output is None
    call = done.item
    assert (call.status, call.output, call.approval_request_id) == ("completed", "42", request_id)
    for kind in ("in_progress", "completed"):
        [event] = of_type(events, f"response.mcp_call.{kind}")
        assert (event.item_id, event.output_index) == (call.id, index)
    final = events[-1].response
    assert final.output[index].model_dump() == call.model_dump()
    assert final.output_text == "tool said: 42"


def test_streamed_approval_answer_with_its_request_in_the_input(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    # The request given back in the input (no chain): the approved call runs before the
    # model's turn and is streamed after the fresh tool list.
    tool = mcp_tool(servers["healthy"], "calc", require_approval="always")
    _, request = ask_approval(stream_sdk, tool, recorder)
    recorder.clear()
    answer = [request.model_dump(exclude_none=True), approved(request.id)]
    events = stream(stream_sdk, input=answer, tools=[tool])
    assert types(events) == [
        *OPENING,
        *LIST_EVENTS,
        *APPROVED_CALL_EVENTS,
        *ANSWER_EVENTS,
        "response.completed",
    ]
    check_numbering(events)
    check_one_response(events)
    check_approved_call(events, request.id, 1)
    [sent] = [r.body for r in recorder.requests]
    assert sent["stream"] is True
    assert [i["type"] for i in sent["input"][-2:]] == ["function_call", "function_call_output"]
    assert sent["input"][-1]["output"] == "42"


def test_streamed_approval_answer_on_the_chain(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    # The answer refers to the previous response's request: the call runs first, and the
    # chain's tool list is reused (no new list).
    tool = mcp_tool(servers["healthy"], "calc", require_approval="always")
    first_id, request = ask_approval(stream_sdk, tool, recorder)
    recorder.clear()
    events = stream(
        stream_sdk, input=[approved(request.id)], tools=[tool], previous_response_id=first_id
    )
    assert types(events) == [
        *OPENING,
        *APPROVED_CALL_EVENTS,
        *ANSWER_EVENTS,
        "response.completed",
    ]
    check_numbering(events)
    check_one_response(events)
    check_approved_call(events, request.id, 0)
    [sent] = [r.body for r in recorder.requests]
    assert [i["type"] for i in sent["input"][-2:]] == ["function_call", "function_call_output"]


def test_conversation_after_a_streamed_tool_turn_replays_the_function_call(
    stream_sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    tool = mcp_tool(servers["healthy"], "calc")
    conversation = stream_sdk.conversations.create()
    events = stream(stream_sdk, input=ADD, tools=[tool], conversation=conversation.id)
    assert types(events)[-1] == "response.completed"
    final = events[-1].response
    # The conversation holds the client's view of the turn.
    items = stream_sdk.conversations.items.list(conversation.id, order="asc").data
    assert [item.type for item in items] == ["message", "mcp_list_tools", "mcp_call", "message"]
    assert [item.id for item in items[1:]] == [item.id for item in final.output]
    recorder.clear()
    text = f"thanks {word()}"
    follow = stream(stream_sdk, input=text, tools=[tool], conversation=conversation.id)
    assert types(follow)[-1] == "response.completed"
    [sent] = [r.body for r in recorder.requests]
    kinds = [item.get("type") for item in sent["input"]]
    # The backend gets the call back as a function call and its output, never mcp items.
    assert kinds == ["message", "function_call", "function_call_output", "message", "message"]
    fc, fco = sent["input"][1:3]
    assert (fc["name"], json.loads(fc["arguments"])) == ("calc__add", ADD_ARGUMENTS)
    assert (fco["call_id"], fco["output"]) == (fc["call_id"], "42")


# ---------------------------------------------------------------- no server-side tools


def test_plain_stream_is_unchanged(
    stream_gateway: Stack, stream_sdk: openai.OpenAI, key: str
) -> None:
    events = stream(stream_sdk, input="hello there")
    assert types(events) == [*OPENING, *message_events(4), "response.completed"]
    check_numbering(events)
    response_id = check_one_response(events)
    final = events[-1].response
    assert final.output_text == "reply to: hello there"
    assert stream_sdk.responses.retrieve(response_id).output_text == "reply to: hello there"
    _, blocks = raw_stream(stream_gateway, key, {"model": "m", "input": "hello there"})
    assert [p["type"] for p in check_wire(blocks)] == types(events)
