"""Parsing, validating and expanding a `POST /v1/responses` body.

Validation mirrors the hosted API's messages and codes so SDK users see familiar errors,
and happens before anything reaches the backend. Items are kept as encoded JSON from here
on: replaying a long chain splices stored bytes instead of re-encoding every item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.validation import invalid_type, json_object, metadata, missing, optional
from core.responses.include import parse_include
from core.responses.input_items import input_items
from core.responses.replay import for_backend

__all__ = ["CreateRequest", "backend_body", "parse_create_request"]

# Fields the gateway owns: the backend never sees them (it is stateless by design; the
# gateway fits the context to the window itself, see context_fit).
_GATEWAY_FIELDS = (
    "previous_response_id",
    "conversation",
    "prompt",
    "metadata",
    "input",
    "store",
    "context_management",
    "truncation",
)


@dataclass(slots=True)
class CreateRequest:
    body: dict[str, Any]
    previous_response_id: str | None
    conversation_id: str | None
    store: bool
    stream: bool
    metadata: dict[str, str]
    input_items: list[bytes]
    input_ids: list[str]
    prompt: dict[str, Any] | None = None  # the resolved `prompt`, echoed on the response
    include: frozenset[str] = frozenset()  # what the client is shown (see `include`)


def _conversation_id(value: Any) -> str | None:
    """`conversation` is an id or `{"id": ...}`."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("id")
        if value is None:
            raise missing("conversation.id")
    if not isinstance(value, str):
        raise invalid_type("conversation", "one of a string or object", value)
    return value


def parse_create_request(raw: bytes) -> CreateRequest:
    body = json_object(raw)
    if body.get("model") is None:
        raise missing("model")
    optional(body, "model", (str,), "a string")
    previous = optional(body, "previous_response_id", (str,), "a string")
    store = optional(body, "store", (bool,), "a boolean")
    stream = optional(body, "stream", (bool,), "a boolean")
    optional(body, "instructions", (str, list), "one of a string or array")
    limit = optional(body, "max_tool_calls", (int,), "an integer")
    if limit is not None and limit < 0:
        raise InvalidRequestError(
            f"Invalid 'max_tool_calls': integer below minimum value. Expected a value >= 0, "
            f"but got {limit} instead.",
            param="max_tool_calls",
            code="integer_below_min_value",
        )
    conversation = _conversation_id(body.get("conversation"))
    if conversation is not None and previous is not None:
        raise InvalidRequestError(
            "Mutually exclusive parameters: Ensure you are only providing one of: "
            "'previous_response_id' or 'conversation'.",
            param="conversation",
            code="mutually_exclusive_parameters",
        )
    if body.get("background"):
        raise InvalidRequestError(
            "'background' is not supported by this gateway.",
            param="background",
            code="unsupported_parameter",
        )
    items = input_items(body.get("input"))
    if not items and previous is None and conversation is None and body.get("prompt") is None:
        raise missing("input")
    return CreateRequest(
        body=body,
        previous_response_id=previous,
        conversation_id=conversation,
        store=True if store is None else store,
        stream=bool(stream),
        metadata=metadata(body.get("metadata")),
        input_items=[encoded for _, encoded in items],
        input_ids=[item_id for item_id, _ in items],
        include=parse_include(body.get("include")),
    )


def backend_body(
    request: CreateRequest,
    context: bytes,
    preamble: list[bytes] | None = None,
    instructions: str | None = None,
    window: bytes | None = None,
    inputs: list[bytes] | None = None,
) -> bytes:
    """The stateless request for the backend: a prompt's messages (`preamble`), the
    stored context (encoded items joined with commas), then the new input (`inputs`, the
    request's items as the backend gets them, when they differ), with the client's view
    of tool turns translated for the backend. `window`, when given, is the context and
    the input already joined (and compacted)."""
    fields = {k: v for k, v in request.body.items() if k not in _GATEWAY_FIELDS}
    # The gateway keeps the state; a backend that stored too would only leak memory.
    fields["store"] = False
    if instructions is not None:
        fields["instructions"] = instructions
    head = orjson.dumps(fields)
    new = request.input_items if inputs is None else inputs
    history = [context, *new] if window is None else [window]
    parts = [*(preamble or ()), *history]
    items = for_backend(b",".join([part for part in parts if part]))
    return head[:-1] + b',"input":[' + items + b"]}"
