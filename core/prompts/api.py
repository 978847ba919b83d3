"""The Prompts API: versioned prompt templates.

A prompt holds immutable versions numbered from 1; each has `instructions` and/or
`input` messages with `{{variable}}` placeholders. The default version is the newest
unless one was set. Version numbers are strings on the wire, as in the hosted API's
`prompt` parameter.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.http import Call, Reply, deleted
from core.common.ids import new_id
from core.common.listing import list_body, page_request, window
from core.common.models import parse_body
from core.ports import PromptHeader, PromptStore
from core.prompts.models import (
    PromptCreate,
    PromptUpdate,
    PromptVersion,
    PromptVersionBody,
    version_number,
)
from core.prompts.resolve import prompt_not_found
from core.prompts.templates import placeholders
from core.responses.input_items import check_item
from core.routes import Route

__all__ = ["PromptsApi"]


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

    def routes(self) -> list[Route]:
        one = "/v1/prompts/{prompt_id}"
        return [
            Route("POST", "/v1/prompts", self.create, "create_prompt", needs_body=True),
            Route("GET", "/v1/prompts", self.list, "list_prompts"),
            Route("GET", one, self.retrieve, "get_prompt"),
            Route("POST", one, self.update, "update_prompt", needs_body=True),
            Route("DELETE", one, self.delete, "delete_prompt"),
            Route("POST", one + "/versions", self.add_version, "create_prompt_version", True),
            Route("GET", one + "/versions", self.list_versions, "list_prompt_versions"),
        ]

    async def create(self, call: Call) -> Reply:
        fields = parse_body(PromptCreate, call.body)
        prompt_id = new_id("pmpt")
        header = orjson.dumps(
            {"id": prompt_id, "name": fields.name, "created_at": int(time.time())}
        )
        version = _template(fields)
        await self._store.create(call.tenant, prompt_id, header, version)
        return Reply(200, orjson.dumps(_prompt_object(PromptHeader(header, 1, 1), 1, version)))

    async def add_version(self, call: Call) -> Reply:
        tenant = call.tenant
        (prompt_id,) = call.ids
        version = _template(parse_body(PromptVersionBody, call.body))
        number = await self._store.add_version(tenant, prompt_id, version)
        if number is None:
            raise prompt_not_found(prompt_id)
        return await self._version(tenant, prompt_id, number)

    async def retrieve(self, call: Call) -> Reply:
        (prompt_id,) = call.ids
        raw = call.request.one("version")
        number = None if raw is None else version_number(raw, "version")
        return await self._version(call.tenant, prompt_id, number)

    async def _version(self, tenant: str, prompt_id: str, number: int | None) -> Reply:
        found = await self._store.get(tenant, prompt_id, number)
        if found is None:
            raise prompt_not_found(prompt_id)
        header, body = found
        if body is None:
            raise NotFoundError(f"Prompt '{prompt_id}' has no version {number}.", param="version")
        return Reply(200, orjson.dumps(_prompt_object(header, number or header.default, body)))

    async def list(self, call: Call) -> Reply:
        prompts = [
            _prompt_object(header, header.default, body)
            for header, body in await self._store.list(call.tenant)
        ]
        return Reply(200, list_body(*window(prompts, page_request(call.request))))

    async def list_versions(self, call: Call) -> Reply:
        (prompt_id,) = call.ids
        found = await self._store.versions(call.tenant, prompt_id)
        if found is None:
            raise prompt_not_found(prompt_id)
        header, bodies = found
        versions = [_prompt_object(header, n, body) for n, body in enumerate(bodies, start=1)]
        # Every version shares the prompt's id: the cursor is the version number.
        data, more = window(versions, page_request(call.request), key="version")
        return Reply(200, list_body(data, more, key="version"))

    async def update(self, call: Call) -> Reply:
        tenant = call.tenant
        (prompt_id,) = call.ids
        number = parse_body(PromptUpdate, call.body).default_version
        found = await self._store.get(tenant, prompt_id, number)
        if found is None:
            raise prompt_not_found(prompt_id)
        if found[1] is None:
            raise InvalidRequestError(
                f"Prompt '{prompt_id}' has no version {number}.",
                param="default_version",
                code="invalid_value",
            )
        if await self._store.set_default(tenant, prompt_id, number) is None:
            raise prompt_not_found(prompt_id)
        return await self._version(tenant, prompt_id, number)

    async def delete(self, call: Call) -> Reply:
        (prompt_id,) = call.ids
        if not await self._store.delete(call.tenant, prompt_id):
            raise prompt_not_found(prompt_id)
        return deleted(prompt_id, "prompt.deleted")
