"""The chunk index seen through spans: with traces exported, each index call is a client
span under the request's, named like OpenTelemetry's database conventions. Only the
operation and counts are recorded, never a chunk's text, a query or an attribute."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from core.ports import Chunk, ChunkIndex, Hit

__all__ = ["TracedChunkIndex"]

_tracer = trace.get_tracer("openresponses-gw.storage")


@contextmanager
def _span(operation: str, **counts: int) -> Iterator[None]:
    attributes: dict[str, str | int] = {
        "db.system.name": "qdrant",
        "db.operation.name": operation,
    }
    attributes.update({f"openresponses.{name}": value for name, value in counts.items()})
    with _tracer.start_as_current_span(
        f"{operation} chunks", kind=SpanKind.CLIENT, attributes=attributes
    ):
        yield


class TracedChunkIndex:
    def __init__(self, inner: ChunkIndex) -> None:
        self._inner = inner

    async def close(self) -> None:
        await self._inner.close()

    async def ping(self) -> None:
        await self._inner.ping()

    async def upsert_file(
        self,
        tenant: str,
        vector_store_id: str,
        file_id: str,
        filename: str,
        attributes: dict[str, Any],
        chunks: list[Chunk],
    ) -> None:
        with _span("upsert", chunks=len(chunks)):
            await self._inner.upsert_file(
                tenant, vector_store_id, file_id, filename, attributes, chunks
            )

    async def delete_file(self, tenant: str, vector_store_id: str, file_id: str) -> None:
        with _span("delete"):
            await self._inner.delete_file(tenant, vector_store_id, file_id)

    async def delete_store(self, tenant: str, vector_store_id: str) -> None:
        with _span("delete"):
            await self._inner.delete_store(tenant, vector_store_id)

    async def update_attributes(
        self, tenant: str, vector_store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None:
        with _span("update"):
            await self._inner.update_attributes(tenant, vector_store_id, file_id, attributes)

    async def file_chunks(self, tenant: str, vector_store_id: str, file_id: str) -> list[str]:
        with _span("scroll"):
            return await self._inner.file_chunks(tenant, vector_store_id, file_id)

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
        with _span("query", stores=len(vector_store_ids), limit=limit):
            return await self._inner.search(
                tenant, vector_store_ids, sparse, dense, limit, filters, weights
            )
