"""Responses in memory, with the semantics of `RedisResponseStore`.

Each response keeps its whole chain's items (Redis shares them between the responses of a
thread; the contexts read back are the same). So deleting a response never takes items from
the responses that continued it, and a response saved after a parent deleted meanwhile keeps
the context it was given, as in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ports import ChainContext, ConversationMark, StoredResponse

__all__ = ["MemoryResponseStore"]


@dataclass(frozen=True)
class _Stored:
    record: bytes
    input: list[bytes]
    output: list[bytes]
    chain: bytes  # the chain's items up to and including this response's, comma-joined
    conversation: ConversationMark | None
    tool_lists: bytes


def _array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


class MemoryResponseStore:
    def __init__(self) -> None:
        self._responses: dict[tuple[str, str], _Stored] = {}

    async def load_context(self, tenant: str, response_id: str) -> ChainContext | None:
        found = self._responses.get((tenant, response_id))
        if found is None:
            return None
        return ChainContext(found.chain, ("memory", 0, response_id), found.conversation)

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
        if parent is not None:
            conversation = parent.conversation  # a chain keeps where it started
        parts = [parent.items] if parent is not None and parent.items else []
        chain = b",".join([*parts, *input_items, *output_items])
        self._responses[(tenant, response_id)] = _Stored(
            record, list(input_items), list(output_items), chain, conversation, tool_lists
        )

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        found = self._responses.get((tenant, response_id))
        if found is None:
            return None
        return StoredResponse(record=found.record, output=_array(found.output))

    async def tool_lists(self, tenant: str, response_id: str) -> bytes | None:
        found = self._responses.get((tenant, response_id))
        return found.tool_lists if found is not None and found.tool_lists else None

    async def input_items(self, tenant: str, response_id: str) -> bytes | None:
        found = self._responses.get((tenant, response_id))
        return None if found is None else _array(found.input)

    async def delete(self, tenant: str, response_id: str) -> bool:
        return self._responses.pop((tenant, response_id), None) is not None
