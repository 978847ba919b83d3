"""Prompt templates in Redis.

Under the tenant's prefix, `p:<prompt>` is a hash: the prompt's own fields (`hdr`), the
newest version number (`latest`), the pinned default (`pinned`, absent when the default
follows the newest) and one field per immutable version (`v:<n>`). `pi` indexes the
tenant's prompts by creation time.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from core.ports import PromptHeader
from storage.tenant_keys import tenant_prefix

__all__ = ["RedisPromptStore"]

_ADD_VERSION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = redis.call('HINCRBY', KEYS[1], 'latest', 1)
redis.call('HSET', KEYS[1], 'v:' .. n, ARGV[1])
return n
"""

# ARGV: version number or '' for the default
_GET = """
local h = redis.call('HMGET', KEYS[1], 'hdr', 'latest', 'pinned')
if not h[1] then return false end
local version = ARGV[1]
if version == '' then version = h[3] or h[2] end
return {h[1], h[2], h[3] or h[2], redis.call('HGET', KEYS[1], 'v:' .. version) or ''}
"""

_LIST = """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. 'p:' .. id
  local h = redis.call('HMGET', key, 'hdr', 'latest', 'pinned')
  if h[1] then
    local default = h[3] or h[2]
    out[#out + 1] = {h[1], h[2], default, redis.call('HGET', key, 'v:' .. default)}
  end
end
return out
"""

_SET_DEFAULT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'pinned', ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'hdr', 'latest', 'pinned')
return {h[1], h[2], h[3]}
"""


def _header(found: Any) -> PromptHeader:
    return PromptHeader(header=found[0], latest=int(found[1]), default=int(found[2]))


class RedisPromptStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._add_version = redis.register_script(_ADD_VERSION)
        self._get = redis.register_script(_GET)
        self._list = redis.register_script(_LIST)
        self._set_default = redis.register_script(_SET_DEFAULT)

    @staticmethod
    def _key(tenant: str, prompt_id: str) -> str:
        return f"{tenant_prefix(tenant)}p:{prompt_id}"

    async def create(self, tenant: str, prompt_id: str, header: bytes, version: bytes) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._key(tenant, prompt_id), mapping={"hdr": header, "latest": 1, "v:1": version}
            )
            pipe.zadd(f"{tenant_prefix(tenant)}pi", {prompt_id: time.time()})
            await pipe.execute()

    async def add_version(self, tenant: str, prompt_id: str, version: bytes) -> int | None:
        found: Any = await self._add_version(keys=[self._key(tenant, prompt_id)], args=[version])
        return None if found is None else int(found)

    async def get(
        self, tenant: str, prompt_id: str, version: int | None
    ) -> tuple[PromptHeader, bytes | None] | None:
        args = ["" if version is None else version]
        found: Any = await self._get(keys=[self._key(tenant, prompt_id)], args=args)
        if not found:
            return None
        return _header(found), (found[3] or None)

    async def versions(
        self, tenant: str, prompt_id: str
    ) -> tuple[PromptHeader, list[bytes]] | None:
        fields: Any = await self._redis.hgetall(self._key(tenant, prompt_id))
        if not fields:
            return None
        latest = int(fields[b"latest"])
        header = PromptHeader(fields[b"hdr"], latest, int(fields.get(b"pinned", latest)))
        return header, [fields[f"v:{n}".encode()] for n in range(1, latest + 1)]

    async def set_default(self, tenant: str, prompt_id: str, version: int) -> PromptHeader | None:
        found: Any = await self._set_default(keys=[self._key(tenant, prompt_id)], args=[version])
        return _header(found) if found else None

    async def list(self, tenant: str) -> list[tuple[PromptHeader, bytes]]:
        p = tenant_prefix(tenant)
        found: Any = await self._list(keys=[f"{p}pi"], args=[p])
        return [(_header(row), row[3]) for row in found]

    async def delete(self, tenant: str, prompt_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(tenant, prompt_id))
            pipe.zrem(f"{tenant_prefix(tenant)}pi", prompt_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)
