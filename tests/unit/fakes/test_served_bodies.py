"""The served-body check itself: it rejects what the documents reject, sees streamed bodies
as the client reads them, and every e2e client goes through it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from support.served_bodies import SseCheck, checked_http, checked_sdk, drain_violations

TESTS = Path(__file__).resolve().parents[2]

FILE = {
    "id": "file-1",
    "object": "file",
    "bytes": 3,
    "created_at": 1,
    "filename": "a.txt",
    "purpose": "assistants",
    "status": "processed",
}
ERROR = {"error": {"message": "nope", "type": "invalid_request_error", "param": None, "code": None}}


def _response(**extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "m",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": None,
        "top_p": None,
        "metadata": {},
        "instructions": None,
        "error": None,
        "incomplete_details": None,
        **extra,
    }


def _delta(sequence: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "hi",
        "logprobs": [],
        "sequence_number": sequence,
        **extra,
    }


def _frame(payload: dict[str, Any], event: str | None = None) -> bytes:
    return f"event: {event or payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


DONE = b"data: [DONE]\n\n"


def _sse(*frames: bytes) -> list[str]:
    check = SseCheck("POST /v1/responses")
    for frame in frames:
        check.feed(frame)
    check.finish()
    return check.report


@pytest.fixture
def served() -> Iterator[Callable[[httpx.Response], httpx.Client]]:
    """A checked client that gets `answer` for every request, and what it recorded."""
    drain_violations()

    def client(answer: httpx.Response) -> httpx.Client:
        return checked_http("http://gw/v1", transport=httpx.MockTransport(lambda _: answer))

    yield client
    drain_violations()


def test_a_conforming_body_passes(served: Callable[[httpx.Response], httpx.Client]) -> None:
    served(httpx.Response(200, json=FILE)).get("/files/file-1")
    assert drain_violations() == []


def test_a_wrong_type_is_rejected(served: Callable[[httpx.Response], httpx.Client]) -> None:
    served(httpx.Response(200, json={**FILE, "bytes": "3"})).get("/files/file-1")
    assert drain_violations() == [
        "GET /v1/files/file-1 -> 200 at bytes: '3' is not of type 'integer'"
    ]


def test_a_null_where_a_string_is_documented_is_rejected(
    served: Callable[[httpx.Response], httpx.Client],
) -> None:
    served(httpx.Response(200, json={**FILE, "status_details": None})).get("/files/file-1")
    assert drain_violations() == [
        "GET /v1/files/file-1 -> 200 at status_details: None is not of type 'string'"
    ]


def test_errors_need_the_envelope(served: Callable[[httpx.Response], httpx.Client]) -> None:
    served(httpx.Response(404, json=ERROR)).get("/files/nope")
    assert drain_violations() == []
    served(httpx.Response(404, json=ERROR["error"])).get("/files/nope")
    [problem] = drain_violations()
    assert problem.startswith("GET /v1/files/nope -> 404 at (root): 'error' is a required")


def test_an_undocumented_path_is_rejected_unless_allow_listed(
    served: Callable[[httpx.Response], httpx.Client],
) -> None:
    served(httpx.Response(200, json={"id": "c"})).get("/connectors/c")
    assert drain_violations() == []
    served(httpx.Response(200, json={})).get("/widgets")
    assert drain_violations() == ["GET /v1/widgets -> 200: no document describes this operation"]


def test_prompts_follow_the_gateway_document(
    served: Callable[[httpx.Response], httpx.Client],
) -> None:
    served(httpx.Response(200, json={"id": "pmpt_1", "object": "prompt"})).get("/prompts/pmpt_1")
    problems = drain_violations()
    assert "GET /v1/prompts/pmpt_1 -> 200 at (root): 'version' is a required property" in problems


def test_a_conforming_stream_passes() -> None:
    created = {"type": "response.created", "response": _response(), "sequence_number": 0}
    assert _sse(_frame(created), _frame(_delta(1)), DONE) == []


def test_an_event_with_a_wrong_field_is_rejected() -> None:
    [problem] = _sse(_frame(_delta(0, delta=5)), DONE)
    assert problem == (
        "POST /v1/responses: event response.output_text.delta #0 at delta: "
        "5 is not of type 'string'"
    )


def test_a_stream_without_done_is_rejected() -> None:
    assert _sse(_frame(_delta(0))) == [
        "POST /v1/responses: the stream ended without `data: [DONE]`"
    ]


def test_event_names_sequence_numbers_and_types_are_checked() -> None:
    assert _sse(_frame(_delta(0), event="message"), DONE) == [
        "POST /v1/responses: `event: message` names another type than the payload's "
        "'response.output_text.delta'"
    ]
    assert _sse(_frame(_delta(3)), _frame(_delta(3)), DONE) == [
        "POST /v1/responses: sequence_number 3 after 3"
    ]
    strange = {"type": "response.made_up", "sequence_number": 0}
    assert _sse(_frame(strange), DONE) == [
        "POST /v1/responses: an event type the stream event union lacks: 'response.made_up'"
    ]
    assert _sse(DONE, _frame(_delta(0))) != []


def test_frames_split_across_chunks_are_reassembled() -> None:
    whole = _frame(_delta(0)) + _frame(_delta(1)) + DONE
    assert _sse(*(whole[i : i + 7] for i in range(0, len(whole), 7))) == []


def test_the_sdk_stream_is_checked_as_it_is_read() -> None:
    """`responses.stream()` still works through the tee, and a bad event is recorded."""
    drain_violations()
    created = {"type": "response.created", "response": _response(), "sequence_number": 0}
    done = {
        "type": "response.completed",
        "response": _response(),
        "sequence_number": 2,
    }
    going = {"type": "response.in_progress", "response": _response(model=5), "sequence_number": 1}
    body = _frame(created) + _frame(going) + _frame(done) + DONE

    def answer(_: httpx2.Request) -> httpx2.Response:
        # Chunks from an iterator, as off the network: bytes would be read before the hook.
        chunks = iter([body[:50], body[50:]])
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=chunks)

    sdk = checked_sdk("http://gw/v1", "k", transport=httpx2.MockTransport(answer), max_retries=0)
    with sdk.responses.stream(model="m", input="x") as stream:
        kinds = [event.type for event in stream]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert drain_violations() == [
        "POST /v1/responses -> 200: event response.in_progress #1 at response/model: "
        "5 is not valid under any of the given schemas"
    ]


def test_every_e2e_client_is_a_checked_one() -> None:
    """A client built any other way would serve bodies nobody checks."""
    direct = re.compile(
        r"openai\.(Async)?OpenAI\(|httpx\.(Async)?Client\(|"
        r"httpx\.(get|post|put|patch|delete|request|stream)\("
    )
    # The harness polls Envoy's admin port, which is not the gateway's API.
    exempt = {"support/served_bodies.py", "support/harness.py"}
    found = [
        f"{path.relative_to(TESTS)}:{number}"
        for folder in ("e2e", "support")
        for path in sorted((TESTS / folder).rglob("*.py"))
        if str(path.relative_to(TESTS)) not in exempt
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if direct.search(line)
    ]
    assert found == []


def test_only_an_empty_page_may_lack_first_and_last_ids(
    served: Callable[[httpx.Response], httpx.Client],
) -> None:
    page = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    served(httpx.Response(200, json=page)).get("/files")
    assert drain_violations() == []
    full = {**page, "data": [FILE]}
    served(httpx.Response(200, json=full)).get("/files")
    assert drain_violations() == [
        "GET /v1/files -> 200 at first_id: None is not of type 'string'",
        "GET /v1/files -> 200 at last_id: None is not of type 'string'",
    ]


def test_a_gateway_connector_id_is_checked_as_a_hosted_one() -> None:
    created = {"type": "response.created", "sequence_number": 0}
    tool = {"type": "mcp", "server_label": "c", "connector_id": "conn_1"}
    assert _sse(_frame({**created, "response": _response(tools=[tool])}), DONE) == []
    # The rest of the tool is still checked.
    broken = {**tool, "server_label": 5}
    assert _sse(_frame({**created, "response": _response(tools=[broken])}), DONE) != []
    unknown = {**tool, "connector_id": "connector_nowhere"}
    assert _sse(_frame({**created, "response": _response(tools=[unknown])}), DONE) != []
