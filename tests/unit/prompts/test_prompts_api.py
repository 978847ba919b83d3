"""PromptsApi on the in-memory prompt store: versions, the default, resolving a response's
`prompt`. No Envoy, no Redis."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from support.api_calls import call
from support.memory import MemoryPromptStore

from core.common.errors import InvalidRequestError, NotFoundError
from core.prompts.api import PromptsApi
from core.prompts.resolve import resolve_prompt

JSON = dict[str, Any]


@pytest.fixture
def memory_prompts() -> MemoryPromptStore:
    return MemoryPromptStore()


@pytest.fixture
def prompts_api(memory_prompts: MemoryPromptStore) -> PromptsApi:
    return PromptsApi(memory_prompts)


def template(n: int) -> JSON:
    return {
        "instructions": f"v{n}: answer as {{{{ persona }}}}",
        "input": [{"role": "developer", "content": "Topic: {{topic}} ✓"}],
    }


def numbers(prompt: JSON) -> tuple[str, str, str]:
    return prompt["version"], prompt["default_version"], prompt["latest_version"]


async def new_prompt(api: PromptsApi, tenant: str, versions: int = 1) -> str:
    created = await call(api.create, tenant, body={**template(1), "name": "helper"})
    prompt_id = str(created.json["id"])
    for n in range(2, versions + 1):
        await call(api.add_version, tenant, prompt_id, body=template(n))
    return prompt_id


async def test_create(prompts_api: PromptsApi, tenant: str) -> None:
    created = await call(prompts_api.create, tenant, body={**template(1), "name": "helper"})
    prompt = created.json
    assert prompt["id"].startswith("pmpt_") and prompt["object"] == "prompt"
    assert numbers(prompt) == ("1", "1", "1")
    assert (prompt["name"], prompt["variables"]) == ("helper", ["persona", "topic"])
    assert prompt["input"][0]["content"][0]["text"] == "Topic: {{topic}} ✓"
    found = await call(prompts_api.retrieve, tenant, prompt["id"])
    assert found.json == prompt


async def test_a_prompt_needs_something_to_say(prompts_api: PromptsApi, tenant: str) -> None:
    with pytest.raises(InvalidRequestError) as empty:
        await call(prompts_api.create, tenant, body={"name": "nothing"})
    assert (empty.value.param, empty.value.code) == ("instructions", "missing_required_parameter")


async def test_versions_and_the_default(prompts_api: PromptsApi, tenant: str) -> None:
    prompt_id = await new_prompt(prompts_api, tenant)
    second = await call(prompts_api.add_version, tenant, prompt_id, body=template(2))
    assert numbers(second.json) == ("2", "2", "2")
    assert second.json["instructions"].startswith("v2:")
    first = await call(prompts_api.retrieve, tenant, prompt_id, query={"version": "1"})
    assert numbers(first.json) == ("1", "2", "2")
    assert first.json["instructions"].startswith("v1:")
    pinned = await call(prompts_api.update, tenant, prompt_id, body={"default_version": "1"})
    assert numbers(pinned.json) == ("1", "1", "2")
    third = await call(prompts_api.add_version, tenant, prompt_id, body=template(3))
    assert numbers(third.json) == ("3", "1", "3")  # a pinned default stays pinned
    default = await call(prompts_api.retrieve, tenant, prompt_id)
    assert numbers(default.json) == ("1", "1", "3")
    listed = await call(prompts_api.list_versions, tenant, prompt_id, query={"order": "asc"})
    assert [v["version"] for v in listed.json["data"]] == ["1", "2", "3"]
    assert (listed.json["first_id"], listed.json["last_id"]) == ("1", "3")


async def test_unknown_versions(prompts_api: PromptsApi, tenant: str) -> None:
    prompt_id = await new_prompt(prompts_api, tenant)
    with pytest.raises(NotFoundError) as missing:
        await call(prompts_api.retrieve, tenant, prompt_id, query={"version": "7"})
    assert missing.value.param == "version"
    with pytest.raises(InvalidRequestError) as unpinnable:
        await call(prompts_api.update, tenant, prompt_id, body={"default_version": "7"})
    assert (unpinnable.value.param, unpinnable.value.code) == ("default_version", "invalid_value")
    with pytest.raises(InvalidRequestError) as malformed:
        await call(prompts_api.retrieve, tenant, prompt_id, query={"version": "v1"})
    assert malformed.value.param == "version"


async def test_list_and_delete(prompts_api: PromptsApi, tenant: str) -> None:
    first = await new_prompt(prompts_api, tenant, versions=2)
    second = await new_prompt(prompts_api, tenant)
    listed = await call(prompts_api.list, tenant)
    assert [(p["id"], p["version"]) for p in listed.json["data"]] == [(second, "1"), (first, "2")]
    deleted = await call(prompts_api.delete, tenant, first)
    assert deleted.json == {"id": first, "object": "prompt.deleted", "deleted": True}
    listed = await call(prompts_api.list, tenant)
    assert [p["id"] for p in listed.json["data"]] == [second]
    with pytest.raises(NotFoundError):
        await call(prompts_api.retrieve, tenant, first)
    assert (await call(prompts_api.list, f"{tenant}-other")).json["data"] == []


async def test_resolve_renders_the_default_version(
    prompts_api: PromptsApi, memory_prompts: MemoryPromptStore, tenant: str
) -> None:
    prompt_id = await new_prompt(prompts_api, tenant, versions=2)
    variables = {"persona": "a pirate", "topic": {"type": "input_text", "text": "ships"}}
    resolved = await resolve_prompt(
        memory_prompts, tenant, {"id": prompt_id, "variables": variables}
    )
    assert resolved.instructions == "v2: answer as a pirate"
    [developer] = [orjson.loads(m) for m in resolved.messages]
    assert developer["role"] == "developer"
    assert developer["content"][0]["text"] == "Topic: ships ✓"
    assert resolved.echo == {"id": prompt_id, "version": "2", "variables": variables}
    older = await resolve_prompt(
        memory_prompts, tenant, {"id": prompt_id, "version": "1", "variables": variables}
    )
    assert (older.instructions, older.echo["version"]) == ("v1: answer as a pirate", "1")


@pytest.mark.parametrize(
    ("param", "error", "where"),
    [
        ({"id": "pmpt_unknown", "variables": {}}, NotFoundError, "prompt.id"),
        ({"version": "9"}, NotFoundError, "prompt.version"),
        ({"variables": {"persona": "x"}}, InvalidRequestError, "prompt.variables"),
        (
            {"variables": {"persona": "x", "topic": "y", "extra": "z"}},
            InvalidRequestError,
            "prompt.variables",
        ),
        ({"version": "first"}, InvalidRequestError, "prompt.version"),
    ],
)
async def test_resolve_refuses(
    prompts_api: PromptsApi,
    memory_prompts: MemoryPromptStore,
    tenant: str,
    param: JSON,
    error: type[Exception],
    where: str,
) -> None:
    prompt_id = await new_prompt(prompts_api, tenant)
    full = {"id": prompt_id, "variables": {"persona": "x", "topic": "y"}, **param}
    with pytest.raises(error) as refused:
        await resolve_prompt(memory_prompts, tenant, full)
    assert getattr(refused.value, "param", None) == where
