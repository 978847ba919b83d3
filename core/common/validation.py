"""Checks shared by every endpoint, with the hosted API's messages and codes."""

from __future__ import annotations

from typing import Any

import orjson

from core.common.errors import InvalidRequestError

__all__ = [
    "check_array_length",
    "invalid_type",
    "json_object",
    "metadata",
    "missing",
    "optional",
]

_METADATA_MAX_KEYS = 16
_METADATA_KEY_MAX = 64
_METADATA_VALUE_MAX = 512


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object."""
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise InvalidRequestError(
            "We could not parse the JSON body of your request. The API expects a JSON payload, "
            "but what was sent was not valid JSON."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequestError(
            f"Invalid body: expected an object, but got {_type_name(body)} instead."
        )
    return body


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


def invalid_type(param: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def missing(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def optional(body: dict[str, Any], key: str, kinds: tuple[type, ...], expected: str) -> Any:
    value = body.get(key)
    # bool is an int subclass: a boolean only passes where a boolean is expected.
    if value is not None and (
        not isinstance(value, kinds) or isinstance(value, bool) != (bool in kinds)
    ):
        raise invalid_type(key, expected, value)
    return value


def metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_type("metadata", "an object", value)
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
            raise invalid_type(f"metadata.{key}", "a string", item)
        if len(item) > _METADATA_VALUE_MAX:
            raise InvalidRequestError(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum "
                f"length {_METADATA_VALUE_MAX}, but got a string with length {len(item)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return value


def check_array_length(value: list[Any], param: str, maximum: int) -> None:
    if len(value) > maximum:
        raise InvalidRequestError(
            f"Invalid '{param}': array too long. Expected an array with maximum length "
            f"{maximum}, but got an array with length {len(value)} instead.",
            param=param,
            code="array_above_max_length",
        )
