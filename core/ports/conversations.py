"""What the engine needs to keep conversations and their items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ConversationStore", "ItemPage"]


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[bytes]  # encoded items, in the order asked for
    has_more: bool


class ConversationStore(Protocol):
    """Conversations and their items, scoped by tenant.

    Items keep the position they were added at (no renumbering), and a batch of items
    is added all together or not at all, after everything already there. Item ids are
    unique within a conversation.
    """

    async def create(
        self, tenant: str, conversation_id: str, record: bytes, items: list[tuple[str, bytes]]
    ) -> None: ...

    async def get(self, tenant: str, conversation_id: str) -> bytes | None: ...

    async def replace(self, tenant: str, conversation_id: str, record: bytes) -> bool:
        """Overwrite the conversation object if the conversation exists."""

    async def delete(self, tenant: str, conversation_id: str) -> bool: ...

    async def append(
        self, tenant: str, conversation_id: str, items: list[tuple[str, bytes]]
    ) -> list[str] | None:
        """Add (id, encoded item) pairs after the existing items. None without the
        conversation; else the ids it already holds, in which case nothing was added."""

    async def context(self, tenant: str, conversation_id: str) -> tuple[bytes, int] | None:
        """All items in order, encoded and joined with commas, and the position of the
        last one (0 without items): a `ConversationMark` for what was read."""

    async def context_until(self, tenant: str, conversation_id: str, position: int) -> bytes:
        """The items at positions up to `position`, as they are now (deleted ones are
        gone; nothing once the conversation is deleted), joined like `context`."""

    async def list_items(
        self, tenant: str, conversation_id: str, limit: int, descending: bool, after: str | None
    ) -> ItemPage | None: ...

    async def get_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bytes | None] | None:
        """(conversation record, item or None), or None without the conversation."""

    async def delete_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bool] | None:
        """(conversation record, whether the item existed), or None without it."""
