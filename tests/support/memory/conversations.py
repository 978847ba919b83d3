"""Conversations in memory, with the semantics of `RedisConversationStore`."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.ports import ItemPage

__all__ = ["MemoryConversationStore"]


@dataclass
class _Conversation:
    record: bytes
    last: int = 0  # the last position handed out
    items: dict[int, bytes] = field(default_factory=dict)  # position -> item
    positions: dict[str, int] = field(default_factory=dict)  # item id -> position

    def taken(self, items: list[tuple[str, bytes]]) -> list[str]:
        return [item_id for item_id, _ in items if item_id in self.positions]

    def add(self, items: list[tuple[str, bytes]]) -> None:
        for item_id, encoded in items:
            self.last += 1
            self.items[self.last] = encoded
            self.positions[item_id] = self.last

    def ordered(self, descending: bool = False) -> list[int]:
        return sorted(self.items, reverse=descending)


class MemoryConversationStore:
    """Positions only grow, a batch goes in whole or not at all, ids are unique within a
    conversation: see `RedisConversationStore`."""

    def __init__(self) -> None:
        self._conversations: dict[tuple[str, str], _Conversation] = {}

    async def create(
        self, tenant: str, conversation_id: str, record: bytes, items: list[tuple[str, bytes]]
    ) -> None:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            found = self._conversations[(tenant, conversation_id)] = _Conversation(record)
        elif found.taken(items):
            return
        found.record = record
        found.add(items)

    async def get(self, tenant: str, conversation_id: str) -> bytes | None:
        found = self._conversations.get((tenant, conversation_id))
        return None if found is None else found.record

    async def replace(self, tenant: str, conversation_id: str, record: bytes) -> bool:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return False
        found.record = record
        return True

    async def delete(self, tenant: str, conversation_id: str) -> bool:
        return self._conversations.pop((tenant, conversation_id), None) is not None

    async def append(
        self, tenant: str, conversation_id: str, items: list[tuple[str, bytes]]
    ) -> list[str] | None:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return None
        taken = found.taken(items)
        if not taken:
            found.add(items)
        return taken

    async def context(self, tenant: str, conversation_id: str) -> tuple[bytes, int] | None:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return None
        positions = found.ordered()
        joined = b",".join(found.items[at] for at in positions)
        return joined, positions[-1] if positions else 0

    async def context_until(self, tenant: str, conversation_id: str, position: int) -> bytes:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return b""
        return b",".join(found.items[at] for at in found.ordered() if at <= position)

    async def list_items(
        self, tenant: str, conversation_id: str, limit: int, descending: bool, after: str | None
    ) -> ItemPage | None:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return None
        positions = found.ordered(descending)
        if after:
            at = found.positions.get(after)
            if at is None:
                return ItemPage(items=[], has_more=False)
            positions = [p for p in positions if (p < at if descending else p > at)]
        return ItemPage(
            items=[found.items[at] for at in positions[:limit]], has_more=len(positions) > limit
        )

    async def get_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bytes | None] | None:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return None
        at = found.positions.get(item_id)
        return found.record, None if at is None else found.items[at]

    async def delete_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bool] | None:
        found = self._conversations.get((tenant, conversation_id))
        if found is None:
            return None
        at = found.positions.pop(item_id, None)
        if at is not None:
            del found.items[at]
        return found.record, at is not None
