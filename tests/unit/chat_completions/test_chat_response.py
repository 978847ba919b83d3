"""Chat completions as Responses response objects."""

from __future__ import annotations

from typing import Any

import pytest

from core.chat_completions import response_object
from core.common.errors import BadGatewayError


def _chat(message: dict[str, Any], finish: str = "stop", **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        **extra,
    }


def test_text_reasoning_and_usage() -> None:
    response = response_object(
        _chat(
            {"content": "Hello.", "reasoning_content": "Greet."},
            usage={
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 4},
                "completion_tokens_details": {"reasoning_tokens": 2},
            },
        )
    )
    assert response["status"] == "completed" and response["incomplete_details"] is None
    assert response["created_at"] == 1700000000 and response["model"] == "m"
    reasoning, message = response["output"]
    assert reasoning["type"] == "reasoning" and reasoning["id"].startswith("rs_")
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Greet."}]
    assert message["id"].startswith("msg_") and message["role"] == "assistant"
    assert message["content"][0]["text"] == "Hello."
    assert response["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 15,
    }


def test_tool_calls_become_function_call_items() -> None:
    response = response_object(
        _chat(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "g", "arguments": '{"x":1}'},
                    },
                ],
            },
            finish="tool_calls",
        )
    )
    assert [(i["type"], i["call_id"], i["name"], i["arguments"]) for i in response["output"]] == [
        ("function_call", "call_a", "f", "{}"),
        ("function_call", "call_b", "g", '{"x":1}'),
    ]
    assert all(i["id"].startswith("fc_") and i["status"] == "completed" for i in response["output"])
    assert response["status"] == "completed"


@pytest.mark.parametrize(
    ("finish", "status", "reason"),
    [
        ("length", "incomplete", "max_output_tokens"),
        ("content_filter", "incomplete", "content_filter"),
    ],
)
def test_finish_reasons(finish: str, status: str, reason: str) -> None:
    response = response_object(_chat({"content": "Cut"}, finish=finish))
    assert response["status"] == status and response["incomplete_details"] == {"reason": reason}


@pytest.mark.parametrize("chat", [{}, {"choices": []}, {"choices": [{"index": 0}]}])
def test_no_answer_is_a_bad_gateway(chat: dict[str, Any]) -> None:
    with pytest.raises(BadGatewayError):
        response_object(chat)
