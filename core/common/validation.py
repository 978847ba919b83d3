"""Checks shared by every endpoint, with the hosted API's messages and codes.

`json_object` and `metadata` live with the models (`core.common.models`) and are
re-exported here for the callers that check fields one at a time.
"""

from __future__ import annotations

from typing import Any

from core.common.errors import InvalidRequestError
from core.common.model_errors import type_name
from core.common.models import json_object, metadata

__all__ = [
    "check_array_length",
    "invalid_type",
    "json_object",
    "metadata",
    "missing",
    "optional",
]


def invalid_type(param: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid type for '{param}': expected {expected}, but got {type_name(value)} instead.",
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


def check_array_length(value: list[Any], param: str, maximum: int) -> None:
    if len(value) > maximum:
        raise InvalidRequestError(
            f"Invalid '{param}': array too long. Expected an array with maximum length "
            f"{maximum}, but got an array with length {len(value)} instead.",
            param=param,
            code="array_above_max_length",
        )
