"""Chat Completions stream chunks as the Responses event stream a Responses backend would
have sent: created, in_progress, items added with their parts, deltas, done events, then
completed (or incomplete, or failed). Each chunk's events come out as soon as it is fed:
nothing waits for the end but the terminal events."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.chat_completions.response import message_item, reasoning_item, status_of, usage_of
from core.common.ids import new_id
from core.common.sse import SseSplitter, encode_event, json_payload

__all__ = ["ChatEventStream", "ChatSseTranslator"]


@dataclass(slots=True)
class _Open:
    kind: str  # reasoning | message | function_call
    index: int  # output_index
    item_id: str
    text: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""


class ChatEventStream:
    """Responses events for a sequence of decoded chat chunks."""

    def __init__(self) -> None:
        self._sequence = 0
        self._response: dict[str, Any] | None = None
        self._output: list[dict[str, Any] | None] = []
        self._current: _Open | None = None  # open reasoning or message item
        self._calls: dict[int, _Open] = {}  # open function calls by the chat's tool index
        self._finish: Any = None
        self._usage: dict[str, Any] | None = None
        self.ended = False

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, **fields, "sequence_number": self._sequence}
        self._sequence += 1
        return event

    def _start(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        self._response = {
            "id": new_id("resp"),
            "object": "response",
            "created_at": chunk.get("created") or int(time.time()),
            "status": "in_progress",
            "model": chunk.get("model"),
            "output": [],
            "usage": None,
            "error": None,
            "incomplete_details": None,
        }
        snapshot = dict(self._response)
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        events = self._start(chunk) if self._response is None else []
        if isinstance(chunk.get("usage"), dict):
            self._usage = usage_of(chunk["usage"])
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                events += self._text("reasoning", reasoning)
            content = delta.get("content")
            if isinstance(content, str) and content:
                events += self._text("message", content)
            for call in delta.get("tool_calls") or []:
                events += self._call(call)
            if choice.get("finish_reason") is not None:
                self._finish = choice["finish_reason"]
        return events

    def _text(self, kind: str, text: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        current = self._current
        if current is None or current.kind != kind:
            events += self._close_current()
            current = self._current = _Open(kind, len(self._output), new_id(_PREFIX[kind]))
            self._output.append(None)
            if kind == "message":
                item = {**message_item(current.item_id, ""), "status": "in_progress"}
                item["content"] = []
                events.append(
                    self._event("response.output_item.added", output_index=current.index, item=item)
                )
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                events.append(self._part_event("response.content_part.added", current, part))
            else:
                item = reasoning_item(current.item_id, "")
                item["content"] = []
                events.append(
                    self._event("response.output_item.added", output_index=current.index, item=item)
                )
        current.text.append(text)
        if kind == "message":
            events.append(
                self._event(
                    "response.output_text.delta",
                    item_id=current.item_id,
                    output_index=current.index,
                    content_index=0,
                    delta=text,
                    logprobs=[],
                )
            )
        else:
            events.append(
                self._event(
                    "response.reasoning_text.delta",
                    item_id=current.item_id,
                    output_index=current.index,
                    content_index=0,
                    delta=text,
                )
            )
        return events

    def _part_event(self, kind: str, current: _Open, part: dict[str, Any]) -> dict[str, Any]:
        return self._event(
            kind, item_id=current.item_id, output_index=current.index, content_index=0, part=part
        )

    def _close_current(self) -> list[dict[str, Any]]:
        current, self._current = self._current, None
        if current is None:
            return []
        text = "".join(current.text)
        where = {"item_id": current.item_id, "output_index": current.index, "content_index": 0}
        if current.kind == "message":
            item = message_item(current.item_id, text)
            part = item["content"][0]
            events = [
                self._event("response.output_text.done", **where, text=text, logprobs=[]),
                self._part_event("response.content_part.done", current, part),
            ]
        else:
            item = reasoning_item(current.item_id, text)
            events = [self._event("response.reasoning_text.done", **where, text=text)]
        self._output[current.index] = item
        events.append(
            self._event("response.output_item.done", output_index=current.index, item=item)
        )
        return events

    def _call(self, call: Any) -> list[dict[str, Any]]:
        if not isinstance(call, dict):
            return []
        position = int(call.get("index", 0))
        function = call.get("function") or {}
        events: list[dict[str, Any]] = []
        opened = self._calls.get(position)
        if opened is None:
            events += self._close_current()
            opened = _Open(
                "function_call",
                len(self._output),
                new_id("fc"),
                call_id=call.get("id") or new_id("call"),
                name=function.get("name") or "",
            )
            self._calls[position] = opened
            self._output.append(None)
            item = self._call_item(opened, "", "in_progress")
            events.append(
                self._event("response.output_item.added", output_index=opened.index, item=item)
            )
        elif function.get("name"):
            opened.name += function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            opened.text.append(arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=opened.item_id,
                    output_index=opened.index,
                    delta=arguments,
                )
            )
        return events

    @staticmethod
    def _call_item(opened: _Open, arguments: str, status: str) -> dict[str, Any]:
        return {
            "type": "function_call",
            "id": opened.item_id,
            "call_id": opened.call_id,
            "name": opened.name,
            "arguments": arguments,
            "status": status,
        }

    def finish(self) -> list[dict[str, Any]]:
        """The terminal events, once the backend's stream has ended."""
        if self.ended:
            return []
        if self._response is None or self._finish is None:
            return self.fail("The backend's stream ended before the answer was complete.")
        events = self._close_current()
        for opened in sorted(self._calls.values(), key=lambda c: c.index):
            arguments = "".join(opened.text)
            item = self._call_item(opened, arguments, "completed")
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=opened.item_id,
                    output_index=opened.index,
                    name=opened.name,
                    arguments=arguments,
                )
            )
            events.append(
                self._event("response.output_item.done", output_index=opened.index, item=item)
            )
            self._output[opened.index] = item
        self._calls = {}
        status, details = status_of(self._finish)
        response = {
            **self._response,
            "status": status,
            "incomplete_details": details,
            "output": [item for item in self._output if item is not None],
            "usage": self._usage,
        }
        self.ended = True
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return [*events, self._event(kind, response=response)]

    def fail(self, message: str) -> list[dict[str, Any]]:
        """End the stream as a failed response (a malformed or cut-off backend stream)."""
        if self.ended:
            return []
        events = [] if self._response is not None else self._start({})
        assert self._response is not None
        response = {
            **self._response,
            "status": "failed",
            "error": {"code": "server_error", "message": message},
            "output": [item for item in self._output if item is not None],
            "usage": self._usage,
        }
        self.ended = True
        return [*events, self._event("response.failed", response=response)]


_PREFIX = {"message": "msg", "reasoning": "rs"}


class ChatSseTranslator:
    """The backend's Chat Completions SSE bytes in, Responses SSE bytes out."""

    def __init__(self) -> None:
        self._frames = SseSplitter()
        self.events = ChatEventStream()

    def feed(self, raw: bytes) -> bytes:
        return self._encode(self._translate(self._frames.feed(raw)))

    def finish(self) -> bytes:
        events = self._translate(self._frames.flush())
        return self._encode(events + self.events.finish())

    def _translate(self, frames: list[Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for frame in frames:
            if self.events.ended or frame.data is None:
                continue
            if frame.data.strip() == b"[DONE]":
                events += self.events.finish()
                continue
            chunk = json_payload(frame.data)
            if chunk is None:
                events += self.events.fail("The backend sent a stream chunk that is not JSON.")
            elif "error" in chunk and "choices" not in chunk:
                message = str((chunk.get("error") or {}).get("message") or "The backend failed.")
                events += self.events.fail(message)
            else:
                events += self.events.feed(chunk)
        return events

    @staticmethod
    def _encode(events: list[dict[str, Any]]) -> bytes:
        return b"".join(encode_event(event["type"], orjson.dumps(event)) for event in events)
