"""parse_create_request: validation, options, and item ids.

Item normalisation is in test_create_request_items.py, the backend's body in
test_backend_body.py.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.common.errors import InvalidRequestError
from core.responses.create_request import CreateRequest, parse_create_request

_USER = {"role": "user", "content": "hi"}


def _body(**fields: Any) -> bytes:
    return orjson.dumps({"model": "m", "input": "hi", **fields})


def _parse(**fields: Any) -> CreateRequest:
    return parse_create_request(_body(**fields))


def _items(request: CreateRequest) -> list[dict[str, Any]]:
    return [orjson.loads(item) for item in request.input_items]


# (raw body, param, code)
_INVALID: dict[str, tuple[bytes, str | None, str | None]] = {
    "malformed json": (b'{"model": "m", "input": ', None, None),
    "empty body": (b"", None, None),
    "array body": (b'[{"model": "m"}]', None, None),
    "string body": (b'"hello"', None, None),
    "null body": (b"null", None, None),
    "missing model": (orjson.dumps({"input": "hi"}), "model", "missing_required_parameter"),
    "null model": (
        orjson.dumps({"model": None, "input": "hi"}),
        "model",
        "missing_required_parameter",
    ),
    "model int": (orjson.dumps({"model": 5, "input": "hi"}), "model", "invalid_type"),
    "model bool": (orjson.dumps({"model": True, "input": "hi"}), "model", "invalid_type"),
    "model object": (orjson.dumps({"model": {}, "input": "hi"}), "model", "invalid_type"),
    "missing input": (orjson.dumps({"model": "m"}), "input", "missing_required_parameter"),
    "empty input": (_body(input=[]), "input", "missing_required_parameter"),
    "input int": (_body(input=5), "input", "invalid_type"),
    "input object": (_body(input={"role": "user"}), "input", "invalid_type"),
    "input bool": (_body(input=True), "input", "invalid_type"),
    "item string": (_body(input=["hi"]), "input[0]", "invalid_type"),
    "second item list": (_body(input=[_USER, [1]]), "input[1]", "invalid_type"),
    "item without type or role": (
        _body(input=[{"content": "x"}]),
        "input[0].type",
        "missing_required_parameter",
    ),
    "bad role": (
        _body(input=[{"role": "robot", "content": "x"}]),
        "input[0].role",
        "invalid_value",
    ),
    "message missing role": (
        _body(input=[{"type": "message", "content": "x"}]),
        "input[0].role",
        "missing_required_parameter",
    ),
    "missing content": (
        _body(input=[_USER, {"role": "user"}]),
        "input[1].content",
        "missing_required_parameter",
    ),
    "content wrong type": (
        _body(input=[{"role": "user", "content": 3}]),
        "input[0].content",
        "invalid_type",
    ),
    "function_call missing call_id": (
        _body(input=[{"type": "function_call", "name": "f", "arguments": "{}"}]),
        "input[0].call_id",
        "missing_required_parameter",
    ),
    "function_call missing name": (
        _body(input=[{"type": "function_call", "call_id": "c", "arguments": "{}"}]),
        "input[0].name",
        "missing_required_parameter",
    ),
    "function_call_output missing output": (
        _body(input=[{"type": "function_call_output", "call_id": "c"}]),
        "input[0].output",
        "missing_required_parameter",
    ),
    "function_call_output missing call_id": (
        _body(input=[{"type": "function_call_output", "output": "x"}]),
        "input[0].call_id",
        "missing_required_parameter",
    ),
    "metadata too many keys": (
        _body(metadata={f"k{i}": "v" for i in range(17)}),
        "metadata",
        "object_above_max_properties",
    ),
    "metadata key too long": (
        _body(metadata={"k" * 65: "v"}),
        "metadata",
        "string_above_max_length",
    ),
    "metadata value too long": (
        _body(metadata={"key": "v" * 513}),
        "metadata.key",
        "string_above_max_length",
    ),
    "metadata value int": (_body(metadata={"key": 1}), "metadata.key", "invalid_type"),
    "metadata value bool": (_body(metadata={"key": True}), "metadata.key", "invalid_type"),
    "metadata value null": (_body(metadata={"key": None}), "metadata.key", "invalid_type"),
    "metadata not object": (_body(metadata=["a"]), "metadata", "invalid_type"),
    "store string": (_body(store="yes"), "store", "invalid_type"),
    "store int": (_body(store=1), "store", "invalid_type"),
    "store int zero": (_body(store=0), "store", "invalid_type"),
    "stream string": (_body(stream="true"), "stream", "invalid_type"),
    "stream int": (_body(stream=1), "stream", "invalid_type"),
    "previous_response_id bool": (
        _body(previous_response_id=True),
        "previous_response_id",
        "invalid_type",
    ),
    "previous_response_id int": (
        _body(previous_response_id=7),
        "previous_response_id",
        "invalid_type",
    ),
    "instructions bool": (_body(instructions=False), "instructions", "invalid_type"),
    "instructions int": (_body(instructions=3), "instructions", "invalid_type"),
    "conversation and previous_response_id": (
        _body(conversation="conv_1", previous_response_id="resp_1"),
        "conversation",
        "mutually_exclusive_parameters",
    ),
    "conversation without id": (
        _body(conversation={}),
        "conversation.id",
        "missing_required_parameter",
    ),
    "conversation id int": (_body(conversation=7), "conversation", "invalid_type"),
    "conversation list": (_body(conversation=["conv_1"]), "conversation", "invalid_type"),
    "background": (_body(background=True), "background", "unsupported_parameter"),
    "item id int": (_body(input=[{**_USER, "id": 5}]), "input[0].id", "invalid_type"),
    "item id empty": (_body(input=[{**_USER, "id": ""}]), "input[0].id", "invalid_type"),
    "item id of 257 characters": (
        _body(input=[{**_USER, "id": "x" * 257}]),
        "input[0].id",
        "invalid_type",
    ),
    "item id false": (_body(input=[{**_USER, "id": False}]), "input[0].id", "invalid_type"),
    "item id list": (_body(input=[{**_USER, "id": ["msg_1"]}]), "input[0].id", "invalid_type"),
    "second item id object": (
        _body(input=[_USER, {**_USER, "id": {"id": "msg_1"}}]),
        "input[1].id",
        "invalid_type",
    ),
    "function_call id int": (
        _body(
            input=[
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}", "id": 7}
            ]
        ),
        "input[0].id",
        "invalid_type",
    ),
    "unknown item type id empty": (
        _body(input=[{"type": "reasoning", "summary": [], "id": ""}]),
        "input[0].id",
        "invalid_type",
    ),
}


@pytest.mark.parametrize(("raw", "param", "code"), list(_INVALID.values()), ids=list(_INVALID))
def test_invalid_requests_are_rejected(raw: bytes, param: str | None, code: str | None) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_create_request(raw)
    error = caught.value
    assert error.status == 400
    assert error.type_ == "invalid_request_error"
    assert (error.param, error.code) == (param, code)
    assert error.message
    body = orjson.loads(error.body())
    assert body == {
        "error": {
            "message": error.message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


def test_invalid_type_message_names_the_actual_type() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _parse(store="yes")
    assert caught.value.message == (
        "Invalid type for 'store': expected a boolean, but got a string instead."
    )
    with pytest.raises(InvalidRequestError) as caught:
        parse_create_request(orjson.dumps({"model": True, "input": "x"}))
    assert "expected a string, but got a boolean instead" in caught.value.message


def test_metadata_at_the_limits_is_accepted() -> None:
    metadata = {f"{i:0>64}": "v" * 512 for i in range(16)}
    request = _parse(metadata=metadata)
    assert request.metadata == metadata


@pytest.mark.parametrize(
    ("fields", "store", "stream"),
    [
        ({}, True, False),
        ({"store": False}, False, False),
        ({"store": True, "stream": True}, True, True),
        ({"store": None, "stream": None}, True, False),
        ({"stream": False}, True, False),
    ],
)
def test_store_and_stream_defaults(fields: dict[str, Any], store: bool, stream: bool) -> None:
    request = _parse(**fields)
    assert (request.store, request.stream) == (store, stream)


def test_valid_optional_fields_are_accepted() -> None:
    request = _parse(
        previous_response_id="resp_1",
        instructions=[{"role": "system", "content": "be brief"}],
        conversation=None,
        prompt=None,
        background=False,
        metadata={"a": "b"},
    )
    assert request.previous_response_id == "resp_1"
    assert request.metadata == {"a": "b"}


@pytest.mark.parametrize("conversation", ["conv_1", {"id": "conv_1"}])
def test_conversation_is_parsed_into_its_id(conversation: Any) -> None:
    request = _parse(conversation=conversation)
    assert request.conversation_id == "conv_1"
    assert request.previous_response_id is None
    assert len(request.input_items) == 1


def test_conversation_without_input_is_accepted() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "conversation": "conv_1"}))
    assert request.conversation_id == "conv_1"
    assert (request.input_items, request.input_ids) == ([], [])


def test_prompt_without_input_is_accepted() -> None:
    # The prompt's own messages are the input; it is resolved later, against the store.
    request = parse_create_request(orjson.dumps({"model": "m", "prompt": {"id": "pmpt_1"}}))
    assert request.input_items == []
    assert request.body["prompt"] == {"id": "pmpt_1"}


def test_no_conversation_by_default() -> None:
    assert _parse().conversation_id is None
    assert _parse(conversation=None).conversation_id is None


def test_input_ids_are_the_items_ids_in_order() -> None:
    request = _parse(input=[{"id": "msg_a", "role": "user", "content": "a"}, _USER])
    assert request.input_ids == [item["id"] for item in _items(request)]
    assert request.input_ids[0] == "msg_a"
    assert request.input_ids[1].startswith("msg_")


def test_previous_response_id_without_input_is_accepted() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    assert request.input_items == []
    assert request.previous_response_id == "resp_1"
