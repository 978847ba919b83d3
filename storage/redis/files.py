"""File metadata in Redis (the bytes live in a blob store).

Under the tenant's prefix: `f:<file>` holds the file object; `fi` orders the tenant's
files by a per-tenant sequence (`fseq`), so listings page stably. Files with an expiry
are also in the global `or:expiring-files` index, which the reaper drains.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.asyncio import Redis

from core.ports import ItemPage
from storage.redis.durability import Durability
from storage.tenant_keys import tenant_prefix

__all__ = ["EXPIRY_INDEX", "RedisFileStore"]

EXPIRY_INDEX = "or:expiring-files"

# KEYS[1] = fi. ARGV: prefix, how many, descending ('1'), after id or '', purpose or '', now
_LIST = """
local p, want = ARGV[1], tonumber(ARGV[2])
local descending, purpose, now = ARGV[3] == '1', ARGV[5], tonumber(ARGV[6])
local bound = descending and '+inf' or '-inf'
if ARGV[4] ~= '' then
  local at = redis.call('ZSCORE', KEYS[1], ARGV[4])
  if not at then return {} end
  bound = '(' .. at
end
local out, offset = {}, 0
while #out < want do
  local ids
  if descending then
    ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], bound, '-inf', 'LIMIT', offset, 200)
  else
    ids = redis.call('ZRANGEBYSCORE', KEYS[1], bound, '+inf', 'LIMIT', offset, 200)
  end
  if #ids == 0 then break end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    local record = redis.call('GET', p .. 'f:' .. id)
    if record then
      local file = cjson.decode(record)
      local live = file.expires_at == cjson.null or file.expires_at == nil or file.expires_at > now
      if live and (purpose == '' or file.purpose == purpose) then
        out[#out + 1] = record
        if #out >= want then break end
      end
    end
  end
end
return out
"""


class RedisFileStore:
    def __init__(self, redis: Redis, durability: Durability | None = None) -> None:
        self._durability = durability or Durability(redis)
        self._redis = redis
        self._list = redis.register_script(_LIST)

    async def create(self, tenant: str, file: dict[str, Any]) -> None:
        p = tenant_prefix(tenant)
        sequence = await self._redis.incr(f"{p}fseq")
        if file.get("expires_at"):
            # The global expiry index is on another slot than the tenant's keys (a cluster
            # takes no transaction across slots): indexed first, so a crash in between
            # leaves at worst an entry the reaper finds no file for.
            member = orjson.dumps([tenant, file["id"]])
            await self._redis.zadd(EXPIRY_INDEX, {member: file["expires_at"]})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(f"{p}f:{file['id']}", orjson.dumps(file))
            pipe.zadd(f"{p}fi", {file["id"]: sequence})
            await pipe.execute()
        await self._durability.confirm(f"{p}f:{file['id']}")

    async def get(self, tenant: str, file_id: str) -> dict[str, Any] | None:
        found = await self._redis.get(f"{tenant_prefix(tenant)}f:{file_id}")
        if found is None:
            return None
        file: dict[str, Any] = orjson.loads(found)
        expires_at = file.get("expires_at")
        # Expired files are gone for clients even before the reaper deletes them.
        return None if expires_at and expires_at <= time.time() else file

    async def page(
        self, tenant: str, purpose: str | None, limit: int, descending: bool, after: str | None
    ) -> ItemPage:
        p = tenant_prefix(tenant)
        args: list[Any] = [
            p,
            limit + 1,
            "1" if descending else "0",
            after or "",
            purpose or "",
            time.time(),
        ]
        found: Any = await self._list(keys=[f"{p}fi"], args=args)
        return ItemPage(items=list(found[:limit]), has_more=len(found) > limit)

    async def delete(self, tenant: str, file_id: str) -> bool:
        p = tenant_prefix(tenant)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(f"{p}f:{file_id}")
            pipe.zrem(f"{p}fi", file_id)
            deleted, _ = await pipe.execute()
        await self._redis.zrem(EXPIRY_INDEX, orjson.dumps([tenant, file_id]))
        return bool(deleted)

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant, file id) of files whose expiry has passed, oldest first."""
        members: Any = await self._redis.zrangebyscore(
            EXPIRY_INDEX, "-inf", now, start=0, num=limit
        )
        pairs = [orjson.loads(member) for member in members]
        return [(str(tenant), str(file_id)) for tenant, file_id in pairs]
