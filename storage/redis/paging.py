"""Cursor pages over a sorted set of ids ordered by a per-tenant sequence.

Shared by the stores whose listings take `after` and `before`: one script call finds the
page's ids, so a page never mixes two states of the set.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

__all__ = ["ZsetPager"]

# KEYS[1] = the ordering zset. ARGV: limit+1, descending, after or '', before or ''
_PAGE = """
local want, descending = tonumber(ARGV[1]), ARGV[2] == '1'
local low, high = '-inf', '+inf'
if ARGV[3] ~= '' then
  local at = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if not at then return {} end
  if descending then high = '(' .. at else low = '(' .. at end
end
if ARGV[4] ~= '' then
  local at = redis.call('ZSCORE', KEYS[1], ARGV[4])
  if not at then return {} end
  if descending then low = '(' .. at else high = '(' .. at end
end
if descending then
  return redis.call('ZREVRANGEBYSCORE', KEYS[1], high, low, 'LIMIT', 0, want)
end
return redis.call('ZRANGEBYSCORE', KEYS[1], low, high, 'LIMIT', 0, want)
"""


class ZsetPager:
    def __init__(self, redis: Redis) -> None:
        self._page = redis.register_script(_PAGE)

    async def ids(
        self, key: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> tuple[list[str], bool]:
        """Up to `limit` ids after `after` and before `before` (unknown cursors give an
        empty page), and whether more follow."""
        args: list[Any] = [limit + 1, "1" if descending else "0", after or "", before or ""]
        found: Any = await self._page(keys=[key], args=args)
        ids = [item.decode() for item in found]
        return ids[:limit], len(ids) > limit
