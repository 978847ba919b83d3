"""Turning the backend's response object into the one the client is owed."""

from __future__ import annotations

from typing import Any

import orjson

from core.responses.create_request import CreateRequest
from core.responses.response_shape import conform

__all__ = ["TERMINAL_STATUSES", "present", "split_for_storage"]

TERMINAL_STATUSES = frozenset(("completed", "failed", "incomplete", "cancelled"))

# Request fields a response echoes; filled from the request when a backend omits them.
_ECHOED = (
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "parallel_tool_calls",
    "reasoning",
    "service_tier",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "safety_identifier",
    "prompt_cache_key",
)


def present(response: dict[str, Any], request: CreateRequest, response_id: str) -> None:
    """Rewrite, in place, a backend response object as the gateway's own."""
    response["id"] = response_id
    response["object"] = "response"
    # The backend was sent a stateless request; the client's stateful fields win.
    response["previous_response_id"] = request.previous_response_id
    response["store"] = request.store
    response["metadata"] = request.metadata
    response["background"] = False
    if request.conversation_id is not None:
        response["conversation"] = {"id": request.conversation_id}
    if request.prompt is not None:
        response["prompt"] = request.prompt
    # The gateway applies truncation (the backend is never sent it): the client's choice.
    response["truncation"] = request.body.get("truncation") or "disabled"
    body = request.body
    for key in _ECHOED:
        if key not in response and key in body:
            response[key] = body[key]
    # Fields the schema requires even when null.
    for key in ("error", "incomplete_details", "instructions", "temperature", "top_p"):
        response.setdefault(key, None)
    response.setdefault("output", [])
    response.setdefault("tools", [])
    response.setdefault("tool_choice", "auto")
    response.setdefault("parallel_tool_calls", True)
    for tool in response["tools"]:
        if isinstance(tool, dict) and tool.get("type") == "function":
            # As the hosted API echoes a function tool (a backend that does not echo the
            # request's tools, such as a Chat Completions one, leaves these to the gateway).
            tool.setdefault("strict", True)
            tool.setdefault("parameters", None)
    conform(response, body.get("model"))


def split_for_storage(response: dict[str, Any]) -> tuple[bytes, list[bytes]]:
    """The record (response without output) and the encoded output items."""
    dumps = orjson.dumps
    output = [dumps(item) for item in response.get("output") or ()]
    record = dumps({k: v for k, v in response.items() if k != "output"})
    return record, output
