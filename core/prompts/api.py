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
from core.common.models import parse_body
from core.common.validation import invalid_type, missing
from core.ports import PromptHeader, PromptStore
from core.prompts.models import (
    PromptCreate,
    PromptUpdate,
    PromptVersion,
    PromptVersionBody,
    version_number,
)
from core.prompts.templates import check_variables, placeholders, render_input, render_text
from core.responses.input_items import check_item

__all__ = ["PromptsApi", "ResolvedPrompt"]


@dataclass(frozen=True, slots=True)
class ResolvedPrompt:
    instructions: str | None
    messages: list[bytes]  # rendered template messages, sent before the conversation
    echo: dict[str, Any]  # the response's `prompt` field


def _not_found(prompt_id: str, param: str = "prompt_id") -> NotFoundError:
    return NotFoundError(f"Prompt with id '{prompt_id}' not found.", param=param)


def _template(fields: PromptVersionBody) -> bytes:
    """A version from a create body: instructions and/or input messages."""
    instructions = fields.instructions or None  # "" means none
    messages = fields.input or []
    items = [check_item(message, f"input[{i}]") for i, message in enumerate(messages)]
    for i, item in enumerate(items):
        if item.get("type") != "message":
            raise InvalidRequestError(
                "Prompt input may only hold messages.", param=f"input[{i}]", code="invalid_value"
            )
    version = PromptVersion(
        instructions=instructions,
        input=items,
        variables=placeholders(instructions, items),
        metadata=fields.metadata,
        version_created_at=int(time.time()),
    )
    return version.model_dump_json().encode()


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
        fields = parse_body(PromptCreate, body)
        prompt_id = new_id("pmpt")
        header = orjson.dumps(
            {"id": prompt_id, "name": fields.name, "created_at": int(time.time())}
        )
        version = _template(fields)
        await self._store.create(tenant, prompt_id, header, version)
        return Reply(200, orjson.dumps(_prompt_object(PromptHeader(header, 1, 1), 1, version)))

    async def add_version(self, tenant: str, prompt_id: str, body: bytes) -> Reply:
        version = _template(parse_body(PromptVersionBody, body))
        number = await self._store.add_version(tenant, prompt_id, version)
        if number is None:
            raise _not_found(prompt_id)
        return await self.retrieve(tenant, prompt_id, Request("GET", "", {}, {}), number)

    async def retrieve(
        self, tenant: str, prompt_id: str, request: Request, number: int | None = None
    ) -> Reply:
        raw = request.query.get("version")
        if number is None and raw:
            number = version_number(raw[-1], "version")
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
        number = parse_body(PromptUpdate, body).default_version
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
        number = None if version is None else version_number(version, "prompt.version")
        found = await self._store.get(tenant, prompt_id, number)
        if found is None:
            raise _not_found(prompt_id, param="prompt.id")
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
