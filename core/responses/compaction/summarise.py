"""Asking the backend for a summary of a context, as one stateless request.

The request goes through the same loopback Envoy listener as tool-loop turns, with the
client's (or the operator's) authorization, and the client's model: the model that will
read the summary writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.common.errors import BadGatewayError
from core.responses.backend_client import BackendClient
from core.responses.replay import for_backend

__all__ = ["SUMMARY_INSTRUCTIONS", "Summary", "summarise", "usage_of"]

SUMMARY_INSTRUCTIONS = (
    "Summarise the conversation so far for an assistant that will continue it without "
    "seeing it. Keep the user's goals and constraints, facts, names, numbers, decisions "
    "taken, tool results that still matter and open questions. Write the summary only."
)
_ASK = "Summarise the conversation above, as instructed."


@dataclass(frozen=True, slots=True)
class Summary:
    text: str
    usage: dict[str, Any]


def usage_of(value: Any) -> dict[str, Any]:
    """A usage object with every field the API's schema requires."""
    usage = value if isinstance(value, dict) else {}
    numbers = {
        key: usage[key] if isinstance(usage.get(key), int) else 0
        for key in ("input_tokens", "output_tokens", "total_tokens")
    }
    details_in = usage.get("input_tokens_details")
    details_out = usage.get("output_tokens_details")
    return {
        **numbers,
        "input_tokens_details": {
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            **(details_in if isinstance(details_in, dict) else {}),
        },
        "output_tokens_details": {
            "reasoning_tokens": 0,
            **(details_out if isinstance(details_out, dict) else {}),
        },
    }


def _text(response: dict[str, Any]) -> str:
    texts = [
        part["text"]
        for item in response.get("output") or ()
        if isinstance(item, dict) and item.get("type") == "message"
        for part in item.get("content") or ()
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    return "".join(texts).strip()


async def summarise(
    backend: BackendClient,
    authorization: str | None,
    model: str,
    items: list[dict[str, Any]],
    instructions: str | None = None,
) -> Summary:
    """The backend's summary of `items` (the backend's view of a context already).
    `instructions` are the client's, shown to the summarising model first."""
    lead = [] if not instructions else [{"role": "developer", "content": instructions}]
    conversation = b",".join(orjson.dumps(item) for item in [*lead, *items])
    ask = orjson.dumps({"role": "user", "content": _ASK})
    joined = for_backend(conversation) + b"," + ask if conversation else ask
    head = orjson.dumps({"model": model, "instructions": SUMMARY_INSTRUCTIONS, "store": False})
    response = await backend.create(head[:-1] + b',"input":[' + joined + b"]}", authorization)
    text = _text(response)
    if not text:
        raise BadGatewayError("The backend returned no summary for the compaction.")
    return Summary(text, usage_of(response.get("usage")))
