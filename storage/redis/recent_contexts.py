"""The contexts of responses this process just stored, kept for their next turn.

A conversation's next request usually continues the response stored a moment ago, often
by the same sidecar: keeping that context in memory saves reading it back from Redis.
Entries are only hints; the store still checks with Redis that the response exists.
"""

from __future__ import annotations

from collections import OrderedDict

from core.ports import ChainContext

__all__ = ["RecentContexts"]


class RecentContexts:
    def __init__(self, budget_bytes: int = 64 * 1024 * 1024) -> None:
        self._budget = budget_bytes
        self._used = 0
        self._entries: OrderedDict[str, ChainContext] = OrderedDict()

    def get(self, key: str) -> ChainContext | None:
        context = self._entries.get(key)
        if context is not None:
            self._entries.move_to_end(key)
        return context

    def put(self, key: str, context: ChainContext) -> None:
        size = len(context.items)
        if size > self._budget // 4:
            return  # one huge chain must not flush everyone else's
        self.discard(key)
        self._entries[key] = context
        self._used += size
        while self._used > self._budget:
            _, evicted = self._entries.popitem(last=False)
            self._used -= len(evicted.items)

    def discard(self, key: str) -> None:
        context = self._entries.pop(key, None)
        if context is not None:
            self._used -= len(context.items)
