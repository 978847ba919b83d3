"""Input items: checked, given ids and a canonical form, then kept encoded.

Stored items need ids (for listing and paging) and a type, and message text as content
parts in their full shape (output text with annotations and logprobs), as the hosted API
lists them.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.ids import new_id
from core.common.validation import invalid_type, missing

__all__ = ["check_item", "input_items"]

_ROLES = ("user", "assistant", "system", "developer")
_TEXT_PARTS = ("input_text", "output_text")
_ID_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "mcp_approval_response": "mcpa",
    "reasoning": "rs",
}


def _check_parts(parts: list[Any], param: str) -> None:
    for i, part in enumerate(parts):
        where = f"{param}[{i}]"
        if not isinstance(part, dict):
            raise invalid_type(where, "an object", part)
        if not isinstance(part.get("type"), str):
            raise missing(f"{where}.type")
        if part["type"] in _TEXT_PARTS and not isinstance(part.get("text"), str):
            raise missing(f"{where}.text")


def _lacks_output_fields(part: dict[str, Any]) -> bool:
    missing = part.get("annotations") is None or part.get("logprobs") is None
    return part["type"] == "output_text" and missing


def _full_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output text parts in their full output shape: the hosted API lists an assistant
    message a client added with `annotations` and `logprobs` (empty), as a model's."""
    full = []
    for part in parts:
        if part["type"] == "output_text":
            part = {**part, "annotations": part.get("annotations") or []}
            part["logprobs"] = part.get("logprobs") or []
        full.append(part)
    return full


def check_item(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_type(param, "an object", value)
    item: dict[str, Any] = value
    kind = item.get("type")
    if kind is None and "role" in item:
        kind = "message"
    if not isinstance(kind, str):
        raise missing(f"{param}.type")
    if kind == "message":
        role = item.get("role")
        if role not in _ROLES:
            if role is None:
                raise missing(f"{param}.role")
            raise InvalidRequestError(
                f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', "
                "'developer', and 'user'.",
                param=f"{param}.role",
                code="invalid_value",
            )
        content = item.get("content")
        if content is None:
            raise missing(f"{param}.content")
        if isinstance(content, str):
            part = "output_text" if role == "assistant" else "input_text"
            item = {**item, "content": _full_parts([{"type": part, "text": content}])}
        elif not isinstance(content, list):
            raise invalid_type(f"{param}.content", "one of a string or array", content)
        else:
            _check_parts(content, f"{param}.content")
            if any(_lacks_output_fields(part) for part in content):
                item = {**item, "content": _full_parts(content)}
        if "status" not in item:
            item = {**item, "status": "completed"}
    elif kind in ("function_call", "function_call_output"):
        required = ("call_id", "name", "arguments") if kind == "function_call" else ("call_id",)
        for key in required:
            if not isinstance(item.get(key), str):
                raise missing(f"{param}.{key}")
        if kind == "function_call_output" and "output" not in item:
            raise missing(f"{param}.output")
    elif kind == "mcp_approval_response":
        if not isinstance(item.get("approval_request_id"), str):
            raise missing(f"{param}.approval_request_id")
        if not isinstance(item.get("approve"), bool):
            raise invalid_type(f"{param}.approve", "a boolean", item.get("approve"))
    item_id = item.get("id")
    if item_id is not None and (not isinstance(item_id, str) or not 0 < len(item_id) <= 256):
        raise invalid_type(f"{param}.id", "a string of 1 to 256 characters", item_id)
    if item_id is None or "type" not in item:
        # Stored items need ids (for listing and paging) and a type; the hosted API
        # fills both in too.
        fields: dict[str, Any] = {"id": item.get("id") or new_id(_ID_PREFIX.get(kind, "item"))}
        fields["type"] = kind
        fields.update((k, v) for k, v in item.items() if k not in ("id", "type"))
        return fields
    return item


def input_items(value: Any, param: str = "input") -> list[tuple[str, bytes]]:
    """(id, encoded item) for a string or array of input items."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    elif not isinstance(value, list):
        raise invalid_type(param, "one of a string or array of input items", value)
    checked = [check_item(item, f"{param}[{i}]") for i, item in enumerate(value)]
    return [(item["id"], orjson.dumps(item)) for item in checked]
