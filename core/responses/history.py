"""The items a chain of responses has seen, as the next request (or a compaction of it)
must replay them."""

from __future__ import annotations

from core.common.errors import InvalidRequestError
from core.ports import ChainContext, Stores

__all__ = ["chain_items"]


async def chain_items(stores: Stores, tenant: str, previous: str) -> tuple[ChainContext, bytes]:
    """The context of the chain ending at `previous` and its items, comma-joined."""
    context = await stores.responses.load_context(tenant, previous)
    if context is None:
        raise InvalidRequestError(
            f"Previous response with id '{previous}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    mark = context.conversation
    if mark is None:
        return context, context.items
    # The chain began in a conversation: the conversation's items up to what its first
    # response saw come first, read as they are now, so an item deleted from the
    # conversation since is no longer replayed (nor is anything once the conversation
    # is deleted), while items added after the mark never are.
    prefix = await stores.conversations.context_until(tenant, mark.conversation_id, mark.position)
    return context, b",".join(part for part in (prefix, context.items) if part)
