"""Typed edges: the base models every body and stored object builds on, and the one way
to validate client data against them (errors in the API's shape, see `model_errors`).

Models are strict (no coercion: `"5"` is not an integer, `true` is not a number). Bodies
the OpenAI SDK sends keep fields they do not declare (`OpenModel`), so newer fields pass
through; bodies whose endpoint refuses unknown fields use `ClosedModel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, TypeAdapter
from pydantic import ValidationError as _ValidationError

from core.common.errors import InvalidRequestError
from core.common.model_errors import absent, refusal, request_error, type_name, wrong_type

__all__ = [
    "ClosedModel",
    "Metadata",
    "OpenModel",
    "json_object",
    "metadata",
    "parse",
    "parse_as",
    "parse_body",
    "tagged",
]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class OpenModel(BaseModel):
    """Strict, and keeps undeclared fields (what the SDK may send and we pass through)."""

    model_config = ConfigDict(strict=True, extra="allow")


class ClosedModel(BaseModel):
    """Strict, and refuses undeclared fields (`unknown_parameter`)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def parse(model: type[M], data: Any, prefix: str = "") -> M:
    """`data` as `model`, or the API's 400 for its first problem; params start at `prefix`."""
    try:
        return model.model_validate(data)
    except _ValidationError as error:
        raise request_error(error, prefix) from None


def parse_as(adapter: TypeAdapter[T], data: Any, prefix: str) -> T:
    """`parse` for a type that is not a model (a dict of strings, a union...)."""
    try:
        return adapter.validate_python(data, strict=True)
    except _ValidationError as error:
        raise request_error(error, prefix) from None


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
            f"Invalid body: expected an object, but got {type_name(body)} instead."
        )
    return body


def parse_body(model: type[M], raw: bytes) -> M:
    """A JSON request body as `model`."""
    return parse(model, json_object(raw))


def tagged(field: str, choices: Mapping[str, type[BaseModel]]) -> PlainValidator:
    """A union chosen by the value of `field` (say `type`), validated as that one model.

    pydantic's own tagged unions put the tag into error locations; dispatching here keeps
    every error's path the JSON path the client sent.
    """
    supported = [f"'{tag}'" for tag in choices]
    listed = " and ".join(supported)
    if len(supported) > 2:
        listed = ", ".join(supported[:-1]) + ", and " + supported[-1]

    def choose(value: Any) -> BaseModel:
        if not isinstance(value, dict):
            raise wrong_type("an object", value)
        if field not in value:
            raise absent((field,))
        tag = value[field]
        if not isinstance(tag, str):
            raise wrong_type("a string", tag, (field,))
        if tag not in choices:
            raise refusal(
                "invalid_value", f"Invalid value: '{tag[:64]}'. Supported values are: {listed}.",
                (field,),
            )  # fmt: skip
        return choices[tag].model_validate(value)

    return PlainValidator(choose)


def _none_as_empty(value: Any) -> Any:
    return {} if value is None else value


# At most 16 pairs, keys of up to 64 characters, string values of up to 512; null is none.
Metadata = Annotated[
    dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]],
    BeforeValidator(_none_as_empty),
    Field(max_length=16),
]
_METADATA: TypeAdapter[dict[str, str]] = TypeAdapter(Metadata)


def metadata(value: Any) -> dict[str, str]:
    """A request's `metadata` (null or absent is empty)."""
    return parse_as(_METADATA, value, "metadata")
