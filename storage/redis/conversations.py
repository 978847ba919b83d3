"""Conversations in Redis.

Under the tenant's prefix:
- `c:<conversation>`: hash with the conversation object (`obj`) and the last position
  handed out (`n`).
- `ci:<conversation>`: hash position -> encoded item.
- `co:<conversation>`: sorted set of positions (member = score = position).
- `cx:<conversation>`: hash item id -> position.

Positions only grow, so an item keeps its place whatever is added or deleted around it,
and one position names a prefix of the conversation: a response created in it remembers
the position of the last item it saw (`context_until` reads that prefix again).
An item id is unique within its conversation: a batch that repeats one is refused whole.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from core.ports import ItemPage
from storage.redis.durability import Durability
from storage.tenant_keys import tenant_prefix

__all__ = ["RedisConversationStore"]

# KEYS[1] = c:<id>. ARGV: prefix, conversation id, must exist ('1' or '0'), record or '',
# then item id / item pairs. Answers 0 without the conversation, else the ids already
# there (and then writes nothing).
_APPEND = """
local p, conv = ARGV[1], ARGV[2]
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ci, co, cx = p .. 'ci:' .. conv, p .. 'co:' .. conv, p .. 'cx:' .. conv
local taken = {}
for i = 5, #ARGV, 2 do
  if redis.call('HEXISTS', cx, ARGV[i]) == 1 then taken[#taken + 1] = ARGV[i] end
end
if #taken > 0 then return taken end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'obj', ARGV[4]) end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
for i = 5, #ARGV, 2 do
  n = n + 1
  redis.call('HSET', ci, n, ARGV[i + 1])
  redis.call('ZADD', co, n, n)
  redis.call('HSET', cx, ARGV[i], n)
end
redis.call('HSET', KEYS[1], 'n', n)
return {}
"""

# Appends the items at `positions` to `out`, HMGET in chunks that `unpack` can take.
_ITEMS_AT = """
for i = 1, #positions, 1000 do
  local chunk = redis.call('HMGET', p .. 'ci:' .. conv,
    unpack(positions, i, math.min(i + 999, #positions)))
  for _, item in ipairs(chunk) do out[#out + 1] = item end
end
"""

# ARGV: prefix, conversation id, first index, last index, descending ('1'), after id or ''
_RANGE = (
    """
local p, conv = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local co = p .. 'co:' .. conv
local positions
local first, last = tonumber(ARGV[3]), tonumber(ARGV[4])
if ARGV[6] == '' then
  if ARGV[5] == '1' then positions = redis.call('ZREVRANGE', co, first, last)
  else positions = redis.call('ZRANGE', co, first, last) end
else
  local at = redis.call('HGET', p .. 'cx:' .. conv, ARGV[6])
  if not at then return {} end
  local count = last - first + 1
  if ARGV[5] == '1' then
    positions = redis.call('ZREVRANGEBYSCORE', co, '(' .. at, '-inf', 'LIMIT', 0, count)
  else
    positions = redis.call('ZRANGEBYSCORE', co, '(' .. at, '+inf', 'LIMIT', 0, count)
  end
end
local out = {}
"""
    + _ITEMS_AT
    + """
return out
"""
)

# KEYS[1] = c:<id>. ARGV: prefix, conversation id, highest position ('' for all).
# Answers false without the conversation, else the position of the last item read
# ('0' for none) followed by the items, oldest first.
_UNTIL = (
    """
local p, conv = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local co = p .. 'co:' .. conv
local positions
if ARGV[3] == '' then positions = redis.call('ZRANGE', co, 0, -1)
else positions = redis.call('ZRANGEBYSCORE', co, '-inf', ARGV[3]) end
local out = {positions[#positions] or '0'}
"""
    + _ITEMS_AT
    + """
return out
"""
)

# ARGV: prefix, conversation id, item id, delete ('1') or just read ('0')
_ITEM = """
local p, conv = ARGV[1], ARGV[2]
local record = redis.call('HGET', KEYS[1], 'obj')
if not record then return false end
local cx = p .. 'cx:' .. conv
local at = redis.call('HGET', cx, ARGV[3])
if not at then return {record} end
local item = redis.call('HGET', p .. 'ci:' .. conv, at)
if ARGV[4] == '1' then
  redis.call('HDEL', p .. 'ci:' .. conv, at)
  redis.call('ZREM', p .. 'co:' .. conv, at)
  redis.call('HDEL', cx, ARGV[3])
end
return {record, item}
"""

_REPLACE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'obj', ARGV[1])
return 1
"""


def _flatten(items: list[tuple[str, bytes]]) -> list[Any]:
    return [part for pair in items for part in pair]


class RedisConversationStore:
    def __init__(self, redis: Redis, durability: Durability | None = None) -> None:
        self._durability = durability or Durability(redis)
        self._redis = redis
        self._append = redis.register_script(_APPEND)
        self._range = redis.register_script(_RANGE)
        self._until = redis.register_script(_UNTIL)
        self._item = redis.register_script(_ITEM)
        self._replace = redis.register_script(_REPLACE)

    @staticmethod
    def _keys(tenant: str, conversation_id: str) -> tuple[str, str]:
        p = tenant_prefix(tenant)
        return p, f"{p}c:{conversation_id}"

    async def create(
        self, tenant: str, conversation_id: str, record: bytes, items: list[tuple[str, bytes]]
    ) -> None:
        p, key = self._keys(tenant, conversation_id)
        args = [p, conversation_id, "0", record, *_flatten(items)]
        await self._append(keys=[key], args=args)
        await self._durability.confirm(key)

    async def get(self, tenant: str, conversation_id: str) -> bytes | None:
        _, key = self._keys(tenant, conversation_id)
        found: Any = await self._redis.hget(key, "obj")
        return found if found is None else bytes(found)

    async def replace(self, tenant: str, conversation_id: str, record: bytes) -> bool:
        _, key = self._keys(tenant, conversation_id)
        return bool(await self._replace(keys=[key], args=[record]))

    async def delete(self, tenant: str, conversation_id: str) -> bool:
        p, key = self._keys(tenant, conversation_id)
        suffixes = ("ci", "co", "cx")
        related = [f"{p}{suffix}:{conversation_id}" for suffix in suffixes]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(key)
            pipe.delete(key, *related)
            exists, _ = await pipe.execute()
        return bool(exists)

    async def append(
        self, tenant: str, conversation_id: str, items: list[tuple[str, bytes]]
    ) -> list[str] | None:
        p, key = self._keys(tenant, conversation_id)
        args = [p, conversation_id, "1", "", *_flatten(items)]
        found: Any = await self._append(keys=[key], args=args)
        if found == 0:
            return None
        await self._durability.confirm(key)
        return [taken.decode() for taken in found]

    async def context(self, tenant: str, conversation_id: str) -> tuple[bytes, int] | None:
        p, key = self._keys(tenant, conversation_id)
        found: Any = await self._until(keys=[key], args=[p, conversation_id, ""])
        return None if found is None else (b",".join(found[1:]), int(found[0]))

    async def context_until(self, tenant: str, conversation_id: str, position: int) -> bytes:
        p, key = self._keys(tenant, conversation_id)
        found: Any = await self._until(keys=[key], args=[p, conversation_id, position])
        return b"" if found is None else b",".join(found[1:])

    async def list_items(
        self, tenant: str, conversation_id: str, limit: int, descending: bool, after: str | None
    ) -> ItemPage | None:
        p, key = self._keys(tenant, conversation_id)
        # One more than asked for tells whether there are more.
        args: list[Any] = [p, conversation_id, 0, limit, "1" if descending else "0", after or ""]
        found: Any = await self._range(keys=[key], args=args)
        if found is None:
            return None
        return ItemPage(items=list(found[:limit]), has_more=len(found) > limit)

    async def _item_op(
        self, tenant: str, conversation_id: str, item_id: str, delete: bool
    ) -> tuple[bytes, bytes | None] | None:
        p, key = self._keys(tenant, conversation_id)
        found: Any = await self._item(
            keys=[key], args=[p, conversation_id, item_id, "1" if delete else "0"]
        )
        if not found:
            return None
        return found[0], (found[1] if len(found) > 1 else None)

    async def get_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bytes | None] | None:
        return await self._item_op(tenant, conversation_id, item_id, delete=False)

    async def delete_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bool] | None:
        found = await self._item_op(tenant, conversation_id, item_id, delete=True)
        return None if found is None else (found[0], found[1] is not None)
