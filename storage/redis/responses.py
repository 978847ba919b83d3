"""Responses in Redis, laid out so any chain depth costs O(1) round trips.

Layout, under the tenant's prefix (see `tenant_keys`):

- `t:<thread>`: a string of encoded items, each followed by a comma. A chain of
  responses appends to one thread, so every item is stored once, storage grows
  linearly with items, and a context is read back as one string ready to splice.
- `tp:<thread>`: where a thread branched off (`parent`, `end`) and how many threads
  branch off it (`forks`). Continuing a response that is not at the tip of its thread
  starts a new thread pointing at that position. A chain whose first response was
  created in a conversation has that conversation (`conv`) and the position of the
  last conversation item that response saw (`mark`) in its root thread's meta.
- `r:<response>`: the response object without output (`obj`), its thread (`th`),
  whether that thread starts a chain (`root`), and byte offsets in the thread: where
  its part begins (`b`), where its input starts (`s`), where its output starts (`m`)
  and ends (`e`), and the MCP tool lists its chain has made so far (`ml`), which later
  turns reuse rather than list again. Responses of a root thread also carry its `conv`
  and `mark`, so a long unbranched context is located without reading the thread's meta.

Conversation items are never copied into threads: a context names its conversation
prefix (`ChainContext.conversation`) and the caller reads it from the conversation store
with one more call, so it is the conversation as it is then (items deleted since are gone).

Deleting the newest response of a thread cuts its bytes off; deleting never cuts into
the range of a response that still exists. So a context read while its response exists
is intact, and a save may append after a context only if that response still exists.

Rebuilding a context is one script call that walks the threads inside Redis. For a long
unbranched context the script only says where it is and a plain GETRANGE reads it:
Redis copies a script's strings in and out of Lua, which costs more than a second
round trip.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from core.ports import ChainContext, ConversationMark, StoredResponse
from storage.redis.durability import Durability
from storage.redis.recent_contexts import RecentContexts
from storage.tenant_keys import tenant_prefix

__all__ = ["RedisResponseStore"]

# ARGV: prefix, size over which an unbranched context is left to the caller to read.
# Answers thread, end, conversation ('' for none), mark, then the items unless left
# to the caller.
_LOAD_CONTEXT = """
local p = ARGV[1]
local rec = redis.call('HMGET', KEYS[1], 'th', 'e', 'root', 'conv', 'mark')
if not rec[1] then return false end
if rec[3] == '1' and tonumber(rec[2]) > tonumber(ARGV[2]) then
  return {rec[1], rec[2], rec[4] or '', rec[5] or '0'}
end
local segments = {}
local thread, stop = rec[1], tonumber(rec[2])
local conv, mark = '', '0'
while thread do
  if stop > 0 then
    table.insert(segments, 1, redis.call('GETRANGE', p .. 't:' .. thread, 0, stop - 1))
  end
  local up = redis.call('HMGET', p .. 'tp:' .. thread, 'parent', 'end', 'conv', 'mark')
  if up[1] then
    thread, stop = up[1], tonumber(up[2])
  else
    thread, conv, mark = nil, up[3] or '', up[4] or '0'
  end
end
return {rec[1], rec[2], conv, mark, table.concat(segments)}
"""

# ARGV: prefix, response id, record, parent response id ('' for none), parent thread,
# parent end, conversation ('' for none; only for a new chain), mark, copied context,
# input items, output items (each item followed by ','), MCP tool lists ('' for none).
_SAVE = """
local p, rid = ARGV[1], ARGV[2]
local pthread, pend = ARGV[5], tonumber(ARGV[6])
local thread, start = rid, 0
if ARGV[4] ~= '' then
  -- The previous response must still be where its context was read from.
  local prev = redis.call('HMGET', p .. 'r:' .. ARGV[4], 'th', 'e')
  if prev[1] ~= pthread or tonumber(prev[2]) ~= pend then return false end
  if redis.call('STRLEN', p .. 't:' .. pthread) == pend then
    thread, start = pthread, pend
  else
    redis.call('HSET', p .. 'tp:' .. rid, 'parent', pthread, 'end', pend)
    redis.call('HINCRBY', p .. 'tp:' .. pthread, 'forks', 1)
  end
elseif ARGV[7] ~= '' then
  redis.call('HSET', p .. 'tp:' .. rid, 'conv', ARGV[7], 'mark', ARGV[8])
end
redis.call('APPEND', p .. 't:' .. thread, ARGV[9] .. ARGV[10] .. ARGV[11])
local s = start + #ARGV[9]
local m = s + #ARGV[10]
local e = m + #ARGV[11]
local meta = redis.call('HMGET', p .. 'tp:' .. thread, 'parent', 'conv', 'mark')
local root = meta[1] and 0 or 1
redis.call('HSET', KEYS[1], 'obj', ARGV[3], 'th', thread, 'root', root, 'b', start, 's', s,
  'm', m, 'e', e)
if root == 1 and meta[2] then redis.call('HSET', KEYS[1], 'conv', meta[2], 'mark', meta[3]) end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'ml', ARGV[12]) end
return {thread, e}
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

# The newest response of a thread takes its bytes (and any context copy) with it; older
# ones stay while a later response may still replay them.
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
  end
end
return 1
"""

_SCRIPT_READ_LIMIT = 32_768


def _joined(items: list[bytes]) -> bytes:
    return b",".join(items) + b"," if items else b""


def _array(joined: bytes) -> bytes:
    return b"[" + joined[:-1] + b"]"  # drop the trailing comma


def _mark(conversation: bytes, position: bytes) -> ConversationMark | None:
    return ConversationMark(conversation.decode(), int(position)) if conversation else None


class RedisResponseStore:
    def __init__(self, redis: Redis, durability: Durability | None = None) -> None:
        self._durability = durability or Durability(redis)
        self._redis = redis
        self._load_context = redis.register_script(_LOAD_CONTEXT)
        self._save = redis.register_script(_SAVE)
        self._slice = redis.register_script(_SLICE)
        self._delete = redis.register_script(_DELETE)
        self._recent = RecentContexts()

    async def load_context(self, tenant: str, response_id: str) -> ChainContext | None:
        p = tenant_prefix(tenant)
        key = f"{p}r:{response_id}"
        recent = self._recent.get(key)
        if recent is not None:
            if await self._redis.exists(key):
                return recent
            self._recent.discard(key)
            return None
        found: Any = await self._load_context(keys=[key], args=[p, _SCRIPT_READ_LIMIT])
        if not found:
            return None
        anchor = (found[0].decode(), int(found[1]), response_id)
        conversation = _mark(found[2], found[3])
        if len(found) == 5:
            return ChainContext(found[4][:-1], anchor, conversation)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.getrange(f"{p}t:{anchor[0]}", 0, anchor[1] - 1)
            pipe.exists(key)
            items, exists = await pipe.execute()
        # Still there after the read, so what was read is intact (see the module doc).
        return ChainContext(items[:-1], anchor, conversation) if exists else None

    async def save(
        self,
        tenant: str,
        response_id: str,
        record: bytes,
        input_items: list[bytes],
        output_items: list[bytes],
        parent: ChainContext | None,
        conversation: ConversationMark | None = None,
        tool_lists: bytes = b"",
    ) -> None:
        p = tenant_prefix(tenant)
        keys = [f"{p}r:{response_id}"]
        own = [_joined(input_items), _joined(output_items)]
        thread, end, previous = parent.anchor if parent else ("", 0, "")
        if parent is not None:
            conversation = parent.conversation  # a chain keeps where it started
        mark = [conversation.conversation_id, conversation.position] if conversation else ["", 0]
        args: list[Any] = [p, response_id, record, previous, thread, end, *mark]
        saved: Any = await self._save(keys=keys, args=[*args, b"", *own, tool_lists])
        context = parent.items + b"," if parent and parent.items else b""
        if not saved:
            # The previous response was deleted while this one ran: keep this response
            # replayable with its own copy of the chain's items it saw (the conversation
            # prefix, if any, is anchored again rather than copied).
            args = [p, response_id, record, "", "", 0, *mark]
            saved = await self._save(keys=keys, args=[*args, context, *own, tool_lists])
        await self._durability.confirm(keys[0])
        items = (context + own[0] + own[1])[:-1]
        anchor = (saved[0].decode(), int(saved[1]), response_id)
        self._recent.put(keys[0], ChainContext(items, anchor, conversation))

    async def _read(self, tenant: str, response_id: str, which: str) -> tuple[bytes, bytes] | None:
        p = tenant_prefix(tenant)
        found: Any = await self._slice(keys=[f"{p}r:{response_id}"], args=[p, which])
        return (found[0], _array(found[1])) if found else None

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        found = await self._read(tenant, response_id, "output")
        return StoredResponse(record=found[0], output=found[1]) if found else None

    async def input_items(self, tenant: str, response_id: str) -> bytes | None:
        found = await self._read(tenant, response_id, "input")
        return found[1] if found else None

    async def tool_lists(self, tenant: str, response_id: str) -> bytes | None:
        found: Any = await self._redis.hget(f"{tenant_prefix(tenant)}r:{response_id}", "ml")
        return bytes(found) if found is not None else None

    async def delete(self, tenant: str, response_id: str) -> bool:
        p = tenant_prefix(tenant)
        key = f"{p}r:{response_id}"
        self._recent.discard(key)
        return bool(await self._delete(keys=[key], args=[p]))
