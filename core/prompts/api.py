"""Versioned prompt templates: their API, and resolving `prompt` on a response.

A prompt holds immutable versions numbered from 1; each has `instructions` and/or
`input` messages with `{{variable}}` placeholders. The default version is the newest
unless one was set. Version numbers are strings on the wire, as in the hosted API's
`prompt` parameter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.http import Reply, Request
from core.common.ids import new_id
from core.common.listing import page, parse_list_params
from core.common.validation import check_array_length, invalid_type, json_object, metadata, missing
from core.ports import PromptHeader, PromptStore
from core.prompts.templates import check_variables, placeholders, render_input, render_text
from core.responses.input_items import check_item

__all__ = ["PromptsApi", "ResolvedPrompt"]

_MAX_MESSAGES = 100


@dataclass(frozen=True, slots=True)
class ResolvedPrompt:
    instructions: str | None
    messages: list[bytes]  # rendered template messages, sent before the conversation
    echo: dict[str, Any]  # the response's `prompt` field


def _not_found(prompt_id: str, param: str = "prompt_id") -> NotFoundError:
    return NotFoundError(f"Prompt with id '{prompt_id}' not found.", param=param)


def _version_number(value: Any, param: str) -> int:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InvalidRequestError(
            f"Invalid '{param}': expected a version number such as \"1\".",
            param=param,
            code="invalid_value",
        )
    return int(text)


def _template(fields: dict[str, Any]) -> bytes:
    """A version from a create body: instructions and/or input messages."""
    instructions = fields.get("instructions") or None  # "" means none
    if instructions is not None and not isinstance(instructions, str):
        raise invalid_type("instructions", "a string", instructions)
    messages = fields.get("input")
    if messages is None:
        messages = []
    if not isinstance(messages, list):
        raise invalid_type("input", "an array", messages)
    check_array_length(messages, "input", _MAX_MESSAGES)
    if not instructions and not messages:
        raise InvalidRequestError(
            "A prompt needs 'instructions', 'input' messages, or both.",
            param="instructions",
            code="missing_required_parameter",
        )
    items = [check_item(message, f"input[{i}]") for i, message in enumerate(messages)]
    for i, item in enumerate(items):
        if item.get("type") != "message":
            raise InvalidRequestError(
                "Prompt input may only hold messages.", param=f"input[{i}]", code="invalid_value"
            )
    return orjson.dumps(
        {
            "instructions": instructions,
            "input": items,
            "variables": placeholders(instructions, items),
            "metadata": metadata(fields.get("metadata")),
            "version_created_at": int(time.time()),
        }
    )


def _prompt_object(header: PromptHeader, version: int, body: bytes) -> dict[str, Any]:
    return {
        **orjson.loads(header.header),
        "object": "prompt",
        "version": str(version),
        "default_version": str(header.default),
        "latest_version": str(header.latest),
        **orjson.loads(body),
    }


class PromptsApi:
    def __init__(self, store: PromptStore) -> None:
        self._store = store

    async def create(self, tenant: str, body: bytes) -> Reply:
        fields = json_object(body)
        name = fields.get("name")
        if name is not None and not isinstance(name, str):
            raise invalid_type("name", "a string", name)
        prompt_id = new_id("pmpt")
        header = orjson.dumps({"id": prompt_id, "name": name, "created_at": int(time.time())})
        version = _template(fields)
        await self._store.create(tenant, prompt_id, header, version)
        return Reply(200, orjson.dumps(_prompt_object(PromptHeader(header, 1, 1), 1, version)))

    async def add_version(self, tenant: str, prompt_id: str, body: bytes) -> Reply:
        version = _template(json_object(body))
        number = await self._store.add_version(tenant, prompt_id, version)
        if number is None:
            raise _not_found(prompt_id)
        return await self.retrieve(tenant, prompt_id, Request("GET", "", {}, {}), number)

    async def retrieve(
        self, tenant: str, prompt_id: str, request: Request, number: int | None = None
    ) -> Reply:
        raw = request.query.get("version")
        if number is None and raw:
            number = _version_number(raw[-1], "version")
        found = await self._store.get(tenant, prompt_id, number)
        if found is None:
            raise _not_found(prompt_id)
        header, body = found
        if body is None:
            raise NotFoundError(f"Prompt '{prompt_id}' has no version {number}.", param="version")
        return Reply(200, orjson.dumps(_prompt_object(header, number or header.default, body)))

    async def list(self, tenant: str, request: Request) -> Reply:
        limit, order, after = parse_list_params(request)
        prompts = [
            _prompt_object(header, header.default, body)
            for header, body in await self._store.list(tenant)
        ]
        return Reply(200, page(prompts, limit, order, after))

    async def list_versions(self, tenant: str, prompt_id: str, request: Request) -> Reply:
        limit, order, after = parse_list_params(request)
        found = await self._store.versions(tenant, prompt_id)
        if found is None:
            raise _not_found(prompt_id)
        header, bodies = found
        versions = [_prompt_object(header, n, body) for n, body in enumerate(bodies, start=1)]
        # Every version shares the prompt's id: the cursor is the version number.
        return Reply(200, page(versions, limit, order, after, key="version"))

    async def update(self, tenant: str, prompt_id: str, body: bytes) -> Reply:
        fields = json_object(body)
        if "default_version" not in fields:
            raise missing("default_version")
        number = _version_number(fields["default_version"], "default_version")
        found = await self._store.get(tenant, prompt_id, number)
        if found is None:
            raise _not_found(prompt_id)
        if found[1] is None:
            raise InvalidRequestError(
                f"Prompt '{prompt_id}' has no version {number}.",
                param="default_version",
                code="invalid_value",
            )
        if await self._store.set_default(tenant, prompt_id, number) is None:
            raise _not_found(prompt_id)
        return await self.retrieve(tenant, prompt_id, Request("GET", "", {}, {}), number)

    async def delete(self, tenant: str, prompt_id: str) -> Reply:
        if not await self._store.delete(tenant, prompt_id):
            raise _not_found(prompt_id)
        return Reply(
            200, orjson.dumps({"id": prompt_id, "object": "prompt.deleted", "deleted": True})
        )

    async def resolve(self, tenant: str, param: Any) -> ResolvedPrompt:
        """A response's `prompt` parameter, rendered for the backend."""
        if not isinstance(param, dict):
            raise invalid_type("prompt", "an object", param)
        prompt_id = param.get("id")
        if not isinstance(prompt_id, str):
            raise missing("prompt.id")
        version = param.get("version")
        number = None if version is None else _version_number(version, "prompt.version")
        found = await self._store.get(tenant, prompt_id, number)
        if found is None:
            raise _not_found(prompt_id, param="prompt.id")
        header, body = found
        if body is None:
            raise NotFoundError(
                f"Prompt '{prompt_id}' has no version {number}.", param="prompt.version"
            )
        template = orjson.loads(body)
        variables = check_variables(param.get("variables"), template["variables"])
        instructions = template["instructions"]
        return ResolvedPrompt(
            instructions=None if instructions is None else render_text(instructions, variables),
            messages=[orjson.dumps(m) for m in render_input(template["input"], variables)],
            echo={
                "id": prompt_id,
                "version": str(number or header.default),
                "variables": variables,
            },
        )
