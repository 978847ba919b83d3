"""A Chat Completions answer as a Responses response object (before the gateway presents
it: ids, echoed request fields and stored state are added there, as for any backend)."""

from __future__ import annotations

import time
from typing import Any

from core.common.errors import BadGatewayError
from core.common.ids import new_id

__all__ = ["message_item", "reasoning_item", "response_object", "status_of", "usage_of"]


def response_object(chat: dict[str, Any]) -> dict[str, Any]:
    choices = chat.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BadGatewayError("The backend's chat completion has no choices.")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise BadGatewayError("The backend's chat completion has no message.")
    output: list[dict[str, Any]] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        output.append(reasoning_item(new_id("rs"), reasoning))
    content = message.get("content")
    if isinstance(content, str) and content:
        logprobs = ((choice.get("logprobs") or {}).get("content")) or []
        output.append(message_item(new_id("msg"), content, _logprobs(logprobs)))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        output.append(
            {
                "type": "function_call",
                "id": new_id("fc"),
                "call_id": call.get("id") or new_id("call"),
                "name": function.get("name", ""),
                "arguments": function.get("arguments") or "",
                "status": "completed",
            }
        )
    status, details = status_of(choice.get("finish_reason"))
    return {
        "id": new_id("resp"),
        "object": "response",
        "created_at": chat.get("created") or int(time.time()),
        "status": status,
        "incomplete_details": details,
        "error": None,
        "model": chat.get("model"),
        "output": output,
        "usage": usage_of(chat.get("usage")),
    }


def status_of(finish_reason: Any) -> tuple[str, dict[str, str] | None]:
    if finish_reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish_reason == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def usage_of(usage: Any) -> dict[str, Any] | None:
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": int(cached)},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": int(reasoning)},
        "total_tokens": int(usage.get("total_tokens") or prompt + completion),
    }


def message_item(
    item_id: str, text: str, logprobs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": "completed",
        "role": "assistant",
        "content": [
            {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs or []}
        ],
    }


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": item_id,
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
    }


def _logprobs(content: list[Any]) -> list[dict[str, Any]]:
    """Chat logprobs (token, logprob, bytes, top_logprobs) in the Responses shape."""
    out = []
    for entry in content:
        if not isinstance(entry, dict):
            continue
        out.append(
            {
                "token": entry.get("token", ""),
                "logprob": entry.get("logprob", 0.0),
                "bytes": entry.get("bytes") or [],
                "top_logprobs": [
                    {
                        "token": top.get("token", ""),
                        "logprob": top.get("logprob", 0.0),
                        "bytes": top.get("bytes") or [],
                    }
                    for top in entry.get("top_logprobs") or []
                    if isinstance(top, dict)
                ],
            }
        )
    return out
