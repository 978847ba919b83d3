"""How a client's response stream ends, whichever relay carries it: the terminal events,
`data: [DONE]`, and the ending of a stream that broke off (stored as failed)."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from core.common.sse import encode_event

__all__ = ["BROKEN", "DONE", "TERMINAL_EVENTS", "Presenter", "end_failed"]

TERMINAL_EVENTS = frozenset(("response.completed", "response.failed", "response.incomplete"))
DONE = b"data: [DONE]\n\n"
BROKEN = "The backend stream ended before the response finished."


class Presenter(Protocol):
    """What a relay needs of the request it carries the answer of."""

    def present(self, response: dict[str, Any]) -> None:
        """Rewrite, in place, the backend's response object as the gateway's own."""

    async def persist(self, response: dict[str, Any]) -> None:
        """Store a finished response (and add its turn to its conversation)."""


async def end_failed(
    flow: Presenter,
    snapshot: dict[str, Any] | None,
    output: list[Any],
    message: str,
    sequence: int,
) -> tuple[bytes, int]:
    """An `error` event then `response.failed`, as the hosted API ends a broken stream,
    with the response stored as failed: the events and the last sequence number used."""
    error = {"code": "server_error", "message": message}
    notice = {"type": "error", **error, "param": None, "sequence_number": sequence + 1}
    response = dict(snapshot or {"created_at": 0, "model": None})
    response.update(status="failed", error=error, output=output)
    flow.present(response)
    await flow.persist(response)
    failed = {"type": "response.failed", "response": response, "sequence_number": sequence + 2}
    events = encode_event("error", orjson.dumps(notice)) + encode_event(
        "response.failed", orjson.dumps(failed)
    )
    return events, sequence + 2
