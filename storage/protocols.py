"""What the engine needs from storage. Implementations live beside this module.

Items travel as encoded JSON: a context is the items joined with commas (ready to splice
into a request's `input` array) and listings are JSON arrays, so the hot path never
decodes and re-encodes history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ChainContext", "ResponseStore", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class ChainContext:
    """Everything a response continued with `previous_response_id` sees, oldest first.

    `items` are the encoded items joined with commas (empty when there are none).
    `anchor` is an opaque position the store uses to link the next response after it.
    """

    items: bytes
    anchor: tuple[str, int, str]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    record: bytes  # the response object, encoded, without its `output`
    output: bytes  # the output items as an encoded JSON array


class ResponseStore(Protocol):
    """Persisted responses, scoped by tenant: another tenant's id is simply not found."""

    async def load_context(self, tenant: str, response_id: str) -> ChainContext | None:
        """The input and output items of the chain ending at `response_id`."""

    async def save(
        self,
        tenant: str,
        response_id: str,
        record: bytes,
        input_items: list[bytes],
        output_items: list[bytes],
        parent: ChainContext | None,
    ) -> None:
        """Store a finished response after `parent` (atomically: all of it or nothing)."""

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None: ...

    async def input_items(self, tenant: str, response_id: str) -> bytes | None:
        """The items given as input to this response (not its ancestors'): a JSON array."""

    async def delete(self, tenant: str, response_id: str) -> bool: ...
