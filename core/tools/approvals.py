"""The client's answers to `mcp_approval_request` items, given as `mcp_approval_response`
input items on the next turn.

An approved call runs before the backend is called: the client sees its `mcp_call`
(with `approval_request_id`) first in the new response, and the backend sees the call
and its output after the new input. A denied call is reported to the model the same way,
with the denial as its output, so it can answer without the tool.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.ids import new_id
from core.tools.registry import ServerTools
from core.tools.turns import ToolTurns

__all__ = ["answer_approvals", "approval_answers", "requests_in"]

_REQUEST = b'"type":"mcp_approval_request"'


def approval_answers(items: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(item) for item in items if b'"type":"mcp_approval_response"' in item]


def requests_in(*sources: bytes | list[Any]) -> dict[str, dict[str, Any]]:
    """The approval requests among items: decoded, or encoded (comma-joined)."""
    found: dict[str, dict[str, Any]] = {}
    for source in sources:
        if isinstance(source, bytes):
            if _REQUEST not in source:
                continue
            source = orjson.loads(b"[" + source + b"]")
        for item in source:
            if isinstance(item, dict) and item.get("type") == "mcp_approval_request":
                found[str(item.get("id"))] = item
    return found


async def answer_approvals(
    answers: list[dict[str, Any]],
    requests: dict[str, dict[str, Any]],
    tools: ServerTools,
    turns: ToolTurns,
) -> list[dict[str, Any]]:
    """Run or deny each answered request; the client's items for the calls run."""
    shown: list[dict[str, Any]] = []
    for answer in answers:
        request_id = answer["approval_request_id"]
        request = requests.get(request_id)
        if request is None:
            raise InvalidRequestError(
                f"No approval request with id '{request_id}' was found in this response's context.",
                param="input",
                code="invalid_value",
            )
        label = request.get("server_label")
        server = tools.servers.get(str(label))
        function = server.function_name(str(request.get("name"))) if server else None
        if server is None or function is None:
            raise InvalidRequestError(
                f"The approval request '{request_id}' is for a tool of MCP server '{label}', "
                "which is not among this request's tools.",
                param="tools",
                code="invalid_value",
            )
        call = {
            "type": "function_call",
            "call_id": new_id("call"),
            "name": function,
            "arguments": request.get("arguments") or "{}",
        }
        if not answer["approve"]:
            reason = answer.get("reason")
            output = "The user did not approve this tool call." + (
                f" Reason: {reason}" if isinstance(reason, str) and reason else ""
            )
        elif turns.admit():
            item, output = await server.call(str(request.get("name")), call["arguments"])
            item["approval_request_id"] = request_id
            shown.append(item)
        else:
            output = "The tool call was not run: the response reached max_tool_calls."
        turns.answered(call, output)
    return shown
