"""MCP approvals through Envoy: `require_approval` (default "always"), the
`mcp_approval_request` items a response stops on, and the client's
`mcp_approval_response` answers on the next turn of the chain."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from support.fake_backend import BackendRecorder
from support.mcp_servers import McpServerProcess
from support.tool_items import backend_inputs, no_mcp_items, types

JSON = dict[str, Any]
ADD = '{"a":2,"b":40}'


def calc(servers: dict[str, McpServerProcess], label: str = "calc", **extra: Any) -> JSON:
    """The healthy server as an inline MCP tool; `require_approval` only when given."""
    return {"type": "mcp", "server_label": label, "server_url": servers["healthy"].url, **extra}


def approval(request_id: str, approve: bool = True, **extra: Any) -> JSON:
    return {
        "type": "mcp_approval_response",
        "approval_request_id": request_id,
        "approve": approve,
        **extra,
    }


def ask(sdk: openai.OpenAI, servers: dict[str, McpServerProcess], **extra: Any) -> Any:
    """A first turn that stops on an approval request for add(2, 40)."""
    first = sdk.responses.create(
        model="m", input=f"call calc__add {ADD}", tools=[calc(servers)], **extra
    )
    assert types(first.output) == ["mcp_list_tools", "mcp_approval_request"]
    return first


def error_of(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> JSON:
    body = raised.value.body
    assert isinstance(body, dict)
    return body


def test_default_policy_asks_before_calling(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = ask(sdk, servers)
    request = first.output[1]
    assert (request.server_label, request.name) == ("calc", "add")
    assert request.arguments == ADD
    assert request.id and request.id != first.output[0].id
    assert first.status == "completed"
    # The model was asked once; the tool did not run, so there was no follow-up turn.
    assert len(recorder.requests) == 1
    assert not any(item.type == "mcp_call" for item in first.output)
    stored = sdk.responses.retrieve(first.id)
    assert types(stored.output) == ["mcp_list_tools", "mcp_approval_request"]
    assert stored.output[1].id == request.id


def test_approved_call_runs_on_the_next_turn_and_the_chain_replays(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = ask(sdk, servers)
    request_id = first.output[1].id
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        previous_response_id=first.id,
        input=[approval(request_id)],
        tools=[calc(servers)],
    )
    # No new tool list: the chain's list is reused.
    assert types(second.output) == ["mcp_call", "message"]
    call = second.output[0]
    assert (call.server_label, call.name, call.output, call.error) == ("calc", "add", "42", None)
    assert call.approval_request_id == request_id
    assert json.loads(call.arguments) == {"a": 2, "b": 40}
    assert second.output_text == "tool said: 42"
    assert second.status == "completed"
    (seen,) = backend_inputs(recorder)
    assert types(seen) == ["message", "function_call", "function_call_output"]
    function_call, function_output = seen[-2:]
    assert function_call["name"] == "calc__add" and function_call["arguments"] == ADD
    assert function_output == {
        "type": "function_call_output",
        "call_id": function_call["call_id"],
        "output": "42",
    }
    assert no_mcp_items(seen)
    assert sdk.responses.retrieve(second.id).output[0].approval_request_id == request_id

    recorder.clear()
    third = sdk.responses.create(
        model="m", previous_response_id=second.id, input="thanks", tools=[calc(servers)]
    )
    assert types(third.output) == ["message"]
    assert third.output_text == "reply to: thanks"
    (seen,) = backend_inputs(recorder)
    assert no_mcp_items(seen)
    assert types(seen) == [
        "message", "function_call", "function_call_output", "message", "message"
    ]  # fmt: skip
    assert seen[2]["output"] == "42" and seen[1]["call_id"] == seen[2]["call_id"]


def test_denied_call_is_reported_to_the_model(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = ask(sdk, servers)
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        previous_response_id=first.id,
        input=[approval(first.output[1].id, False, reason="no thanks")],
        tools=[calc(servers)],
    )
    assert types(second.output) == ["message"]
    denial = "The user did not approve this tool call. Reason: no thanks"
    assert second.output_text == f"tool said: {denial}"
    (seen,) = backend_inputs(recorder)
    assert seen[-1]["type"] == "function_call_output" and seen[-1]["output"] == denial
    assert no_mcp_items(seen)


def test_approved_call_past_max_tool_calls_is_not_run(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = ask(sdk, servers)
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        previous_response_id=first.id,
        input=[approval(first.output[1].id)],
        tools=[calc(servers)],
        max_tool_calls=0,
    )
    assert types(second.output) == ["message"]  # no mcp_call: nothing ran
    assert second.status == "incomplete"
    assert second.incomplete_details is not None
    assert second.incomplete_details.reason is None  # no documented reason fits
    (seen,) = backend_inputs(recorder)
    not_run = "The tool call was not run: the response reached max_tool_calls."
    assert seen[-1]["type"] == "function_call_output" and seen[-1]["output"] == not_run


@pytest.mark.parametrize(
    ("policy", "prompt", "expected"),
    [
        ({"never": {"tool_names": ["add"]}}, f"call calc__add {ADD}", "mcp_call"),
        ({"never": {"tool_names": ["add"]}}, 'call calc__echo {"text":"hi"}', "ask"),
        ({"always": {"tool_names": ["echo"]}}, f"call calc__add {ADD}", "ask"),
        ({"always": {"tool_names": ["echo"]}}, 'call calc__echo {"text":"hi"}', "ask"),
        ("never", f"call calc__add {ADD}", "mcp_call"),
        ("always", f"call calc__add {ADD}", "ask"),
    ],
)
def test_require_approval_policies(
    sdk: openai.OpenAI,
    servers: dict[str, McpServerProcess],
    policy: Any,
    prompt: str,
    expected: str,
) -> None:
    response = sdk.responses.create(
        model="m", input=prompt, tools=[calc(servers, require_approval=policy)]
    )
    if expected == "ask":
        assert types(response.output) == ["mcp_list_tools", "mcp_approval_request"]
    else:
        assert types(response.output) == ["mcp_list_tools", "mcp_call", "message"]
        assert response.output[1].output == "42"
    assert response.tools[0].require_approval is not None


def test_unknown_approval_request_id_is_refused(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = ask(sdk, servers)
    recorder.clear()
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(
            model="m",
            previous_response_id=first.id,
            input=[approval("mcpr_unknown")],
            tools=[calc(servers)],
        )
    assert refused.value.status_code == 400
    body = error_of(refused)
    assert (body["param"], body["code"]) == ("input", "invalid_value")
    assert "mcpr_unknown" in body["message"]
    assert recorder.requests == []


def replayed_request(item: Any) -> JSON:
    """An `mcp_approval_request` output item, as a client sends it back as input."""
    return {
        "type": "mcp_approval_request",
        "id": item.id,
        "server_label": item.server_label,
        "name": item.name,
        "arguments": item.arguments,
    }


def test_stateless_approval_with_the_request_in_the_input(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    """Without a stored chain (`store: false`) the client sends the request back with
    its answer, as it does with the hosted API."""
    first = ask(sdk, servers, store=False)
    request = first.output[1]
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        input=[
            {"role": "user", "content": f"call calc__add {ADD}"},
            replayed_request(request),
            approval(request.id),
        ],  # type: ignore[list-item]
        tools=[calc(servers)],
        store=False,
    )
    assert types(second.output) == ["mcp_list_tools", "mcp_call", "message"]
    assert (second.output[1].output, second.output[1].approval_request_id) == ("42", request.id)
    assert second.output_text == "tool said: 42"
    (seen,) = backend_inputs(recorder)
    assert types(seen) == ["message", "function_call", "function_call_output"]
    assert seen[-1]["output"] == "42" and no_mcp_items(seen)


def test_approval_in_a_conversation(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    conversation = sdk.conversations.create()
    first = ask(sdk, servers, conversation=conversation.id)
    request_id = first.output[1].id
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        conversation=conversation.id,
        input=[approval(request_id)],
        tools=[calc(servers)],
    )
    assert types(second.output)[-2:] == ["mcp_call", "message"]
    assert second.output[-2].approval_request_id == request_id
    assert second.output_text == "tool said: 42"
    (seen,) = backend_inputs(recorder)
    assert types(seen) == ["message", "function_call", "function_call_output"]
    assert no_mcp_items(seen)
    # A later turn of the conversation replays the approved call as a function call.
    recorder.clear()
    third = sdk.responses.create(
        model="m", conversation=conversation.id, input="thanks", tools=[calc(servers)]
    )
    assert third.output_text == "reply to: thanks"
    (seen,) = backend_inputs(recorder)
    assert no_mcp_items(seen)
    assert types(seen) == [
        "message", "function_call", "function_call_output", "message", "message"
    ]  # fmt: skip
    assert seen[2]["output"] == "42"


def test_approval_for_a_server_not_among_the_tools_is_refused(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = ask(sdk, servers, store=False)
    request = first.output[1]
    recorder.clear()
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(
            model="m",
            input=[replayed_request(request), approval(request.id)],  # type: ignore[list-item]
            tools=[calc(servers, label="other")],
            store=False,
        )
    body = error_of(refused)
    assert (body["param"], body["code"]) == ("tools", "invalid_value")
    assert recorder.requests == []


def test_approval_without_any_tools_is_refused(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    """Without tools the request's server is not among them either: the answer cannot
    be honoured, so it is refused rather than silently dropped."""
    first = ask(sdk, servers)
    recorder.clear()
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(
            model="m", previous_response_id=first.id, input=[approval(first.output[1].id)]
        )
    assert error_of(refused)["param"] == "tools"
    assert recorder.requests == []


def test_approval_response_without_approve_is_refused(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    item = {"type": "mcp_approval_response", "approval_request_id": "mcpr_x"}
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(model="m", input=[item], tools=[calc(servers)])  # type: ignore[list-item]
    body = error_of(refused)
    assert (body["param"], body["code"]) == ("input[0].approve", "invalid_type")
    assert recorder.requests == []


def events_of(stream: Any) -> list[Any]:
    with stream as events:
        return list(events)


def test_streamed_approval_request(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    events = events_of(
        sdk.responses.create(
            model="m", input=f"call calc__add {ADD}", tools=[calc(servers)], stream=True
        )
    )
    kinds = [event.type for event in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    added = [e.item for e in events if e.type == "response.output_item.added"]
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert types(added) == ["mcp_list_tools", "mcp_approval_request"]
    assert types(done) == ["mcp_list_tools", "mcp_approval_request"]
    request = done[1]
    assert (request.server_label, request.name, request.arguments) == ("calc", "add", ADD)
    assert added[1].id == request.id
    assert not any("mcp_call" in kind or "function_call" in kind for kind in kinds)
    completed = events[-1].response
    assert completed.status == "completed"
    assert types(completed.output) == ["mcp_list_tools", "mcp_approval_request"]
    assert completed.output[1].id == request.id
    assert len(recorder.requests) == 1
    stored = sdk.responses.retrieve(completed.id)
    assert types(stored.output) == ["mcp_list_tools", "mcp_approval_request"]


def test_streamed_approved_call_comes_first(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    """The approved call's events come before the model's answer; the chain's list is
    reused, so no `mcp_list_tools` events."""
    first = ask(sdk, servers)
    request = first.output[1]
    recorder.clear()
    events = events_of(
        sdk.responses.create(
            model="m",
            previous_response_id=first.id,
            input=[approval(request.id)],
            tools=[calc(servers)],
            stream=True,
        )
    )
    kinds = [event.type for event in events]
    assert "response.mcp_call.completed" in kinds
    assert "response.mcp_list_tools.completed" not in kinds
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert types(done) == ["mcp_call", "message"]
    assert (done[0].output, done[0].approval_request_id) == ("42", request.id)
    final = events[-1].response
    assert final.status == "completed" and final.output_text == "tool said: 42"
    assert len(recorder.requests) == 1
