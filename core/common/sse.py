"""Server-sent events: incremental framing of a byte stream, and encoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["SseFrame", "SseSplitter", "encode_event", "json_payload"]


@dataclass(slots=True)
class SseFrame:
    raw: bytes  # the frame as received, without its terminating blank line
    event: str | None
    data: bytes | None


def _parse(raw: bytes) -> SseFrame:
    event: str | None = None
    data: list[bytes] = []
    for line in raw.split(b"\n"):
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode("utf-8", "replace")
    return SseFrame(raw=raw, event=event, data=b"\n".join(data) if data else None)


class SseSplitter:
    """Cuts a stream of arbitrary chunks into whole SSE frames.

    Chunks may end anywhere, even inside a UTF-8 character; a partial frame waits for
    the next chunk. Line endings are normalised to LF.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[SseFrame]:
        data = self._pending + chunk if self._pending else chunk
        if b"\r" in data:
            if data.endswith(b"\r"):
                # A CR at the end may be the first half of CRLF: decide with the next chunk.
                data, tail = data[:-1], b"\r"
            else:
                tail = b""
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail
        cut = data.rfind(b"\n\n")
        if cut < 0:
            self._pending = data
            return []
        self._pending = data[cut + 2 :]
        return [_parse(raw) for raw in data[:cut].split(b"\n\n") if raw.strip(b"\n")]

    def flush(self) -> list[SseFrame]:
        """Whatever is left when the stream ends (a last frame without a blank line)."""
        rest, self._pending = self._pending.strip(b"\r\n"), b""
        return [_parse(rest)] if rest else []


def encode_event(event_type: str, payload: bytes) -> bytes:
    return b"event: " + event_type.encode() + b"\ndata: " + payload + b"\n\n"


def json_payload(data: bytes) -> dict[str, Any] | None:
    """An event's JSON object; None for data no client could use as an event."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None
