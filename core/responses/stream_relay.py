"""Relaying the backend's SSE stream to the client, event by event.

Events pass through untouched except the lifecycle ones, whose `response` object is
presented as the gateway's. When the gateway has items of its own to lead the output (a
compaction item), they are streamed after the opening events and every later event is
renumbered (`sequence_number`, `output_index`) to follow them. The terminal event is
stored before it is released, so a client that sees `response.completed` can fetch the
response at once. The stream always ends with a terminal event and `data: [DONE]`, even
when the backend's does not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from core.common.response_stream import BROKEN, DONE, TERMINAL_EVENTS, end_failed
from core.common.sse import SseFrame, SseSplitter, encode_event, json_payload

if TYPE_CHECKING:
    from core.responses.create_flow import CreateResponseFlow

__all__ = ["Relay", "StreamRelay"]

_OPENING = frozenset(("response.created", "response.queued", "response.in_progress"))
_LIFECYCLE = frozenset(
    (
        "response.created",
        "response.queued",
        "response.in_progress",
        "response.completed",
        "response.failed",
        "response.incomplete",
    )
)


class Relay(Protocol):
    """A streamed answer on its way to the client, whichever relay carries it."""

    # Whether the relay adds events after the backend's stream ends (a tool loop's
    # follow-up turns), which needs the proxy's full-duplex body mode.
    full_duplex: bool

    async def feed(self, chunk: bytes) -> bytes:
        """Whole events ready for the client; a partial event waits for more bytes."""

    def finish(self) -> AsyncIterator[bytes]:
        """After the backend's stream ended: the rest of the client's stream."""

    async def abandon(self) -> None:
        """The stream broke off (backend or client gone): record the response as failed."""


class StreamRelay:
    full_duplex = False

    def __init__(self, flow: CreateResponseFlow) -> None:
        self._flow = flow
        self._splitter = SseSplitter()
        self._items: dict[int, Any] = {}  # output_index -> item, from output_item.done
        self._snapshot: dict[str, Any] | None = None  # latest response object seen
        self._sequence = -1
        self._finished = False
        self._leading: list[dict[str, Any]] = list(flow.leading)
        self._led = False

    async def feed(self, chunk: bytes) -> bytes:
        """Whole events ready for the client; a partial event waits for more bytes."""
        frames = self._splitter.feed(chunk)
        if not frames:
            return b""
        return b"".join([await self._relay(frame) for frame in frames])

    async def finish(self) -> AsyncIterator[bytes]:
        """The end of the backend's stream: flush, and close the client's stream properly."""
        out = [await self._relay(frame) for frame in self._splitter.flush()]
        if not self._finished:
            out.append(await self._fail(BROKEN))
        out.append(DONE)
        yield b"".join(out)

    async def abandon(self) -> None:
        """The stream broke off (backend or client gone): record the response as failed."""
        if not self._finished and self._snapshot is not None:
            await self._fail(BROKEN)

    async def _relay(self, frame: SseFrame) -> bytes:
        data = frame.data
        if data is None or self._finished:
            return b""
        if data == b"[DONE]":
            return b""  # we write our own, last
        event = frame.event
        passes = event is not None and event not in _LIFECYCLE
        if passes and event != "response.output_item.done" and not self._leading:
            self._sequence += 1
            return frame.raw + b"\n\n"
        payload = json_payload(data)
        if payload is None:
            return b""
        kind = str(payload.get("type") or event or "message")
        if self._leading:
            return self._lead(kind) + await self._renumbered(kind, payload)
        return await self._relay_payload(frame, kind, payload)

    def _lead(self, kind: str) -> bytes:
        """The gateway's own items, once the opening events are out."""
        if self._led or kind in _OPENING:
            return b""
        self._led = True
        out = []
        for index, item in enumerate(self._leading):
            for step in ("response.output_item.added", "response.output_item.done"):
                self._sequence += 1
                event = {"type": step, "output_index": index, "item": item}
                out.append(
                    encode_event(step, orjson.dumps(event | {"sequence_number": self._sequence}))
                )
        return b"".join(out)

    async def _renumbered(self, kind: str, payload: dict[str, Any]) -> bytes:
        """An event placed after the leading items."""
        payload["sequence_number"] = self._sequence + 1
        index = payload.get("output_index")
        if isinstance(index, int):
            payload["output_index"] = index + len(self._leading)
        out = await self._relay_payload(None, kind, payload)
        return out or encode_event(kind, orjson.dumps(payload))

    async def _relay_payload(
        self, frame: SseFrame | None, kind: str, payload: dict[str, Any]
    ) -> bytes:
        """An event whose payload is read; b"" (with `frame` None) to send it as it is."""
        sequence = payload.get("sequence_number")
        self._sequence = sequence if isinstance(sequence, int) else self._sequence + 1
        if kind == "response.output_item.done":
            index, item = payload.get("output_index"), payload.get("item")
            if isinstance(index, int):
                self._items[index] = item
            shown = self._flow.shown_item(item)
            if shown is not item:  # kept whole for the stored response
                return encode_event(kind, orjson.dumps({**payload, "item": shown}))
        elif kind in _LIFECYCLE and isinstance(payload.get("response"), dict):
            response = payload["response"]
            self._flow.present(response)
            self._snapshot = response
            if kind in TERMINAL_EVENTS:
                if not response.get("output") and self._items:
                    response["output"] = [self._items[i] for i in sorted(self._items)]
                if self._leading:
                    response["output"] = [*self._leading, *(response.get("output") or [])]
                await self._flow.persist(response)
                self._finished = True
            shown = self._flow.shown(response)  # stored whole, shown as asked
            return encode_event(kind, orjson.dumps({**payload, "response": shown}))
        if frame is None:
            return b""
        if frame.event is None:
            return encode_event(kind, frame.data or b"")
        return frame.raw + b"\n\n"

    async def _fail(self, message: str) -> bytes:
        output = [*self._leading, *(self._items[i] for i in sorted(self._items))]
        events, self._sequence = await end_failed(
            self._flow, self._snapshot, output, message, self._sequence
        )
        self._finished = True
        return events
