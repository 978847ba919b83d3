"""What a server-side tool loop carries from one backend turn to the next.

Both loops (buffered and streamed) use it: which output items are calls the gateway
answers, running them within `max_tool_calls`, turning calls that need the client's
approval into `mcp_approval_request` items, the backend's view of every turn (which is
what the follow-up request and later turns replay), usage summed over turns, and the
files found, for citations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.common.ids import new_id
from core.common.telemetry import telemetry
from core.common.tracing import tool_span
from core.tools.registry import GatewayFunction, ServerTools

__all__ = ["DEFAULT_MAX_TOOL_CALLS", "ToolTurns", "citations"]

DEFAULT_MAX_TOOL_CALLS = 10
_USAGE = ("input_tokens", "output_tokens", "total_tokens")


def citations(text: str, found: dict[str, str]) -> list[dict[str, Any]]:
    """`file_citation` annotations for the found files a text names (filename or id), at
    their first mention; files found but not named are not cited."""
    notes = []
    for file_id, filename in found.items():
        mentions = [text.find(name) for name in (filename, file_id) if name]
        at = min((p for p in mentions if p >= 0), default=-1)
        if at >= 0:
            notes.append(
                {"type": "file_citation", "index": at, "file_id": file_id, "filename": filename}
            )
    return notes


@dataclass
class ToolTurns:
    tools: ServerTools
    backend_body: bytes  # the first turn's request; its `input` array comes last
    max_tool_calls: int
    backend_output: list[bytes] = field(default_factory=list)  # every turn, as the backend saw it
    usage: dict[str, int] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)  # file id -> filename, every search
    calls: int = 0
    limited: bool = False  # a call was dropped at max_tool_calls
    waiting: bool = False  # a call waits for the client's approval
    # Items as the conversation keeps them, by id, where the client's view hides
    # something (search results not asked for) that a later turn's model needs.
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)

    def function(self, item: dict[str, Any]) -> GatewayFunction | None:
        return self.tools.function(item)

    def keep(self, item: dict[str, Any]) -> None:
        """An item of the backend's own, replayed as it is."""
        self.backend_output.append(orjson.dumps(item))

    def add_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            for key in _USAGE:
                if isinstance(usage.get(key), int):
                    self.usage[key] = self.usage.get(key, 0) + usage[key]

    def admit(self) -> bool:
        """Whether one more call may run; past the limit the call is dropped and the
        response ends `incomplete`."""
        if self.calls >= self.max_tool_calls:
            self.limited = True
            return False
        self.calls += 1
        return True

    def approval_request(self, call: dict[str, Any], function: GatewayFunction) -> dict[str, Any]:
        """The item asking the client to approve a call; the loop stops for the answer,
        and the call is not replayed (the approval's answer brings it back)."""
        assert function.server is not None
        self.waiting = True
        return {
            "id": new_id("mcpr"),
            "type": "mcp_approval_request",
            "server_label": function.server.label,
            "name": function.tool,
            "arguments": call.get("arguments") or "{}",
        }

    async def run(
        self, call: dict[str, Any], function: GatewayFunction, item_id: str | None = None
    ) -> dict[str, Any]:
        """Run an admitted call: the client's item for it."""
        started = time.perf_counter()
        with tool_span(function.tool or function.kind, function.kind):
            shown, result, files = await function.run(call)
        ok = not shown.get("error")
        telemetry().tool_call(function.kind, ok, time.perf_counter() - started)
        if item_id is not None:
            shown["id"] = item_id
        self.found.update(files)
        self.answered(call, result)
        if function.hide_results:
            self.kept[str(shown["id"])] = shown
            shown = {**shown, "results": None}
        return shown

    def answered(self, call: dict[str, Any], result: str) -> None:
        self.keep(call)
        answer = {"type": "function_call_output", "call_id": call.get("call_id"), "output": result}
        self.backend_output.append(orjson.dumps(answer))

    def follow_up(self) -> bytes:
        """The next turn's request: the first one with every turn's items appended."""
        head = self.backend_body[:-2]  # drop the closing "]}"
        separator = b"" if head.endswith(b"[") else b","
        return head + separator + b",".join(self.backend_output) + b"]}"

    def cite_part(self, part: Any) -> None:
        """Add citations to an `output_text` content part."""
        if isinstance(part, dict) and part.get("type") == "output_text":
            text = part.get("text")
            if isinstance(text, str):
                notes = citations(text, self.found)
                part["annotations"] = [*(part.get("annotations") or []), *notes]

    def cite(self, item: Any) -> None:
        """Add citations to the parts of a message item."""
        if isinstance(item, dict) and item.get("type") == "message":
            for part in item.get("content") or ():
                self.cite_part(part)

    def finish(self, response: dict[str, Any], output: list[Any]) -> None:
        """The last turn's response becomes the whole loop's."""
        response["output"] = output
        if self.limited and response.get("status") == "completed":
            response["status"] = "incomplete"
            # The documented reasons (max_output_tokens, content_filter) name neither: the
            # document allows incomplete details without one, as the SDK reads them.
            response["incomplete_details"] = {}
        if self.usage and isinstance(response.get("usage"), dict):
            response["usage"] = {**response["usage"], **self.usage}
