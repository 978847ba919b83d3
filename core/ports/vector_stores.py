"""What the engine needs for vector stores: their metadata, the chunk index, and the
durable ingestion queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.ports.conversations import ItemPage

__all__ = ["Chunk", "ChunkIndex", "Hit", "JobQueue", "VectorStoreStore"]


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    sparse: tuple[list[int], list[float]]  # (term indices, weights)
    dense: list[float] | None


@dataclass(frozen=True, slots=True)
class Hit:
    file_id: str
    filename: str
    score: float
    attributes: dict[str, Any]
    text: str
    chunk_index: int


class ChunkIndex(Protocol):
    """Chunks of vector-store files with their lexical (and dense) vectors."""

    async def close(self) -> None:
        """Release the index (its files, or its connection to a server)."""

    async def ping(self) -> None:
        """Return once the index answers; raise when it cannot."""

    async def upsert_file(
        self,
        tenant: str,
        vector_store_id: str,
        file_id: str,
        filename: str,
        attributes: dict[str, Any],
        chunks: list[Chunk],
    ) -> None: ...

    async def delete_file(self, tenant: str, vector_store_id: str, file_id: str) -> None: ...

    async def delete_store(self, tenant: str, vector_store_id: str) -> None: ...

    async def update_attributes(
        self, tenant: str, vector_store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None: ...

    async def file_chunks(self, tenant: str, vector_store_id: str, file_id: str) -> list[str]: ...

    async def search(
        self,
        tenant: str,
        vector_store_ids: list[str],
        sparse: tuple[list[int], list[float]],
        dense: list[float] | None,
        limit: int,
        filters: dict[str, Any] | None,
        weights: tuple[float, float] | None = None,
    ) -> list[Hit]:
        """Best first. `filters` are attribute filters core has validated; anything the
        index still refuses is a server fault, not the client's."""


class VectorStoreStore(Protocol):
    """Vector stores, their files and batches (metadata; chunks are in the index)."""

    async def save_store(self, tenant: str, store: dict[str, Any], new: bool = False) -> None: ...

    async def get_store(self, tenant: str, store_id: str) -> dict[str, Any] | None: ...

    async def page_stores(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage: ...

    async def delete_store(self, tenant: str, store_id: str) -> list[str] | None: ...

    async def put_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> None: ...

    async def update_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> bool:
        """Write a file's new state only while it is still in the store."""

    async def get_file(self, tenant: str, store_id: str, file_id: str) -> dict[str, Any] | None: ...

    async def files(self, tenant: str, store_id: str) -> list[dict[str, Any]]: ...

    async def remove_file(self, tenant: str, store_id: str, file_id: str) -> bool: ...

    async def stores_of_file(self, tenant: str, file_id: str) -> list[str]: ...

    async def save_batch(self, tenant: str, batch: dict[str, Any]) -> None: ...

    async def get_batch(self, tenant: str, batch_id: str) -> dict[str, Any] | None: ...


class JobQueue(Protocol):
    """Durable jobs: taken by one consumer, redelivered if it dies before `done`."""

    async def put(self, job: dict[str, Any]) -> None: ...

    async def take(self, block_ms: int) -> tuple[str, dict[str, Any]] | None: ...

    async def done(self, entry_id: str) -> None: ...

    async def depth(self) -> int:
        """Jobs not yet done: waiting, or being worked on by some replica."""
