"""RedisPromptStore against a real redis-server: versions, defaults, listing, tenants."""

from __future__ import annotations

import asyncio
import uuid

import orjson
from redis.asyncio import Redis

from core.common.ids import new_id
from core.ports import PromptHeader
from storage.redis.prompts import RedisPromptStore
from storage.tenant_keys import tenant_prefix


def header_for(prompt_id: str) -> bytes:
    return orjson.dumps({"id": prompt_id, "name": f"name {prompt_id}", "created_at": 1})


def version(prompt_id: str, n: int) -> bytes:
    return orjson.dumps({"instructions": f"{prompt_id} v{n} — ünïcödé", "input": []})


async def new_prompt(prompts: RedisPromptStore, tenant: str) -> str:
    prompt_id = new_id("pmpt")
    await prompts.create(tenant, prompt_id, header_for(prompt_id), version(prompt_id, 1))
    return prompt_id


async def test_create_and_get_default(prompts: RedisPromptStore, tenant: str) -> None:
    prompt_id = await new_prompt(prompts, tenant)
    found = await prompts.get(tenant, prompt_id, None)
    assert found == (PromptHeader(header_for(prompt_id), 1, 1), version(prompt_id, 1))
    assert await prompts.get(tenant, prompt_id, 1) == found


async def test_unknown_prompt(prompts: RedisPromptStore, tenant: str) -> None:
    missing = new_id("pmpt")
    assert await prompts.get(tenant, missing, None) is None
    assert await prompts.get(tenant, missing, 1) is None
    assert await prompts.add_version(tenant, missing, b"{}") is None
    assert await prompts.versions(tenant, missing) is None
    assert await prompts.set_default(tenant, missing, 1) is None
    assert await prompts.delete(tenant, missing) is False


async def test_unknown_version(prompts: RedisPromptStore, tenant: str) -> None:
    prompt_id = await new_prompt(prompts, tenant)
    for number in (2, 0, 99):
        found = await prompts.get(tenant, prompt_id, number)
        assert found == (PromptHeader(header_for(prompt_id), 1, 1), None)


async def test_versions_numbered_and_default_follows_latest(
    prompts: RedisPromptStore, tenant: str
) -> None:
    prompt_id = await new_prompt(prompts, tenant)
    for n in (2, 3):
        assert await prompts.add_version(tenant, prompt_id, version(prompt_id, n)) == n
        header, body = await prompts.get(tenant, prompt_id, None) or (None, None)
        assert header == PromptHeader(header_for(prompt_id), n, n)
        assert body == version(prompt_id, n)
    for n in (1, 2, 3):
        assert await prompts.get(tenant, prompt_id, n) == (
            PromptHeader(header_for(prompt_id), 3, 3),
            version(prompt_id, n),
        )


async def test_concurrent_versions_get_distinct_numbers(
    prompts: RedisPromptStore, tenant: str
) -> None:
    prompt_id = await new_prompt(prompts, tenant)
    bodies = [version(prompt_id, n) for n in range(2, 22)]
    numbers = await asyncio.gather(*(prompts.add_version(tenant, prompt_id, b) for b in bodies))
    assert sorted(n for n in numbers if n is not None) == list(range(2, 22))
    header, stored = await prompts.versions(tenant, prompt_id) or (None, [])
    assert header == PromptHeader(header_for(prompt_id), 21, 21)
    assert stored[0] == version(prompt_id, 1)
    assert [stored[n - 1] for n in numbers if n is not None] == bodies


async def test_set_default_pins_until_set_again(prompts: RedisPromptStore, tenant: str) -> None:
    prompt_id = await new_prompt(prompts, tenant)
    await prompts.add_version(tenant, prompt_id, version(prompt_id, 2))
    pinned = PromptHeader(header_for(prompt_id), 2, 1)
    assert await prompts.set_default(tenant, prompt_id, 1) == pinned
    assert await prompts.get(tenant, prompt_id, None) == (pinned, version(prompt_id, 1))
    assert await prompts.add_version(tenant, prompt_id, version(prompt_id, 3)) == 3
    found = await prompts.get(tenant, prompt_id, None)
    assert found == (PromptHeader(header_for(prompt_id), 3, 1), version(prompt_id, 1))
    assert found is not None
    assert await prompts.get(tenant, prompt_id, 3) == (found[0], version(prompt_id, 3))
    latest = PromptHeader(header_for(prompt_id), 3, 3)
    assert await prompts.set_default(tenant, prompt_id, 3) == latest
    assert await prompts.get(tenant, prompt_id, None) == (latest, version(prompt_id, 3))


async def test_versions_oldest_first(prompts: RedisPromptStore, tenant: str) -> None:
    prompt_id = await new_prompt(prompts, tenant)
    assert await prompts.versions(tenant, prompt_id) == (
        PromptHeader(header_for(prompt_id), 1, 1),
        [version(prompt_id, 1)],
    )
    for n in (2, 3, 4):
        await prompts.add_version(tenant, prompt_id, version(prompt_id, n))
    await prompts.set_default(tenant, prompt_id, 2)
    header, bodies = await prompts.versions(tenant, prompt_id) or (None, [])
    assert header == PromptHeader(header_for(prompt_id), 4, 2)
    assert bodies == [version(prompt_id, n) for n in (1, 2, 3, 4)]


async def test_list_with_default_versions(prompts: RedisPromptStore, tenant: str) -> None:
    assert await prompts.list(tenant) == []
    first, second, third = [await new_prompt(prompts, tenant) for _ in range(3)]
    await prompts.add_version(tenant, first, version(first, 2))
    await prompts.add_version(tenant, second, version(second, 2))
    await prompts.add_version(tenant, second, version(second, 3))
    await prompts.set_default(tenant, second, 2)
    assert await prompts.list(tenant) == [
        (PromptHeader(header_for(first), 2, 2), version(first, 2)),
        (PromptHeader(header_for(second), 3, 2), version(second, 2)),
        (PromptHeader(header_for(third), 1, 1), version(third, 1)),
    ]


async def test_delete_removes_key_and_index(
    prompts: RedisPromptStore, redis_client: Redis, tenant: str
) -> None:
    keep = await new_prompt(prompts, tenant)
    gone = await new_prompt(prompts, tenant)
    await prompts.add_version(tenant, gone, version(gone, 2))
    prefix = tenant_prefix(tenant)
    assert await redis_client.exists(f"{prefix}p:{gone}") == 1
    assert await redis_client.zscore(f"{prefix}pi", gone) is not None
    assert await prompts.delete(tenant, gone) is True
    assert await redis_client.exists(f"{prefix}p:{gone}") == 0
    assert await redis_client.zscore(f"{prefix}pi", gone) is None
    assert await redis_client.zrange(f"{prefix}pi", 0, -1) == [keep.encode()]
    assert await prompts.get(tenant, gone, None) is None
    assert await prompts.get(tenant, gone, 2) is None
    assert await prompts.delete(tenant, gone) is False
    assert [h.header for h, _ in await prompts.list(tenant)] == [header_for(keep)]


async def test_tenant_isolation(prompts: RedisPromptStore, tenant: str) -> None:
    other = f"tenant-{uuid.uuid4().hex}"
    prompt_id = await new_prompt(prompts, tenant)
    assert await prompts.get(other, prompt_id, None) is None
    assert await prompts.get(other, prompt_id, 1) is None
    assert await prompts.add_version(other, prompt_id, b"{}") is None
    assert await prompts.versions(other, prompt_id) is None
    assert await prompts.set_default(other, prompt_id, 1) is None
    assert await prompts.list(other) == []
    assert await prompts.delete(other, prompt_id) is False
    # The owner's prompt is untouched by all of that.
    assert await prompts.get(tenant, prompt_id, None) == (
        PromptHeader(header_for(prompt_id), 1, 1),
        version(prompt_id, 1),
    )
    assert len(await prompts.list(tenant)) == 1
