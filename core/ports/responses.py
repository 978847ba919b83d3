"""What the engine needs to keep responses and rebuild a chain's context.

Items travel as encoded JSON: a context is the items joined with commas (ready to splice
into a request's `input` array), so the hot path never decodes and re-encodes history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ChainContext", "ConversationMark", "ResponseStore", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class ConversationMark:
    """Where a chain starts inside a conversation: the response that began it was
    created with `conversation` and saw the conversation's items up to `position`."""

    conversation_id: str
    position: int


@dataclass(frozen=True, slots=True)
class ChainContext:
    """Everything a response continued with `previous_response_id` sees, oldest first.

    `items` are the chain's own encoded items joined with commas (empty when there are
    none). `anchor` is an opaque position the store uses to link the next response after
    it. `conversation` is set when the chain began in a conversation: the conversation's
    items up to that mark, read from the conversation store as they are now, come before
    `items` (they are never copied into the chain).
    """

    items: bytes
    anchor: tuple[str, int, str]
    conversation: ConversationMark | None = None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    record: bytes  # the response object, encoded, without its `output`
    output: bytes  # the output items as an encoded JSON array


class ResponseStore(Protocol):
    """Persisted responses, scoped by tenant: another tenant's id is simply not found."""

    async def load_context(self, tenant: str, response_id: str) -> ChainContext | None:
        """The input and output items of the chain ending at `response_id`, with the
        conversation mark of its first response if that one was created in one."""

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
        """Store a finished response after `parent` (atomically: all of it or nothing).

        `conversation` anchors a response that starts a chain (no `parent`) in the
        conversation it was created in; a continuation keeps its parent's anchor.
        `tool_lists` are the MCP tool lists of the chain so far, for later turns."""

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None: ...

    async def tool_lists(self, tenant: str, response_id: str) -> bytes | None:
        """The MCP tool lists saved with a response (JSON, by server label), if any."""

    async def input_items(self, tenant: str, response_id: str) -> bytes | None:
        """The items given as input to this response (not its ancestors'): a JSON array."""

    async def delete(self, tenant: str, response_id: str) -> bool: ...
