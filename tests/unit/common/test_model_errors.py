"""Unit tests: pydantic validation errors as the API's error object (`core.common.models`,
`core.common.model_errors`): status, code, param (a JSON path) and message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from core.common.errors import InvalidRequestError
from core.common.model_errors import json_path
from core.common.models import (
    ClosedModel,
    Metadata,
    OpenModel,
    metadata,
    parse,
    parse_body,
    tagged,
)


class Leaf(ClosedModel):
    type: Literal["leaf"]
    size: Annotated[int, Field(ge=1, le=50)] = 10


class Other(ClosedModel):
    type: Literal["other"]


class Sample(OpenModel):
    name: str
    ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    flag: bool = False
    mode: Literal["a", "b", "c"] = "a"
    tags: Annotated[list[str], Field(max_length=2)] = Field(default_factory=list)
    labels: Metadata = Field(default_factory=dict)
    inner: Annotated[Leaf | Other, tagged("type", {"leaf": Leaf, "other": Other})] | None = None
    leaves: list[Leaf] = Field(default_factory=list)


# (data, param, code, message or None)
CASES: list[tuple[Any, str, str, str | None]] = [
    ({}, "x.name", "missing_required_parameter", "Missing required parameter: 'x.name'."),
    ({"name": 5}, "x.name", "invalid_type",
     "Invalid type for 'x.name': expected a string, but got an integer instead."),
    ({"name": "n", "ratio": "0.5"}, "x.ratio", "invalid_type",
     "Invalid type for 'x.ratio': expected a number, but got a string instead."),
    ({"name": "n", "ratio": True}, "x.ratio", "invalid_type", None),
    ({"name": "n", "ratio": 5}, "x.ratio", "invalid_value",
     "Invalid 'x.ratio': number above maximum value. Expected a value <= 1, but got 5 "
     "instead."),
    ({"name": "n", "flag": 1}, "x.flag", "invalid_type",
     "Invalid type for 'x.flag': expected a boolean, but got an integer instead."),
    ({"name": "n", "mode": "z"}, "x.mode", "invalid_value",
     "Invalid value: 'z'. Supported values are: 'a', 'b', and 'c'."),
    ({"name": "n", "mode": 1}, "x.mode", "invalid_type", None),
    ({"name": "n", "tags": ["a", "b", "c"]}, "x.tags", "array_above_max_length",
     "Invalid 'x.tags': array too long. Expected an array with maximum length 2, but got an "
     "array with length 3 instead."),
    ({"name": "n", "tags": ["a", 1]}, "x.tags[1]", "invalid_type", None),
    ({"name": "n", "labels": {"k": 1}}, "x.labels.k", "invalid_type", None),
    ({"name": "n", "labels": {"k" * 65: "v"}}, "x.labels", "string_above_max_length",
     "Invalid 'x.labels': string too long. Expected a key with maximum length 64, but got a "
     "key with length 65 instead."),
    ({"name": "n", "labels": {"k": "v" * 513}}, "x.labels.k", "string_above_max_length", None),
    ({"name": "n", "labels": {f"k{i}": "v" for i in range(17)}}, "x.labels",
     "object_above_max_properties",
     "Invalid 'x.labels': too many properties. Expected an object with at most 16 properties, "
     "but got an object with 17 properties instead."),
    ({"name": "n", "inner": "leaf"}, "x.inner", "invalid_type",
     "Invalid type for 'x.inner': expected an object, but got a string instead."),
    ({"name": "n", "inner": {}}, "x.inner.type", "missing_required_parameter", None),
    ({"name": "n", "inner": {"type": 3}}, "x.inner.type", "invalid_type", None),
    ({"name": "n", "inner": {"type": "tree"}}, "x.inner.type", "invalid_value",
     "Invalid value: 'tree'. Supported values are: 'leaf' and 'other'."),
    ({"name": "n", "inner": {"type": "leaf", "size": 0}}, "x.inner.size",
     "integer_below_min_value",
     "Invalid 'x.inner.size': integer below minimum value. Expected a value >= 1, but got 0 "
     "instead."),
    ({"name": "n", "inner": {"type": "other", "size": 1}}, "x.inner.size", "unknown_parameter",
     "Unknown parameter: 'x.inner.size'."),
    ({"name": "n", "leaves": [{"type": "leaf"}, {"type": "leaf", "size": 51}]},
     "x.leaves[1].size", "integer_above_max_value", None),
    ("text", "x", "invalid_type", None),
]  # fmt: skip


@pytest.mark.parametrize(("data", "param", "code", "message"), CASES)
def test_translated_errors(data: Any, param: str, code: str, message: str | None) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse(Sample, data, "x")
    error = refused.value
    assert (error.status, error.type_, error.param, error.code) == (
        400, "invalid_request_error", param, code
    )  # fmt: skip
    if message is not None:
        assert error.message == message


def test_open_models_keep_unknown_fields_and_closed_ones_refuse_them() -> None:
    sample = parse(Sample, {"name": "n", "newer": {"a": 1}})
    assert sample.model_extra == {"newer": {"a": 1}}
    with pytest.raises(InvalidRequestError) as refused:
        parse(Leaf, {"type": "leaf", "newer": 1})
    assert (refused.value.param, refused.value.code) == ("newer", "unknown_parameter")


def test_strict_integers_stay_integers() -> None:
    assert parse(Sample, {"name": "n", "ratio": 1}).ratio == 1.0
    with pytest.raises(InvalidRequestError):
        parse(Leaf, {"type": "leaf", "size": 2.0})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "We could not parse the JSON body of your request."),
        (b"[1]", "Invalid body: expected an object, but got an array instead."),
        (b"", "Invalid body: expected an object, but got null instead."),
    ],
)
def test_bodies_must_be_objects(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_body(Sample, raw)
    assert refused.value.message.startswith(message)
    assert refused.value.param is None


def test_metadata_null_is_empty() -> None:
    assert metadata(None) == {}
    assert metadata({"a": "b"}) == {"a": "b"}


@pytest.mark.parametrize(
    ("prefix", "loc", "path"),
    [
        ("", ("a", "b"), "a.b"),
        ("tools[0]", ("filters", "filters", 1, "key"), "tools[0].filters.filters[1].key"),
        ("", ("items", 0), "items[0]"),
        ("query", (), "query"),
    ],
)
def test_json_path(prefix: str, loc: tuple[str | int, ...], path: str) -> None:
    assert json_path(prefix, loc) == path
