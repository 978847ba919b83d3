"""A backend with only /v1/chat/completions behind the gateway (OPENRESPONSES_BACKEND_API=
chat_completions): clients see the Responses API unchanged (stored responses, chains,
conversations, streaming, function calls, MCP tool loops, reasoning, truncated answers,
errors), every body and event checked against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from support.fake_backend import BackendThread
from support.harness import RedisServer, Stack
from support.mcp_servers import McpServerProcess


@pytest.fixture(scope="module")
def chat_backend() -> Iterator[BackendThread]:
    thread = BackendThread(chat_only=True)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="module")
def chat_stack(chat_backend: BackendThread) -> Iterator[Stack]:
    redis = RedisServer().start()
    stack = Stack(
        f"{chat_backend.url}/v1",
        redis.url,
        backend_api="chat_completions",
        mcp_allowed_hosts="127.0.0.1",
    )
    try:
        with stack.start():
            yield stack
    finally:
        redis.stop()


@pytest.fixture
def chat_client(chat_stack: Stack, make_sdk: Callable[..., openai.OpenAI]) -> openai.OpenAI:
    return make_sdk(chat_stack.base_url, "sk-chat", max_retries=0)


@pytest.fixture
def chat_seen(chat_backend: BackendThread) -> Iterator[Any]:
    with chat_backend.recording() as seen:
        yield seen


def test_a_create_is_a_chat_completion_behind(chat_client: openai.OpenAI, chat_seen: Any) -> None:
    response = chat_client.responses.create(model="m", input="Hello there", instructions="Be kind.")
    assert response.status == "completed" and response.output_text == "reply to: Hello there"
    assert response.usage is not None and response.usage.total_tokens > 0
    [sent] = chat_seen.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hello there"},
    ]
    assert chat_client.responses.retrieve(response.id).output_text == response.output_text


def test_a_stream_is_the_responses_event_sequence(chat_client: openai.OpenAI) -> None:
    deltas, types = [], []
    with chat_client.responses.stream(model="m", input="Stream these words please") as stream:
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed" and len(deltas) > 1
    assert "".join(deltas) == final.output_text == "reply to: Stream these words please"
    assert chat_client.responses.retrieve(final.id).output_text == final.output_text


def test_chains_and_conversations_replay_as_messages(
    chat_client: openai.OpenAI, chat_seen: Any
) -> None:
    first = chat_client.responses.create(model="m", input="Remember: heron")
    second = chat_client.responses.create(
        model="m", input="And now?", previous_response_id=first.id
    )
    assert second.previous_response_id == first.id
    messages = chat_seen.requests[-1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "reply to: Remember: heron"
    conversation = chat_client.conversations.create()
    for text in ("one", "two"):
        chat_client.responses.create(model="m", input=text, conversation=conversation.id)
    items = chat_client.conversations.items.list(conversation.id, order="asc").data
    assert [item.role for item in items] == ["user", "assistant", "user", "assistant"]  # type: ignore[union-attr]


def test_function_calls_round_trip(chat_client: openai.OpenAI, chat_seen: Any) -> None:
    tool = {"type": "function", "name": "weather", "parameters": {"type": "object"}}
    called = chat_client.responses.create(
        model="m",
        input='call weather {"city": "Oslo"}',
        tools=[tool],  # type: ignore[list-item]
    )
    [call] = called.output
    assert call.type == "function_call" and call.name == "weather"
    assert call.arguments == '{"city": "Oslo"}'
    assert chat_seen.requests[-1].body["tools"][0]["function"]["name"] == "weather"
    answered = chat_client.responses.create(
        model="m",
        previous_response_id=called.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[tool],  # type: ignore[list-item]
    )
    assert answered.output_text == "tool said: sunny"
    tool_message = chat_seen.requests[-1].body["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny"}


@pytest.mark.parametrize("stream", [False, True])
def test_mcp_tool_loops_run_against_chat(
    chat_client: openai.OpenAI, servers: dict[str, McpServerProcess], stream: bool
) -> None:
    tool = {
        "type": "mcp",
        "server_label": "calc",
        "server_url": servers["healthy"].url,
        "require_approval": "never",
    }
    arguments: dict[str, Any] = {
        "model": "m",
        "input": 'call calc__add {"a": 20, "b": 22}',
        "tools": [tool],
    }
    if stream:
        with chat_client.responses.stream(**arguments) as events:
            response = events.get_final_response()
    else:
        response = chat_client.responses.create(**arguments)
    assert response.output_text == "tool said: 42"
    assert [item.type for item in response.output] == ["mcp_list_tools", "mcp_call", "message"]


def test_reasoning_and_truncated_answers(chat_client: openai.OpenAI) -> None:
    reasoned = chat_client.responses.create(model="fake-reasoning", input="Why?")
    assert [item.type for item in reasoned.output] == ["reasoning", "message"]
    cut = chat_client.responses.create(model="fake-length", input="Go on")
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    with chat_client.responses.stream(model="fake-length", input="Go on") as stream:
        last = [event for event in stream][-1]
    assert last.type == "response.incomplete" and last.response.status == "incomplete"


def test_backend_errors_keep_their_status_and_shape(chat_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        chat_client.responses.create(model="fail-400", input="x")
    assert raised.value.code == "model_not_found"
    with pytest.raises(openai.InternalServerError):
        chat_client.responses.create(model="fail-500", input="x")
