"""Filling a prompt template's `{{variable}}` placeholders.

Variables are strings or input parts (`input_text`, `input_image`, `input_file`). Text
goes anywhere; a part other than text can only stand in for a whole text part (or a
whole message content), since it cannot sit inside a string.
"""

from __future__ import annotations

import re
from typing import Any

from core.common.errors import InvalidRequestError
from core.common.validation import invalid_type

__all__ = ["PLACEHOLDER", "check_variables", "placeholders", "render_input", "render_text"]

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
_PART_TYPES = ("input_text", "input_image", "input_file")


def placeholders(instructions: str | None, messages: list[dict[str, Any]]) -> list[str]:
    """Every variable name a template uses, sorted."""
    texts = [instructions or ""]
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return sorted({name for text in texts for name in PLACEHOLDER.findall(text)})


def check_variables(value: Any, expected: list[str]) -> dict[str, Any]:
    """The request's variables: exactly the template's, each a string or an input part."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise invalid_type("prompt.variables", "an object", value)
    for name, item in value.items():
        if isinstance(item, str):
            continue
        if not isinstance(item, dict) or item.get("type") not in _PART_TYPES:
            raise InvalidRequestError(
                f"Invalid 'prompt.variables.{name}': expected a string or an input_text, "
                "input_image or input_file part.",
                param=f"prompt.variables.{name}",
                code="invalid_value",
            )
    missing = [name for name in expected if name not in value]
    if missing:
        raise InvalidRequestError(
            f"Missing prompt variables: {', '.join(missing)}.",
            param="prompt.variables",
            code="missing_required_parameter",
        )
    unknown = sorted(set(value) - set(expected))
    if unknown:
        raise InvalidRequestError(
            f"Unknown prompt variables: {', '.join(unknown)}.",
            param="prompt.variables",
            code="unknown_parameter",
        )
    return value


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value.get("type") == "input_text":
        return str(value.get("text", ""))
    raise InvalidRequestError(
        f"Prompt variable '{name}' is an {value.get('type')} part and can only replace a "
        "whole content part, not text inside one.",
        param=f"prompt.variables.{name}",
        code="invalid_value",
    )


def render_text(text: str, variables: dict[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: _as_text(m.group(1), variables[m.group(1)]), text)


def _render_part(part: Any, variables: dict[str, Any]) -> Any:
    if not isinstance(part, dict) or not isinstance(part.get("text"), str):
        return part
    whole = PLACEHOLDER.fullmatch(part["text"].strip())
    if whole:
        value = variables[whole.group(1)]
        if isinstance(value, dict) and value.get("type") != "input_text":
            return value
    return {**part, "text": render_text(part["text"], variables)}


def render_input(messages: list[dict[str, Any]], variables: dict[str, Any]) -> list[dict[str, Any]]:
    """Template messages (content already as parts) with their variables filled in."""
    rendered = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            message = {**message, "content": [_render_part(p, variables) for p in content]}
        rendered.append(message)
    return rendered
