"""Relaying a streamed response whose model calls the gateway's tools.

The client sees one continuous stream for the whole loop: the first turn's opening
events, the tools' own items and events in place of the internal function calls (which
never reach it), then each follow-up turn's events. Every event is renumbered, so
`sequence_number` keeps increasing and `output_index` counts the client's items; the
follow-up turns' opening events are dropped, and only the last terminal event is sent,
as the whole response's, after it is stored.

The backend's first turn arrives through `feed`; `finish` (when that stream ends) runs
the tools, streams the follow-up turns from the backend and ends the client's stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from core.common.errors import GatewayError
from core.common.ids import new_id
from core.common.response_stream import BROKEN, DONE, TERMINAL_EVENTS, end_failed
from core.common.sse import SseFrame, SseSplitter, encode_event, json_payload
from core.tools.registry import GatewayFunction
from core.tools.turns import ToolTurns, citations

if TYPE_CHECKING:
    from core.responses.backend_client import BackendClient
    from core.responses.create_flow import CreateResponseFlow

__all__ = ["ToolStreamRelay"]

_OPENING = frozenset(("response.created", "response.queued", "response.in_progress"))


@dataclass(slots=True)
class _Slot:
    """One item of the backend's current turn, by its output_index there."""

    index: int  # the client's output_index (-1 for a call dropped at max_tool_calls)
    function: GatewayFunction | None = None  # for a call the gateway answers
    kind: str = "item"  # "item", "mcp", "file_search", "approval" or "dropped"
    item_id: str = ""  # the client's id for the call's item
    call: dict[str, Any] | None = None  # the backend's function_call, once done


class ToolStreamRelay:
    full_duplex = True

    def __init__(
        self,
        flow: CreateResponseFlow,
        turns: ToolTurns,
        backend: BackendClient,
        authorization: str | None,
    ) -> None:
        self._flow = flow
        self._turns = turns
        self._backend = backend
        self._authorization = authorization
        self._splitter = SseSplitter()
        self._sequence = -1
        self._output: list[dict[str, Any] | None] = []  # the client's items, by index
        self._slots: dict[int, _Slot] = {}
        self._pending: list[_Slot] = []  # calls of this turn, run when it ends
        self._opened: set[str] = set()
        self._snapshot: dict[str, Any] | None = None
        self._ended: tuple[str, dict[str, Any]] | None = None  # this turn's terminal event
        self._led = False
        self._finished = False

    async def feed(self, chunk: bytes) -> bytes:
        """Whole events ready for the client; a partial event waits for more bytes."""
        return self._take(chunk)

    async def finish(self) -> AsyncIterator[bytes]:
        """After the backend's first stream: the rest of the loop, then the end."""
        out = self._flush()
        try:
            while True:
                if self._ended is None:
                    yield out + await self._fail(BROKEN) + DONE
                    return
                kind, response = self._ended
                self._turns.add_usage(response.get("usage"))
                if kind != "response.completed" or not self._pending:
                    break
                yield out + self._lead()
                for slot in self._pending:
                    async for piece in self._run(slot):
                        yield piece
                self._pending = []
                if self._turns.waiting or self._turns.limited:
                    break
                self._ended, self._slots, self._splitter = None, {}, SseSplitter()
                model = (self._snapshot or {}).get("model")
                async for chunk in self._backend.stream(
                    self._turns.follow_up(), self._authorization, model
                ):
                    piece = self._take(chunk)
                    if piece:
                        yield piece
                out = self._flush()
        except GatewayError as error:
            # A follow-up turn the backend refused or broke off: the stream ends failed.
            yield await self._fail(error.message) + DONE
            return
        yield out + self._lead() + await self._complete(kind, response) + DONE

    async def abandon(self) -> None:
        """The stream broke off (backend or client gone): record the response as failed."""
        if not self._finished and self._snapshot is not None:
            await self._fail(BROKEN)

    def _take(self, chunk: bytes) -> bytes:
        frames = self._splitter.feed(chunk)
        return b"".join([self._frame(frame) for frame in frames]) if frames else b""

    def _flush(self) -> bytes:
        return b"".join([self._frame(frame) for frame in self._splitter.flush()])

    def _emit(self, payload: dict[str, Any]) -> bytes:
        if payload.get("type") == "response.output_item.done":  # as `include` asks
            payload = {**payload, "item": self._flow.shown_item(payload.get("item"))}
        self._sequence += 1
        payload["sequence_number"] = self._sequence
        return encode_event(str(payload["type"]), orjson.dumps(payload))

    def _event(self, kind: str, index: int, item_id: str, **fields: Any) -> bytes:
        return self._emit({"type": kind, "output_index": index, "item_id": item_id, **fields})

    def _item(self, kind: str, index: int, item: dict[str, Any]) -> bytes:
        return self._emit({"type": kind, "output_index": index, "item": item})

    def _frame(self, frame: SseFrame) -> bytes:
        data = frame.data
        if data is None or data == b"[DONE]" or self._ended is not None or self._finished:
            return b""
        payload = json_payload(data)
        if payload is None:
            return b""
        kind = str(payload.get("type") or frame.event or "message")
        payload["type"] = kind
        response = payload.get("response")
        if kind in _OPENING:
            if kind in self._opened or not isinstance(response, dict):
                return b""  # a follow-up turn's: the client's response is open already
            self._opened.add(kind)
            self._flow.present(response)
            self._snapshot = response
            return self._emit(payload)
        if kind in TERMINAL_EVENTS:
            self._ended = (kind, response if isinstance(response, dict) else {})
            return b""
        out = self._lead()
        index = payload.get("output_index")
        if not isinstance(index, int):
            return out + self._emit(payload)
        if kind == "response.output_item.added":
            return out + self._added(index, payload)
        slot = self._slots.get(index)
        if slot is None:
            return out + self._emit(payload)
        if slot.kind == "item":
            return out + self._relay_item(slot, kind, payload)
        return out + self._call_event(slot, kind, payload)

    def _added(self, index: int, payload: dict[str, Any]) -> bytes:
        item = payload.get("item")
        function = self._turns.function(item) if isinstance(item, dict) else None
        position = len(self._output)
        if function is None:
            self._slots[index] = _Slot(position)
            self._output.append(None)
            payload["output_index"] = position
            return self._emit(payload)
        if function.needs_approval():
            self._slots[index] = _Slot(position, function, "approval")
            self._output.append(None)
            return b""  # asked for once its arguments are complete
        if not self._turns.admit():
            self._slots[index] = _Slot(-1, function, "dropped")
            return b""
        self._output.append(None)
        if function.kind == "mcp":
            slot = self._slots[index] = _Slot(position, function, "mcp", new_id("mcp"))
            assert function.server is not None
            shown: dict[str, Any] = {
                "id": slot.item_id,
                "type": "mcp_call",
                "status": "in_progress",
                "server_label": function.server.label,
                "name": function.tool,
                "arguments": "",
                "output": None,
                "error": None,
            }
            return self._item("response.output_item.added", position, shown)
        slot = self._slots[index] = _Slot(position, function, "file_search", new_id("fs"))
        shown = {
            "id": slot.item_id,
            "type": "file_search_call",
            "status": "in_progress",
            "queries": [],
            "results": None,
        }
        return self._item("response.output_item.added", position, shown) + self._event(
            "response.file_search_call.in_progress", position, slot.item_id
        )

    def _relay_item(self, slot: _Slot, kind: str, payload: dict[str, Any]) -> bytes:
        payload["output_index"] = slot.index
        found = self._turns.found
        if kind == "response.output_item.done" and isinstance(payload.get("item"), dict):
            item = payload["item"]
            self._turns.keep(item)  # as the backend gave it, before any citation
            self._turns.cite(item)
            self._output[slot.index] = item
        elif kind == "response.content_part.done" and found:
            self._turns.cite_part(payload.get("part"))
        elif kind == "response.output_text.done" and found:
            out = self._emit(payload)
            text = payload.get("text")
            notes = citations(text, found) if isinstance(text, str) else []
            for n, note in enumerate(notes):
                out += self._event(
                    "response.output_text.annotation.added",
                    slot.index,
                    str(payload.get("item_id")),
                    content_index=payload.get("content_index", 0),
                    annotation_index=n,
                    annotation=note,
                )
            return out
        return self._emit(payload)

    def _call_event(self, slot: _Slot, kind: str, payload: dict[str, Any]) -> bytes:
        if slot.kind == "mcp" and kind == "response.function_call_arguments.delta":
            delta = payload.get("delta") or ""
            return self._event(
                "response.mcp_call_arguments.delta", slot.index, slot.item_id, delta=delta
            )
        if slot.kind == "mcp" and kind == "response.function_call_arguments.done":
            arguments = payload.get("arguments") or "{}"
            return self._event(
                "response.mcp_call_arguments.done", slot.index, slot.item_id, arguments=arguments
            )
        call = payload.get("item")
        if kind != "response.output_item.done" or not isinstance(call, dict):
            return b""
        if slot.kind == "approval":
            assert slot.function is not None
            request = self._turns.approval_request(call, slot.function)
            self._output[slot.index] = request
            return self._item("response.output_item.added", slot.index, request) + self._item(
                "response.output_item.done", slot.index, request
            )
        if slot.kind != "dropped":
            slot.call = call
            self._pending.append(slot)
        return b""

    async def _run(self, slot: _Slot) -> AsyncIterator[bytes]:
        """One call, with its events as it runs."""
        assert slot.function is not None and slot.call is not None
        mcp = slot.kind == "mcp"
        working = "response.mcp_call.in_progress" if mcp else "response.file_search_call.searching"
        yield self._event(working, slot.index, slot.item_id)
        shown = await self._turns.run(slot.call, slot.function, slot.item_id)
        self._output[slot.index] = shown
        if mcp:
            done = (
                "response.mcp_call.failed" if shown.get("error") else "response.mcp_call.completed"
            )
        else:
            done = "response.file_search_call.completed"
        yield self._event(done, slot.index, slot.item_id) + self._item(
            "response.output_item.done", slot.index, shown
        )

    def _lead(self) -> bytes:
        """The items the client sees before the model's: a compaction, tool lists,
        approved calls."""
        if self._led:
            return b""
        self._led = True
        out = []
        for item in self._flow.leading:
            index = len(self._output)
            self._output.append(item)
            item_id = str(item.get("id"))
            if item.get("type") == "compaction":  # made before the first turn: no progress
                opening, steps = item, []
            elif item.get("type") == "mcp_list_tools":
                opening = {**item, "tools": []}
                steps = ["response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed"]
            else:
                opening = {**item, "status": "in_progress", "output": None, "error": None}
                ended = "failed" if item.get("error") else "completed"
                steps = ["response.mcp_call.in_progress", f"response.mcp_call.{ended}"]
            out.append(self._item("response.output_item.added", index, opening))
            out.extend(self._event(step, index, item_id) for step in steps)
            out.append(self._item("response.output_item.done", index, item))
        return b"".join(out)

    async def _complete(self, kind: str, response: dict[str, Any]) -> bytes:
        output = [item for item in self._output if item is not None]
        self._turns.finish(response, output)
        self._flow.present(response)
        await self._flow.persist(response)
        self._finished = True
        status = response.get("status")
        terminal = f"response.{status}" if f"response.{status}" in TERMINAL_EVENTS else kind
        # Stored whole; shown as the client's `include` asks.
        return self._emit({"type": terminal, "response": self._flow.shown(response)})

    async def _fail(self, message: str) -> bytes:
        output = [item for item in self._output if item is not None]
        events, self._sequence = await end_failed(
            self._flow, self._snapshot, output, message, self._sequence
        )
        self._finished = True
        return events
