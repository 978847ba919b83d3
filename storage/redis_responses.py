"""Responses in Redis, laid out so any chain depth costs one round trip.

Layout, under one hash tag per tenant (`or:{tenant}:`) so a cluster keeps a tenant's
keys, and therefore every script's keys, on one slot:

- `t:<thread>`: a list of encoded items. A chain of responses appends to one thread,
  so every item is stored once and storage grows linearly with items.
- `tp:<thread>`: where a thread branched off (`parent`, `end`) and how many threads
  branch off it (`forks`). Continuing a response that is not at the tip of its thread
  starts a new thread pointing at that position.
- `r:<response>`: the response object without output (`obj`), its thread (`th`), and
  the thread offsets where its input starts (`s`), its output starts (`m`) and ends (`e`).

The scripts below walk threads inside Redis, so rebuilding the context of a response at
any depth is a single EVALSHA.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.asyncio import Redis

from storage.protocols import ChainContext, StoredResponse

__all__ = ["RedisResponseStore"]

_LOAD_CONTEXT = """
local p = ARGV[1]
local rec = redis.call('HMGET', KEYS[1], 'th', 'e')
if not rec[1] then return false end
local segments = {}
local thread, stop = rec[1], tonumber(rec[2])
while thread do
  if stop > 0 then
    segments[#segments + 1] = redis.call('LRANGE', p .. 't:' .. thread, 0, stop - 1)
  end
  local up = redis.call('HMGET', p .. 'tp:' .. thread, 'parent', 'end')
  if up[1] then thread, stop = up[1], tonumber(up[2]) else thread = nil end
end
local out = {rec[1], rec[2]}
for i = #segments, 1, -1 do
  for _, item in ipairs(segments[i]) do out[#out + 1] = item end
end
return out
"""

# ARGV: prefix, response id, record, parent thread ('' for none), parent end,
#       number of copied context items, number of input items, items...
_SAVE = """
local p, rid, record = ARGV[1], ARGV[2], ARGV[3]
local pthread, pend = ARGV[4], tonumber(ARGV[5])
local ncopy, ninput = tonumber(ARGV[6]), tonumber(ARGV[7])
local thread, start = rid, 0
if pthread ~= '' then
  local len = redis.call('LLEN', p .. 't:' .. pthread)
  if len < pend then return 0 end
  if len == pend then
    thread, start = pthread, pend
  else
    redis.call('HSET', p .. 'tp:' .. rid, 'parent', pthread, 'end', pend)
    redis.call('HINCRBY', p .. 'tp:' .. pthread, 'forks', 1)
  end
end
local key = p .. 't:' .. thread
for i = 8, #ARGV, 1000 do
  redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
local s = start + ncopy
local m = s + ninput
redis.call('HSET', KEYS[1], 'obj', record, 'th', thread, 's', s, 'm', m, 'e', start + #ARGV - 7)
return 1
"""

# ARGV: prefix, which ('output' or 'input')
_SLICE = """
local rec = redis.call('HMGET', KEYS[1], 'obj', 'th', 's', 'm', 'e')
if not rec[1] then return false end
local first, last = tonumber(rec[4]), tonumber(rec[5]) - 1
if ARGV[2] == 'input' then first, last = tonumber(rec[3]), tonumber(rec[4]) - 1 end
local out = {rec[1]}
if last >= first then
  for _, item in ipairs(redis.call('LRANGE', ARGV[1] .. 't:' .. rec[2], first, last)) do
    out[#out + 1] = item
  end
end
return out
"""

# Deleting the newest response of a thread trims its items; older ones stay while a
# later response may still replay them.
_DELETE = """
local p = ARGV[1]
local rec = redis.call('HMGET', KEYS[1], 'th', 's', 'e')
if not rec[1] then return 0 end
redis.call('DEL', KEYS[1])
local thread, s, e = rec[1], tonumber(rec[2]), tonumber(rec[3])
local key, meta = p .. 't:' .. thread, p .. 'tp:' .. thread
local forks = tonumber(redis.call('HGET', meta, 'forks') or '0')
if forks == 0 and redis.call('LLEN', key) == e then
  if s == 0 then
    local up = redis.call('HGET', meta, 'parent')
    redis.call('DEL', key, meta)
    if up then redis.call('HINCRBY', p .. 'tp:' .. up, 'forks', -1) end
  else
    redis.call('LTRIM', key, 0, s - 1)
  end
end
return 1
"""


class RedisResponseStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._load_context = redis.register_script(_LOAD_CONTEXT)
        self._save = redis.register_script(_SAVE)
        self._slice = redis.register_script(_SLICE)
        self._delete = redis.register_script(_DELETE)
        self._prefixes: dict[str, str] = {}

    def _prefix(self, tenant: str) -> str:
        prefix = self._prefixes.get(tenant)
        if prefix is None:
            digest = hashlib.blake2b(tenant.encode(), digest_size=10).hexdigest()
            prefix = f"or:{{{digest}}}:"
            if len(self._prefixes) < 100_000:
                self._prefixes[tenant] = prefix
        return prefix

    async def load_context(self, tenant: str, response_id: str) -> ChainContext | None:
        p = self._prefix(tenant)
        found: Any = await self._load_context(keys=[f"{p}r:{response_id}"], args=[p])
        if not found:
            return None
        return ChainContext(items=found[2:], anchor=(found[0].decode(), int(found[1])))

    async def save(
        self,
        tenant: str,
        response_id: str,
        record: bytes,
        input_items: list[bytes],
        output_items: list[bytes],
        parent: ChainContext | None,
    ) -> None:
        p = self._prefix(tenant)
        keys = [f"{p}r:{response_id}"]
        thread, end = parent.anchor if parent else ("", 0)
        args: list[Any] = [p, response_id, record, thread, end, 0, len(input_items)]
        if await self._save(keys=keys, args=[*args, *input_items, *output_items]):
            return
        # The previous response was deleted (and its items trimmed) while this one ran:
        # keep this response replayable by giving it its own copy of the context.
        assert parent is not None
        args = [p, response_id, record, "", 0, len(parent.items), len(input_items)]
        await self._save(keys=keys, args=[*args, *parent.items, *input_items, *output_items])

    async def _read(self, tenant: str, response_id: str, which: str) -> list[bytes] | None:
        p = self._prefix(tenant)
        found: Any = await self._slice(keys=[f"{p}r:{response_id}"], args=[p, which])
        return list(found) if found else None

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        found = await self._read(tenant, response_id, "output")
        return StoredResponse(record=found[0], output=found[1:]) if found else None

    async def input_items(self, tenant: str, response_id: str) -> list[bytes] | None:
        found = await self._read(tenant, response_id, "input")
        return found[1:] if found else None

    async def delete(self, tenant: str, response_id: str) -> bool:
        p = self._prefix(tenant)
        return bool(await self._delete(keys=[f"{p}r:{response_id}"], args=[p]))
