"""parse_create_request validation and normalisation, and the backend's stateless body."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from core.create_request import CreateRequest, backend_body, parse_create_request
from core.errors import InvalidRequestError

_ID = re.compile(r"^(?P<prefix>[a-z]+)_[0-9a-f]{48}$")
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


def test_string_input_becomes_one_user_message() -> None:
    request = _parse(input="héllo ✓")
    (item,) = _items(request)
    assert item["type"] == "message"
    assert item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "héllo ✓"}]
    assert item["status"] == "completed"
    match = _ID.match(item["id"])
    assert match is not None and match["prefix"] == "msg"


def test_string_inputs_get_distinct_ids() -> None:
    first, second = _items(_parse(input="a"))[0], _items(_parse(input="a"))[0]
    assert first["id"] != second["id"]


def _text(text: str, part: str = "input_text") -> list[dict[str, str]]:
    return [{"type": part, "text": text}]


@pytest.mark.parametrize(
    ("item", "prefix", "expected"),
    [
        (
            {"type": "message", "role": "user", "content": "x"},
            "msg",
            {"type": "message", "role": "user", "content": _text("x"), "status": "completed"},
        ),
        (
            {"role": "assistant", "content": _text("y", "output_text")},
            "msg",
            {
                "type": "message",
                "role": "assistant",
                "content": _text("y", "output_text"),
                "status": "completed",
            },
        ),
        (
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            "fc",
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        ),
        (
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
            "fco",
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ),
        (
            {"type": "message", "role": "user", "content": "x", "id": None},
            "msg",
            {"type": "message", "role": "user", "content": _text("x"), "status": "completed"},
        ),
    ],
)
def test_items_without_id_get_a_prefixed_id(
    item: dict[str, Any], prefix: str, expected: dict[str, Any]
) -> None:
    (stored,) = _items(_parse(input=[item]))
    match = _ID.match(stored["id"])
    assert match is not None, stored["id"]
    assert match["prefix"] == prefix
    assert {k: v for k, v in stored.items() if k != "id"} == expected


@pytest.mark.parametrize(
    ("role", "part"),
    [
        ("user", "input_text"),
        ("system", "input_text"),
        ("developer", "input_text"),
        ("assistant", "output_text"),
    ],
)
def test_string_content_becomes_a_text_part_for_the_role(role: str, part: str) -> None:
    (stored,) = _items(_parse(input=[{"role": role, "content": "héllo ✓"}]))
    assert stored["content"] == [{"type": part, "text": "héllo ✓"}]
    assert stored["role"] == role


def test_a_given_message_status_is_kept() -> None:
    item = {"role": "assistant", "content": "partial", "status": "incomplete"}
    (stored,) = _items(_parse(input=[item]))
    assert stored["status"] == "incomplete"
    assert stored["content"] == _text("partial", "output_text")


def test_content_parts_are_kept_as_given() -> None:
    parts = [{"type": "input_text", "text": "a"}, {"type": "input_image", "image_url": "u"}]
    (stored,) = _items(_parse(input=[{"role": "user", "content": parts}]))
    assert stored["content"] == parts


def test_items_with_ids_keep_them() -> None:
    items = [
        {
            "id": "msg_mine",
            "type": "message",
            "role": "user",
            "content": _text("x"),
            "status": "completed",
        },
        {"id": "fc_mine", "type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"id": "fco_mine", "type": "function_call_output", "call_id": "c", "output": "o"},
    ]
    request = _parse(input=items)
    assert _items(request) == items
    # Items already complete are kept as they were sent.
    assert request.input_items == [orjson.dumps(item) for item in items]
    assert request.input_ids == ["msg_mine", "fc_mine", "fco_mine"]


def test_a_message_with_an_id_is_still_normalised() -> None:
    (stored,) = _items(
        _parse(input=[{"id": "msg_mine", "type": "message", "role": "user", "content": "x"}])
    )
    assert stored == {
        "id": "msg_mine",
        "type": "message",
        "role": "user",
        "content": _text("x"),
        "status": "completed",
    }


def test_type_is_added_to_role_only_messages() -> None:
    (with_id, without_id) = _items(
        _parse(input=[{"id": "msg_x", "role": "developer", "content": "d"}, _USER])
    )
    assert with_id == {
        "id": "msg_x",
        "type": "message",
        "role": "developer",
        "content": _text("d"),
        "status": "completed",
    }
    assert without_id["type"] == "message"
    assert without_id["role"] == "user" and without_id["content"] == _text("hi")
    assert without_id["id"].startswith("msg_")


def test_unknown_item_types_are_kept() -> None:
    item = {"type": "reasoning", "summary": [], "encrypted_content": "xyz"}
    (stored,) = _items(_parse(input=[item]))
    assert {k: v for k, v in stored.items() if k != "id"} == item
    assert stored["id"]


def test_items_keep_their_order() -> None:
    items = [{"role": "user", "content": str(i)} for i in range(5)]
    texts = [item["content"][0]["text"] for item in _items(_parse(input=items))]
    assert texts == ["0", "1", "2", "3", "4"]


# backend_body


def _full_request() -> CreateRequest:
    return parse_create_request(
        orjson.dumps(
            {
                "model": "gpt-x",
                "input": [_USER, {"type": "function_call_output", "call_id": "c", "output": "ok"}],
                "previous_response_id": "resp_prev",
                "metadata": {"k": "v"},
                "conversation": None,
                "prompt": None,
                "store": True,
                "stream": True,
                "instructions": "be brief ✓",
                "tools": [{"type": "function", "name": "f", "parameters": {}}],
                "temperature": 0.25,
                "max_output_tokens": 64,
            }
        )
    )


def test_backend_body_puts_context_then_new_items_in_input() -> None:
    request = _full_request()
    context = [
        orjson.dumps({"id": "msg_old", "type": "message", "role": "user", "content": "é"}),
        orjson.dumps({"id": "msg_ans", "type": "message", "role": "assistant", "content": []}),
    ]
    raw = backend_body(request, b",".join(context))
    body = orjson.loads(raw)
    assert body["input"] == [orjson.loads(item) for item in [*context, *request.input_items]]
    assert b'"input":[' + b",".join([*context, *request.input_items]) + b"]}" in raw


def test_backend_body_is_stateless() -> None:
    body = orjson.loads(backend_body(_full_request(), b""))
    assert body["store"] is False
    for field in ("previous_response_id", "metadata", "conversation", "prompt"):
        assert field not in body, field


def test_backend_body_keeps_other_fields() -> None:
    body = orjson.loads(backend_body(_full_request(), b""))
    assert body["model"] == "gpt-x"
    assert body["instructions"] == "be brief ✓"
    assert body["tools"] == [{"type": "function", "name": "f", "parameters": {}}]
    assert body["temperature"] == 0.25
    assert body["max_output_tokens"] == 64
    assert body["stream"] is True


def test_backend_body_with_store_false_request() -> None:
    request = _parse(store=False, stream=False)
    body = orjson.loads(backend_body(request, b""))
    assert body["store"] is False
    assert body["stream"] is False
    assert body["input"] == _items(request)


def test_backend_body_of_a_continuation_without_new_input() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    context = [orjson.dumps({"id": "msg_1", "type": "message", "role": "user", "content": "x"})]
    raw = backend_body(request, b",".join(context))
    body = orjson.loads(raw)
    assert body == {"model": "m", "store": False, "input": [orjson.loads(context[0])]}
    assert raw.endswith(b'"input":[' + context[0] + b"]}")


def test_backend_body_of_a_continuation_with_several_context_items_and_no_new_input() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    context = [
        orjson.dumps({"id": f"msg_{i}", "type": "message", "content": "x"}) for i in range(3)
    ]
    raw = backend_body(request, b",".join(context))
    assert raw.endswith(b'"input":[' + b",".join(context) + b"]}")
    assert orjson.loads(raw)["input"] == [orjson.loads(item) for item in context]


def test_backend_body_with_no_items_at_all_is_valid_json() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    assert orjson.loads(backend_body(request, b"")) == {"model": "m", "store": False, "input": []}


def test_backend_body_splices_stored_bytes_unchanged() -> None:
    # A stored item is forwarded byte for byte (no re-encoding).
    stored = b'{"id":"msg_1","type":"message","role":"user","content":"\xc3\xa9"}'
    raw = backend_body(_parse(), stored)
    assert b'"input":[' + stored + b"," in raw
    assert orjson.loads(raw)["input"][0]["content"] == "é"
