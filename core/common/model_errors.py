"""The one translation from a pydantic validation error to the API's error object.

Every request model is validated strictly; the first error found becomes an
`invalid_request_error` whose `param` is the JSON path of the offending value
(`tools[0].ranking_options.score_threshold`) and whose message and code are the hosted
API's. Validators that need a rule pydantic cannot express raise `refusal(...)`: its code
and message pass through, `{param}` in the message becomes the path, and `at` extends the
path below the value being validated (a model-level rule pointing at one field).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from core.common.errors import InvalidRequestError

__all__ = ["absent", "json_path", "refusal", "request_error", "type_name", "wrong_type"]

# pydantic's type errors, by what the field expected.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}
# pydantic's own path step for a dictionary key (the value's key, not a field).
_KEY = "[key]"
_QUOTED = re.compile(r"'([^']*)'")


def type_name(value: Any) -> str:
    """How a message names the JSON type of `value`."""
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


def refusal(code: str, message: str, at: Sequence[str | int] = ()) -> PydanticCustomError:
    """An error for a validator to raise; `{param}` in `message` is filled in later."""
    return PydanticCustomError(code, message, {"at": tuple(at)})


def absent(at: Sequence[str | int]) -> PydanticCustomError:
    """A required field is missing, found by a model-level rule."""
    return refusal("missing_required_parameter", "Missing required parameter: '{param}'.", at)


def wrong_type(expected: str, value: Any, at: Sequence[str | int] = ()) -> PydanticCustomError:
    # Preformatted here: the translator sees the whole model as the input of a
    # model-level error, not this value.
    return refusal(
        "invalid_type",
        f"Invalid type for '{{param}}': expected {expected}, but got {type_name(value)} instead.",
        at,
    )


def json_path(prefix: str, loc: Sequence[str | int]) -> str:
    """`tools[0]` + ("ranking_options", "score_threshold") -> the dotted JSON path."""
    path = prefix
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path = f"{path}.{step}" if path else step
    return path


def _choices(expected: str) -> str:
    values = [f"'{v}'" for v in _QUOTED.findall(expected)]
    if len(values) < 3:
        return " and ".join(values)
    return ", ".join(values[:-1]) + ", and " + values[-1]


def _bound(error: ErrorDetails, param: str) -> InvalidRequestError:
    ctx = error.get("ctx", {})
    kind = error["type"]
    below = kind in ("greater_than_equal", "greater_than")
    op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<="}.get(kind, "<")
    limit = next(iter(ctx.values()))
    # The bound's type says what the field holds: an int bound is an integer field.
    integer = isinstance(limit, int)
    noun = "integer" if integer else "number"
    where = "below minimum" if below else "above maximum"
    code = "invalid_value"
    if integer:
        code = "integer_below_min_value" if below else "integer_above_max_value"
    shown = limit if integer else f"{limit:g}"
    return InvalidRequestError(
        f"Invalid '{param}': {noun} {where} value. Expected a value {op} {shown}, "
        f"but got {error['input']} instead.",
        param=param,
        code=code,
    )


def _length(error: ErrorDetails, param: str, key: bool) -> InvalidRequestError:
    value = error["input"]
    ctx = error.get("ctx", {})
    kind = error["type"]
    if kind == "string_too_long":
        what = "a key" if key else "a string"
        return InvalidRequestError(
            f"Invalid '{param}': string too long. Expected {what} with maximum length "
            f"{ctx['max_length']}, but got {what} with length {len(value)} instead.",
            param=param,
            code="string_above_max_length",
        )
    if kind == "string_too_short":
        return InvalidRequestError(
            f"Invalid '{param}': string too short. Expected a string with minimum length "
            f"{ctx['min_length']}, but got a string with length {len(value)} instead.",
            param=param,
            code="invalid_value",
        )
    if kind == "too_short":
        return InvalidRequestError(
            f"Invalid '{param}': array too short. Expected an array with minimum length "
            f"{ctx['min_length']}, but got an array with length {len(value)} instead.",
            param=param,
            code="invalid_value",
        )
    if isinstance(value, dict):
        return InvalidRequestError(
            f"Invalid '{param}': too many properties. Expected an object with at most "
            f"{ctx['max_length']} properties, but got an object with {len(value)} properties "
            "instead.",
            param=param,
            code="object_above_max_properties",
        )
    return InvalidRequestError(
        f"Invalid '{param}': array too long. Expected an array with maximum length "
        f"{ctx['max_length']}, but got an array with length {len(value)} instead.",
        param=param,
        code="array_above_max_length",
    )


def _translate(error: ErrorDetails, prefix: str) -> InvalidRequestError:
    loc = list(error["loc"])
    key = bool(loc) and loc[-1] == _KEY
    if key:
        loc = loc[:-2]  # a bad key is reported on the object that holds it
    ctx = error.get("ctx", {})
    loc.extend(ctx.get("at", ()))
    param = json_path(prefix, loc)
    kind = error["type"]
    value = error["input"]
    if kind == "missing":
        return InvalidRequestError(
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    if kind == "extra_forbidden":
        return InvalidRequestError(
            f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter"
        )
    if kind in _EXPECTED or (kind == "literal_error" and not isinstance(value, str)):
        expected = _EXPECTED.get(kind, "a string")
        return InvalidRequestError(
            f"Invalid type for '{param}': expected {expected}, but got {type_name(value)} instead.",
            param=param,
            code="invalid_type",
        )
    if kind == "literal_error":
        return InvalidRequestError(
            f"Invalid value: '{value[:64]}'. Supported values are: {_choices(ctx['expected'])}.",
            param=param,
            code="invalid_value",
        )
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _bound(error, param)
    if kind in ("too_long", "too_short", "string_too_long", "string_too_short"):
        return _length(error, param, key)
    if "at" in ctx:  # one of ours
        return InvalidRequestError(error["msg"].replace("{param}", param), param=param, code=kind)
    # Anything else (a constraint with no API wording of its own) is still the client's.
    message = f"Invalid '{param}': {error['msg']}."
    return InvalidRequestError(message, param=param, code="invalid_value")


def request_error(error: ValidationError, prefix: str = "") -> InvalidRequestError:
    """The first problem pydantic found, as the API reports it."""
    return _translate(error.errors(include_url=False)[0], prefix)
