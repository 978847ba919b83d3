"""Resolving a response's `prompt` parameter: the version it names, rendered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.common.errors import NotFoundError
from core.common.validation import invalid_type, missing
from core.ports import PromptStore
from core.prompts.models import PromptVersion, version_number
from core.prompts.templates import check_variables, render_input, render_text

__all__ = ["ResolvedPrompt", "prompt_not_found", "resolve_prompt"]


@dataclass(frozen=True, slots=True)
class ResolvedPrompt:
    instructions: str | None
    messages: list[bytes]  # rendered template messages, sent before the conversation
    echo: dict[str, Any]  # the response's `prompt` field


def prompt_not_found(prompt_id: str, param: str = "prompt_id") -> NotFoundError:
    return NotFoundError(f"Prompt with id '{prompt_id}' not found.", param=param)


async def resolve_prompt(store: PromptStore, tenant: str, param: Any) -> ResolvedPrompt:
    """A response's `prompt` parameter, rendered for the backend."""
    if not isinstance(param, dict):
        raise invalid_type("prompt", "an object", param)
    prompt_id = param.get("id")
    if not isinstance(prompt_id, str):
        raise missing("prompt.id")
    version = param.get("version")
    number = None if version is None else version_number(version, "prompt.version")
    found = await store.get(tenant, prompt_id, number)
    if found is None:
        raise prompt_not_found(prompt_id, param="prompt.id")
    header, body = found
    if body is None:
        raise NotFoundError(
            f"Prompt '{prompt_id}' has no version {number}.", param="prompt.version"
        )
    template = PromptVersion.model_validate_json(body)
    variables = check_variables(param.get("variables"), template.variables)
    instructions = template.instructions
    return ResolvedPrompt(
        instructions=None if instructions is None else render_text(instructions, variables),
        messages=[orjson.dumps(m) for m in render_input(template.input, variables)],
        echo={
            "id": prompt_id,
            "version": str(number or header.default),
            "variables": variables,
        },
    )
