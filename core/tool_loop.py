"""The loop behind server-side tools (non-streaming): call, run the tool, call again.

The backend answers with a function call to a gateway tool; the gateway runs it, sends
the backend the same request extended with the call and its output, and repeats until
the model answers without one (or `max_tool_calls` is reached, which makes the response
`incomplete`). The client gets one response whose output holds every turn in order,
with each internal function call shown as the tool's own item.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.backend_client import BackendClient
from core.server_tools import ServerTools

__all__ = ["DEFAULT_MAX_TOOL_CALLS", "run_tool_loop"]

DEFAULT_MAX_TOOL_CALLS = 10
_USAGE = ("input_tokens", "output_tokens", "total_tokens")


def _extended(body: bytes, items: list[bytes]) -> bytes:
    """`body` (whose last field is the `input` array) with `items` appended to its input."""
    head = body[:-2]  # drop the closing "]}"
    separator = b"" if head.endswith(b"[") else b","
    return head + separator + b",".join(items) + b"]}"


def _cite(output: list[Any], found: dict[str, str]) -> None:
    """Add `file_citation` annotations to the answer for the found files it mentions.

    A file counts as used when the answer names it (its filename or id); files that
    were found but not used get no citation.
    """
    for item in output:
        if item.get("type") != "message":
            continue
        for part in item.get("content") or ():
            text = part.get("text") if part.get("type") == "output_text" else None
            if not isinstance(text, str):
                continue
            notes = part.setdefault("annotations", [])
            for file_id, filename in found.items():
                mentions = [text.find(name) for name in (filename, file_id) if name]
                at = min((p for p in mentions if p >= 0), default=-1)  # the first mention
                if at >= 0:
                    notes.append(
                        {
                            "type": "file_citation",
                            "index": at,
                            "file_id": file_id,
                            "filename": filename,
                        }
                    )


def _add_usage(total: dict[str, Any], usage: Any) -> None:
    if isinstance(usage, dict):
        for key in _USAGE:
            if isinstance(usage.get(key), int):
                total[key] = total.get(key, 0) + usage[key]


async def run_tool_loop(
    response: dict[str, Any],
    *,
    backend_body: bytes,
    backend: BackendClient,
    authorization: str | None,
    tools: ServerTools,
    max_tool_calls: int,
) -> tuple[dict[str, Any], list[bytes]]:
    """The final response as the client sees it, and the output as the backend saw it
    (function calls and their outputs), which is what a later turn replays."""
    client_output: list[Any] = list(tools.leading)
    backend_output: list[bytes] = []
    usage: dict[str, Any] = {}
    found: dict[str, str] = {}  # file id -> filename, across every search
    calls = 0
    while True:
        _add_usage(usage, response.get("usage"))
        called = False
        for item in response.get("output") or []:
            handler = (
                tools.handlers.get(item.get("name"))
                if item.get("type") == "function_call"
                else None
            )
            if handler is None:
                client_output.append(item)
                backend_output.append(orjson.dumps(item))
                continue
            if calls >= max_tool_calls:
                response["status"] = "incomplete"
                response["incomplete_details"] = {"reason": "max_tool_calls"}
                called = False
                break
            calls += 1
            called = True
            shown, result, files = await handler(item)
            found.update(files)
            client_output.append(shown)
            backend_output.append(orjson.dumps(item))
            answer = {
                "type": "function_call_output",
                "call_id": item.get("call_id"),
                "output": result,
            }
            backend_output.append(orjson.dumps(answer))
        if not called:
            break
        response = await backend.create(_extended(backend_body, backend_output), authorization)
    _cite(client_output, found)
    response["output"] = client_output
    if usage and isinstance(response.get("usage"), dict):
        response["usage"] = {**response["usage"], **usage}
    return response, backend_output
