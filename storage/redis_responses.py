"""Responses in Redis, laid out so any chain depth costs one round trip.

Layout, under one hash tag per tenant (`or:{tenant}:`) so a cluster keeps a tenant's
keys, and therefore every script's keys, on one slot:

- `t:<thread>`: a string of encoded items, each followed by a comma. A chain of
  responses appends to one thread, so every item is stored once, storage grows
  linearly with items, and a context is read back as one string ready to splice.
- `tp:<thread>`: where a thread branched off (`parent`, `end`), how many threads branch
  off it (`forks`), and how often it was cut back (`gen`). Continuing a response that
  is not at the tip of its thread starts a new thread pointing at that position.
- `r:<response>`: the response object without output (`obj`), its thread (`th`),
  whether that thread starts a chain (`root`), and byte offsets in the thread: where
  its part begins (`b`), where its input starts (`s`), where its output starts (`m`)
  and ends (`e`).

Rebuilding the context of a response at any depth is one script call that walks the
threads inside Redis. For a long unbranched context the script only answers where the
context is, and a plain GETRANGE reads it: Redis copies a script's strings in and out
of Lua, which costs more than the second round trip.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.asyncio import Redis

from storage.protocols import ChainContext, StoredResponse

__all__ = ["RedisResponseStore"]

# ARGV: prefix, size over which an unbranched context is left to the caller to read.
_LOAD_CONTEXT = """
local p = ARGV[1]
local rec = redis.call('HMGET', KEYS[1], 'th', 'e', 'root')
if not rec[1] then return false end
local gen = redis.call('HGET', p .. 'tp:' .. rec[1], 'gen') or '0'
if rec[3] == '1' and tonumber(rec[2]) > tonumber(ARGV[2]) then return {rec[1], rec[2], gen} end
local segments = {}
local thread, stop = rec[1], tonumber(rec[2])
while thread do
  if stop > 0 then
    table.insert(segments, 1, redis.call('GETRANGE', p .. 't:' .. thread, 0, stop - 1))
  end
  local up = redis.call('HMGET', p .. 'tp:' .. thread, 'parent', 'end')
  if up[1] then thread, stop = up[1], tonumber(up[2]) else thread = nil end
end
return {rec[1], rec[2], gen, table.concat(segments)}
"""

# ARGV: prefix, response id, record, parent thread ('' for none), parent end, parent
# thread generation, copied context, input items, output items (each item + ',').
_SAVE = """
local p, rid = ARGV[1], ARGV[2]
local pthread, pend = ARGV[4], tonumber(ARGV[5])
local thread, start = rid, 0
if pthread ~= '' then
  local meta = p .. 'tp:' .. pthread
  local len = redis.call('STRLEN', p .. 't:' .. pthread)
  -- Cut back since the context was read: its items may no longer be the ones seen.
  if len < pend or (redis.call('HGET', meta, 'gen') or '0') ~= ARGV[6] then return 0 end
  if len == pend then
    thread, start = pthread, pend
  else
    redis.call('HSET', p .. 'tp:' .. rid, 'parent', pthread, 'end', pend)
    redis.call('HINCRBY', meta, 'forks', 1)
  end
end
redis.call('APPEND', p .. 't:' .. thread, ARGV[7] .. ARGV[8] .. ARGV[9])
local s = start + #ARGV[7]
local m = s + #ARGV[8]
local root = 1 - redis.call('HEXISTS', p .. 'tp:' .. thread, 'parent')
redis.call('HSET', KEYS[1], 'obj', ARGV[3], 'th', thread, 'root', root, 'b', start, 's', s,
  'm', m, 'e', m + #ARGV[9])
return 1
"""

# ARGV: prefix, which ('output' or 'input')
_SLICE = """
local rec = redis.call('HMGET', KEYS[1], 'obj', 'th', 's', 'm', 'e')
if not rec[1] then return false end
local first, last = tonumber(rec[4]), tonumber(rec[5]) - 1
if ARGV[2] == 'input' then first, last = tonumber(rec[3]), tonumber(rec[4]) - 1 end
if last < first then return {rec[1], ''} end
return {rec[1], redis.call('GETRANGE', ARGV[1] .. 't:' .. rec[2], first, last)}
"""

# Deleting the newest response of a thread cuts its items (and any context copy) off
# the thread; older ones stay while a later response may still replay them.
_DELETE = """
local p = ARGV[1]
local rec = redis.call('HMGET', KEYS[1], 'th', 'b', 'e')
if not rec[1] then return 0 end
redis.call('DEL', KEYS[1])
local thread, b, e = rec[1], tonumber(rec[2]), tonumber(rec[3])
local key, meta = p .. 't:' .. thread, p .. 'tp:' .. thread
local forks = tonumber(redis.call('HGET', meta, 'forks') or '0')
if forks == 0 and redis.call('STRLEN', key) == e then
  if b == 0 then
    local up = redis.call('HGET', meta, 'parent')
    redis.call('DEL', key, meta)
    if up then redis.call('HINCRBY', p .. 'tp:' .. up, 'forks', -1) end
  else
    redis.call('SET', key, redis.call('GETRANGE', key, 0, b - 1))
    redis.call('HINCRBY', meta, 'gen', 1)
  end
end
return 1
"""


_SCRIPT_READ_LIMIT = 32_768


def _joined(items: list[bytes]) -> bytes:
    return b",".join(items) + b"," if items else b""


def _array(joined: bytes) -> bytes:
    return b"[" + joined[:-1] + b"]"  # drop the trailing comma


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
        key = f"{p}r:{response_id}"
        found: Any = await self._load_context(keys=[key], args=[p, _SCRIPT_READ_LIMIT])
        if not found:
            return None
        thread, end, gen = found[0].decode(), int(found[1]), found[2].decode()
        if len(found) == 4:
            return ChainContext(items=found[3][:-1], anchor=(thread, end, gen))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.getrange(f"{p}t:{thread}", 0, end - 1)
            pipe.exists(key)
            items, exists = await pipe.execute()
        # Deleting a response never cuts into the range of one that still exists, so if
        # it exists after the read, what was read is intact. The anchor keeps the
        # generation the script saw: a cut since then sends the save down the copy path.
        if not exists:
            return None
        return ChainContext(items=items[:-1], anchor=(thread, end, gen))

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
        own = [_joined(input_items), _joined(output_items)]
        thread, end, gen = parent.anchor if parent else ("", 0, "0")
        if await self._save(keys=keys, args=[p, response_id, record, thread, end, gen, b"", *own]):
            return
        # The thread was cut back (a response deleted) after the context was read: keep
        # this response replayable by giving it its own copy of the context it saw.
        assert parent is not None
        copy = parent.items + b"," if parent.items else b""
        await self._save(keys=keys, args=[p, response_id, record, "", 0, "0", copy, *own])

    async def _read(self, tenant: str, response_id: str, which: str) -> tuple[bytes, bytes] | None:
        p = self._prefix(tenant)
        found: Any = await self._slice(keys=[f"{p}r:{response_id}"], args=[p, which])
        return (found[0], _array(found[1])) if found else None

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        found = await self._read(tenant, response_id, "output")
        return StoredResponse(record=found[0], output=found[1]) if found else None

    async def input_items(self, tenant: str, response_id: str) -> bytes | None:
        found = await self._read(tenant, response_id, "input")
        return found[1] if found else None

    async def delete(self, tenant: str, response_id: str) -> bool:
        p = self._prefix(tenant)
        return bool(await self._delete(keys=[f"{p}r:{response_id}"], args=[p]))
