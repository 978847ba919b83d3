"""Parsing, validating and expanding a `POST /v1/responses` body.

Validation mirrors the hosted API's messages and codes so SDK users see familiar errors,
and happens before anything reaches the backend. Items are kept as encoded JSON from here
on: replaying a long chain splices stored bytes instead of re-encoding every item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.errors import InvalidRequestError
from core.ids import new_id

__all__ = ["CreateRequest", "backend_body", "parse_create_request"]

# Fields the gateway owns: the backend never sees them (it is stateless by design).
_GATEWAY_FIELDS = ("previous_response_id", "conversation", "prompt", "metadata", "input", "store")
_ROLES = ("user", "assistant", "system", "developer")
_ID_PREFIX = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}
_METADATA_MAX_KEYS = 16
_METADATA_KEY_MAX = 64
_METADATA_VALUE_MAX = 512


@dataclass(slots=True)
class CreateRequest:
    body: dict[str, Any]
    previous_response_id: str | None
    store: bool
    stream: bool
    metadata: dict[str, str]
    input_items: list[bytes]


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), "a value")


def _invalid_type(param: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _missing(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _optional(body: dict[str, Any], key: str, kinds: tuple[type, ...], expected: str) -> Any:
    value = body.get(key)
    # bool is an int subclass: a boolean only passes where a boolean is expected.
    if value is not None and (
        not isinstance(value, kinds) or isinstance(value, bool) != (bool in kinds)
    ):
        raise _invalid_type(key, expected, value)
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid_type("metadata", "an object", value)
    if len(value) > _METADATA_MAX_KEYS:
        raise InvalidRequestError(
            "Invalid 'metadata': too many properties. Expected an object with at most "
            f"{_METADATA_MAX_KEYS} properties, but got an object with {len(value)} properties "
            "instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > _METADATA_KEY_MAX:
            raise InvalidRequestError(
                f"Invalid 'metadata': string too long. Expected a key with maximum length "
                f"{_METADATA_KEY_MAX}, but got a key with length {len(key)} instead.",
                param="metadata",
                code="string_above_max_length",
            )
        if not isinstance(item, str):
            raise _invalid_type(f"metadata.{key}", "a string", item)
        if len(item) > _METADATA_VALUE_MAX:
            raise InvalidRequestError(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum "
                f"length {_METADATA_VALUE_MAX}, but got a string with length {len(item)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return value


def _check_item(item: Any, param: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _invalid_type(param, "an object", item)
    kind = item.get("type")
    if kind is None and "role" in item:
        kind = "message"
    if not isinstance(kind, str):
        raise _missing(f"{param}.type")
    if kind == "message":
        role = item.get("role")
        if role not in _ROLES:
            if role is None:
                raise _missing(f"{param}.role")
            raise InvalidRequestError(
                f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', "
                "'developer', and 'user'.",
                param=f"{param}.role",
                code="invalid_value",
            )
        content = item.get("content")
        if content is None:
            raise _missing(f"{param}.content")
        if not isinstance(content, str | list):
            raise _invalid_type(f"{param}.content", "one of a string or array", content)
    elif kind in ("function_call", "function_call_output"):
        required = ("call_id", "name", "arguments") if kind == "function_call" else ("call_id",)
        for key in required:
            if not isinstance(item.get(key), str):
                raise _missing(f"{param}.{key}")
        if kind == "function_call_output" and "output" not in item:
            raise _missing(f"{param}.output")
    if item.get("id") is None or "type" not in item:
        # Stored items need ids (for listing and paging) and a type; the hosted API
        # fills both in too.
        fields: dict[str, Any] = {"id": item.get("id") or new_id(_ID_PREFIX.get(kind, "item"))}
        fields["type"] = kind
        fields.update((k, v) for k, v in item.items() if k not in ("id", "type"))
        return fields
    return item


def _input_items(value: Any) -> list[bytes]:
    if value is None:
        return []
    if isinstance(value, str):
        message = {
            "id": new_id("msg"),
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": value}],
        }
        return [orjson.dumps(message)]
    if not isinstance(value, list):
        raise _invalid_type("input", "one of a string or array of input items", value)
    dumps = orjson.dumps
    return [dumps(_check_item(item, f"input[{i}]")) for i, item in enumerate(value)]


def parse_create_request(raw: bytes) -> CreateRequest:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequestError(
            "We could not parse the JSON body of your request. The API expects a JSON payload, "
            "but what was sent was not valid JSON."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequestError(
            f"Invalid body: expected an object, but got {_type_name(body)} instead."
        )
    if body.get("model") is None:
        raise _missing("model")
    _optional(body, "model", (str,), "a string")
    previous = _optional(body, "previous_response_id", (str,), "a string")
    store = _optional(body, "store", (bool,), "a boolean")
    stream = _optional(body, "stream", (bool,), "a boolean")
    _optional(body, "instructions", (str, list), "one of a string or array")
    if body.get("conversation") is not None:
        if previous is not None:
            raise InvalidRequestError(
                "Mutually exclusive parameters: Ensure you are only providing one of: "
                "'previous_response_id' or 'conversation'.",
                param="conversation",
                code="mutually_exclusive_parameters",
            )
        raise InvalidRequestError(
            "Conversations are not enabled on this gateway.",
            param="conversation",
            code="unsupported_parameter",
        )
    for unsupported in ("prompt", "background"):
        if body.get(unsupported):
            raise InvalidRequestError(
                f"'{unsupported}' is not supported by this gateway.",
                param=unsupported,
                code="unsupported_parameter",
            )
    metadata = _metadata(body.get("metadata"))
    items = _input_items(body.get("input"))
    if not items and previous is None:
        raise _missing("input")
    return CreateRequest(
        body=body,
        previous_response_id=previous,
        store=True if store is None else store,
        stream=bool(stream),
        metadata=metadata,
        input_items=items,
    )


def backend_body(request: CreateRequest, context: bytes) -> bytes:
    """The stateless request for the backend: stored context (encoded items joined with
    commas), then the new input."""
    fields = {k: v for k, v in request.body.items() if k not in _GATEWAY_FIELDS}
    # The gateway keeps the state; a backend that stored too would only leak memory.
    fields["store"] = False
    head = orjson.dumps(fields)
    items = b",".join([context, *request.input_items] if context else request.input_items)
    return head[:-1] + b',"input":[' + items + b"]}"
