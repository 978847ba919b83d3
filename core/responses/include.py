"""`include`: the extra output data a client asks for, on create, retrieve and the
input-item listing.

The gateway keeps everything it is given (a reasoning item's `encrypted_content`, an
answer's `logprobs`, an input image's URL), so a stored chain replays it to the backend
whatever the client asked for; `include` decides only what the client is shown. What is
not asked for is shown empty: `encrypted_content` and `image_url` as null, `logprobs` as
an empty list (the field is required).
"""

from __future__ import annotations

from typing import Any

from core.common.errors import InvalidRequestError
from core.common.http import Request
from core.common.validation import invalid_type

__all__ = [
    "ENCRYPTED_REASONING",
    "INCLUDABLE",
    "INPUT_IMAGE_URLS",
    "OUTPUT_LOGPROBS",
    "parse_include",
    "query_include",
    "shown_items",
    "shown_response",
]

ENCRYPTED_REASONING = "reasoning.encrypted_content"
OUTPUT_LOGPROBS = "message.output_text.logprobs"
INPUT_IMAGE_URLS = "message.input_image.image_url"

# The hosted API's values (the OpenAPI document's IncludeEnum), in its order; the web
# search, code interpreter and computer ones name items this gateway never makes, and
# are accepted as the hosted API accepts them.
INCLUDABLE = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    INPUT_IMAGE_URLS,
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    ENCRYPTED_REASONING,
    OUTPUT_LOGPROBS,
)
_SUPPORTED = ", ".join(f"'{value}'" for value in INCLUDABLE[:-1]) + f", and '{INCLUDABLE[-1]}'"


def _checked(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid_type(param, "a string", value)
    if value not in INCLUDABLE:
        raise InvalidRequestError(
            f"Invalid value: '{value}'. Supported values are: {_SUPPORTED}.",
            param=param,
            code="invalid_value",
        )
    return value


def parse_include(value: Any) -> frozenset[str]:
    """A create body's `include` (an array of the values above, or null)."""
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise invalid_type("include", "an array", value)
    return frozenset(_checked(item, f"include[{i}]") for i, item in enumerate(value))


def query_include(request: Request) -> frozenset[str]:
    """`include` in a query string: repeated, bracketed (`include[]=`, as the SDK sends
    it) or both."""
    values = [*request.query.get("include", ()), *request.query.get("include[]", ())]
    return frozenset(_checked(value, "include") for value in values)


def _shown_parts(parts: list[Any], include: frozenset[str]) -> list[Any] | None:
    shown: list[Any] | None = None
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        hidden: dict[str, Any] | None = None
        if kind == "output_text" and part.get("logprobs") and OUTPUT_LOGPROBS not in include:
            hidden = {"logprobs": []}
        elif kind == "input_image" and part.get("image_url") and INPUT_IMAGE_URLS not in include:
            hidden = {"image_url": None}
        if hidden is not None:
            shown = shown if shown is not None else list(parts)
            shown[i] = {**part, **hidden}
    return shown


def _shown_item(item: Any, include: frozenset[str]) -> Any:
    if not isinstance(item, dict):
        return item
    kind = item.get("type")
    if kind == "reasoning":
        if item.get("encrypted_content") and ENCRYPTED_REASONING not in include:
            return {**item, "encrypted_content": None}
        return item
    content = item.get("content")
    if (kind == "message" or kind is None) and isinstance(content, list):
        parts = _shown_parts(content, include)
        if parts is not None:
            return {**item, "content": parts}
    return item


def shown_items(items: list[Any], include: frozenset[str]) -> list[Any]:
    """Items as the client asked to see them (copies where something is hidden; the
    items given are never changed, so what is stored keeps everything)."""
    return [_shown_item(item, include) for item in items]


def shown_response(response: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
    """A response object as the client asked to see it (a copy when anything is
    hidden)."""
    output = response.get("output")
    if not isinstance(output, list):
        return response
    shown = shown_items(output, include)
    if all(a is b for a, b in zip(shown, output, strict=True)):
        return response
    return {**response, "output": shown}
