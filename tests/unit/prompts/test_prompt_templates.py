"""Filling prompt templates: placeholders, variable checks and rendering."""

from __future__ import annotations

from typing import Any

import pytest

from core.common.errors import InvalidRequestError
from core.prompts.templates import check_variables, placeholders, render_input, render_text

JSON = dict[str, Any]
IMAGE = {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"}
FILE = {"type": "input_file", "file_id": "file-abc123"}


def text(value: str) -> JSON:
    return {"type": "input_text", "text": value}


def message(*parts: JSON, role: str = "user") -> JSON:
    return {"id": "msg_1", "type": "message", "role": role, "content": list(parts)}


def rejected(call: Any, *args: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as error:
        call(*args)
    assert error.value.status == 400
    return error.value


# placeholders


def test_placeholders_from_instructions_and_message_parts() -> None:
    messages = [
        message(text("Topic: {{topic}}"), role="developer"),
        message(text("{{ question }} and {{  extra_1 }}"), IMAGE),
        message({"type": "output_text", "text": "{{reply.prev-1}}"}, role="assistant"),
    ]
    found = placeholders("You are {{persona}}, helping with {{topic}}.", messages)
    assert found == ["extra_1", "persona", "question", "reply.prev-1", "topic"]


def test_placeholders_deduplicated_and_sorted() -> None:
    found = placeholders("{{b}} {{a}} {{ b }}{{a}}", [message(text("{{c}}{{a}}"))])
    assert found == ["a", "b", "c"]


def test_placeholders_none_and_non_placeholders() -> None:
    assert placeholders(None, []) == []
    assert placeholders("{x} {{}} {{1abc}} {{ a b }} {{{z}}}", [message(IMAGE)]) == ["z"]


def test_placeholders_in_string_content() -> None:
    raw = {"role": "user", "content": "hello {{ name }}"}
    assert placeholders(None, [raw]) == ["name"]


# check_variables


def test_check_variables_accepts_strings_and_input_parts() -> None:
    variables = {"a": "plain", "b": text("t"), "c": IMAGE, "d": FILE}
    assert check_variables(variables, ["a", "b", "c", "d"]) == variables
    assert check_variables(None, []) == {}
    assert check_variables({}, []) == {}


def test_check_variables_missing_lists_every_name() -> None:
    error = rejected(check_variables, {"b": "x"}, ["a", "b", "c"])
    assert (error.code, error.param) == ("missing_required_parameter", "prompt.variables")
    assert error.message.endswith(": a, c.")


def test_check_variables_unknown() -> None:
    error = rejected(check_variables, {"a": "x", "zz": "y", "yy": "z"}, ["a"])
    assert (error.code, error.param) == ("unknown_parameter", "prompt.variables")
    assert "yy, zz" in error.message


@pytest.mark.parametrize("value", [[], "a=b", 3, ["a"]])
def test_check_variables_not_an_object(value: Any) -> None:
    error = rejected(check_variables, value, [])
    assert (error.code, error.param) == ("invalid_type", "prompt.variables")


@pytest.mark.parametrize(
    "value", [5, None, ["x"], {"type": "output_text", "text": "x"}, {"text": "no type"}]
)
def test_check_variables_invalid_part(value: Any) -> None:
    error = rejected(check_variables, {"v": value}, ["v"])
    assert (error.code, error.param) == ("invalid_value", "prompt.variables.v")


# render_text


def test_render_text_substitutes_every_occurrence() -> None:
    variables = {"name": "Ada", "topic": text("maths")}
    rendered = render_text("Hi {{name}}! {{ topic }} for {{name}}.", variables)
    assert rendered == "Hi Ada! maths for Ada."


def test_render_text_values_are_literal() -> None:
    # A value is never re-scanned for placeholders nor read as a regex replacement.
    variables = {"a": "{{b}} \\1 \\g<0>", "b": "B"}
    assert render_text("[{{a}}|{{b}}]", variables) == "[{{b}} \\1 \\g<0>|B]"


def test_render_text_without_placeholders_unchanged() -> None:
    assert render_text("no {vars} here {{ }}", {}) == "no {vars} here {{ }}"


@pytest.mark.parametrize("part", [IMAGE, FILE])
def test_render_text_rejects_non_text_part(part: JSON) -> None:
    error = rejected(render_text, "look: {{pic}}", {"pic": part})
    assert (error.code, error.param) == ("invalid_value", "prompt.variables.pic")


# render_input


def test_render_input_substitutes_text_in_parts() -> None:
    messages = [
        message(text("Topic: {{topic}}"), role="developer"),
        message(text("{{q}} ({{ topic }})"), IMAGE),
    ]
    rendered = render_input(messages, {"topic": "birds", "q": text("Why?")})
    assert rendered == [
        message(text("Topic: birds"), role="developer"),
        message(text("Why? (birds)"), IMAGE),
    ]
    assert messages[0]["content"][0]["text"] == "Topic: {{topic}}"  # input left untouched


@pytest.mark.parametrize("part", [IMAGE, FILE])
def test_render_input_whole_part_replaced_by_part(part: JSON) -> None:
    messages = [message(text("Describe:"), text("  {{ pic }} "), text("{{pic2}}"))]
    rendered = render_input(messages, {"pic": part, "pic2": "as text"})
    assert rendered == [message(text("Describe:"), part, text("as text"))]


def test_render_input_input_text_value_is_text() -> None:
    messages = [message(text("{{note}}"), text("pre {{note}} post"))]
    rendered = render_input(messages, {"note": text("N")})
    assert rendered == [message(text("N"), text("pre N post"))]


@pytest.mark.parametrize("part", [IMAGE, FILE])
def test_render_input_non_text_part_inside_text(part: JSON) -> None:
    error = rejected(render_input, [message(text("see {{pic}} now"))], {"pic": part})
    assert (error.code, error.param) == ("invalid_value", "prompt.variables.pic")


def test_render_input_messages_without_placeholders_unchanged() -> None:
    messages = [
        message(text("plain"), IMAGE, FILE),
        message({"type": "output_text", "text": "done", "annotations": []}, role="assistant"),
    ]
    assert render_input(messages, {"unused": "x"}) == messages
    assert render_input([], {}) == []


def test_render_input_keeps_part_fields() -> None:
    part = {"type": "output_text", "text": "hi {{n}}", "annotations": []}
    rendered = render_input([message(part, role="assistant")], {"n": "Bo"})
    assert rendered[0]["content"] == [{"type": "output_text", "text": "hi Bo", "annotations": []}]
    assert {k: v for k, v in rendered[0].items() if k != "content"} == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
    }
