"""Responses requests as Chat Completions requests, table by table."""

from __future__ import annotations

from typing import Any

import pytest

from core.chat_completions import chat_request
from core.common.errors import InvalidRequestError


def test_instructions_and_roles_become_messages() -> None:
    chat = chat_request(
        {
            "model": "m",
            "instructions": "Be brief.",
            "input": [
                {"type": "message", "role": "developer", "content": "Use French."},
                {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Salut", "annotations": []}],
                },
                {"role": "user", "content": "Again"},
            ],
        }
    )
    assert chat == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": "Use French."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Salut"},
            {"role": "user", "content": "Again"},
        ],
    }


def test_a_string_input_is_one_user_message() -> None:
    assert chat_request({"model": "m", "input": "Hello"})["messages"] == [
        {"role": "user", "content": "Hello"}
    ]


def test_images_and_files_become_parts() -> None:
    [message] = chat_request(
        {
            "model": "m",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "input_image",
                            "image_url": "data:image/png;base64,AA",
                            "detail": "low",
                        },
                        {
                            "type": "input_file",
                            "filename": "a.pdf",
                            "file_data": "data:application/pdf;base64,AA",
                        },
                        {"type": "input_file", "text": "extracted text"},
                    ],
                }
            ],
        }
    )["messages"]
    assert message["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}},
        {
            "type": "file",
            "file": {"file_data": "data:application/pdf;base64,AA", "filename": "a.pdf"},
        },
        {"type": "text", "text": "extracted text"},
    ]


def test_consecutive_calls_are_one_assistant_turn_and_outputs_are_tool_messages() -> None:
    messages = chat_request(
        {
            "model": "m",
            "input": [
                {"role": "user", "content": "Weather in Oslo and Rome?"},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {
                    "type": "function_call",
                    "call_id": "c1",
                    "name": "weather",
                    "arguments": '{"city":"Oslo"}',
                },
                {
                    "type": "function_call",
                    "call_id": "c2",
                    "name": "weather",
                    "arguments": '{"city":"Rome"}',
                },
                {"type": "function_call_output", "call_id": "c1", "output": "cold"},
                {
                    "type": "function_call_output",
                    "call_id": "c2",
                    "output": [{"type": "input_text", "text": "warm"}],
                },
            ],
        }
    )["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
            },
            {
                "id": "c2",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Rome"}'},
            },
        ],
    }
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "cold"},
        {"role": "tool", "tool_call_id": "c2", "content": "warm"},
    ]
    assert len(messages) == 4  # the reasoning item is not sent back


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"max_output_tokens": 50}, {"max_completion_tokens": 50}),
        ({"temperature": 0.2, "top_p": 0.9}, {"temperature": 0.2, "top_p": 0.9}),
        ({"parallel_tool_calls": False}, {"parallel_tool_calls": False}),
        ({"top_logprobs": 3}, {"logprobs": True, "top_logprobs": 3}),
        (
            {"text": {"format": {"type": "json_object"}}},
            {"response_format": {"type": "json_object"}},
        ),
        (
            {
                "text": {
                    "format": {
                        "type": "json_schema",
                        "name": "x",
                        "schema": {"type": "object"},
                        "strict": True,
                    }
                }
            },
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": True},
                }
            },
        ),
        ({"text": {"format": {"type": "text"}}}, {}),
        ({"reasoning": {"effort": "low"}}, {"reasoning_effort": "low"}),
        ({"stream": True}, {"stream": True, "stream_options": {"include_usage": True}}),
    ],
)
def test_parameters(body: dict[str, Any], expected: dict[str, Any]) -> None:
    chat = chat_request({"model": "m", "input": "x", **body})
    del chat["model"], chat["messages"]
    assert chat == expected


def test_function_tools_and_tool_choice() -> None:
    chat = chat_request(
        {
            "model": "m",
            "input": "x",
            "tools": [
                {
                    "type": "function",
                    "name": "f",
                    "description": "d",
                    "parameters": {"type": "object"},
                    "strict": True,
                }
            ],
            "tool_choice": {"type": "function", "name": "f"},
        }
    )
    assert chat["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "f",
                "description": "d",
                "parameters": {"type": "object"},
                "strict": True,
            },
        }
    ]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert (
        chat_request(
            {
                "model": "m",
                "input": "x",
                "tools": [{"type": "function", "name": "f"}],
                "tool_choice": "required",
            }
        )["tool_choice"]
        == "required"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"tools": [{"type": "web_search"}]},
        {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]},
        {"input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
    ],
)
def test_what_chat_cannot_carry_is_a_400(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError):
        chat_request({"model": "m", "input": "x", **body})
