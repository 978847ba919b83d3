"""parse_create_request: how input items are normalised and given ids and a type, and
which item ids are accepted (invalid ones are in test_create_request.py's table)."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from core.common.errors import InvalidRequestError
from core.responses.create_request import CreateRequest, parse_create_request
from core.responses.input_items import check_item, input_items

_ID = re.compile(r"^(?P<prefix>[a-z]+)_[0-9a-f]{48}$")
_USER = {"role": "user", "content": "hi"}


def _parse(**fields: Any) -> CreateRequest:
    return parse_create_request(orjson.dumps({"model": "m", "input": "hi", **fields}))


def _items(request: CreateRequest) -> list[dict[str, Any]]:
    return [orjson.loads(item) for item in request.input_items]


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


def _text(text: str, part: str = "input_text") -> list[dict[str, Any]]:
    """A text part as stored: output text in its full output shape."""
    if part == "output_text":
        return [{"type": part, "text": text, "annotations": [], "logprobs": []}]
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
                # Output text is stored in its full output shape.
                "content": [
                    {"type": "output_text", "text": "y", "annotations": [], "logprobs": []}
                ],
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
    assert stored["content"] == _text("héllo ✓", part)
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


# Item ids: opaque strings of 1 to 256 characters


@pytest.mark.parametrize(
    "item_id",
    ["x", "x" * 256, "é" * 256, "has.dot", "a b/ç ✓", "100%", "msg_mine"],
    ids=["one", "256", "256 non-ascii", "dot", "space slash", "percent", "prefixed"],
)
def test_item_ids_of_1_to_256_characters_are_kept(item_id: str) -> None:
    request = _parse(input=[{"id": item_id, "role": "user", "content": "x"}, _USER])
    assert request.input_ids[0] == item_id
    assert [item["id"] for item in _items(request)] == request.input_ids
    assert request.input_ids[1] != item_id and request.input_ids[1].startswith("msg_")


def test_an_invalid_item_id_message() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _parse(input=[_USER, {**_USER, "id": 12}])
    assert caught.value.message == (
        "Invalid type for 'input[1].id': expected a string of 1 to 256 characters, "
        "but got an integer instead."
    )


@pytest.mark.parametrize("bad", [0, "", "i" * 257, True, [], {}])
def test_item_ids_are_checked_under_the_callers_param(bad: Any) -> None:
    # The Conversations API checks its `items` with the same rules.
    with pytest.raises(InvalidRequestError) as caught:
        input_items([_USER, _USER, {**_USER, "id": bad}], "items")
    assert (caught.value.status, caught.value.param, caught.value.code) == (
        400,
        "items[2].id",
        "invalid_type",
    )
    with pytest.raises(InvalidRequestError) as caught:
        check_item({"type": "function_call_output", "call_id": "c", "output": "", "id": bad}, "x")
    assert (caught.value.param, caught.value.code) == ("x.id", "invalid_type")


def test_an_id_given_as_null_is_generated() -> None:
    [(item_id, encoded)] = input_items([{**_USER, "id": None}], "items")
    assert item_id.startswith("msg_") and len(item_id) == 4 + 48
    assert orjson.loads(encoded)["id"] == item_id
