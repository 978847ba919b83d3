"""Ingestion: queued (store, file) jobs become indexed chunks.

A job is acknowledged only after the file reached a final status, so a worker that dies
mid-file leaves it to be claimed again. Parsing, chunking and lexical vectors are CPU
work: they run in a thread so the sidecar keeps answering Envoy meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.common.telemetry import telemetry
from core.ports import Chunk, Stores
from core.vector_stores.ingestion.chunking import chunk_text, parse_chunking_strategy
from core.vector_stores.ingestion.embeddings import EmbeddingsClient, EmbeddingsError
from core.vector_stores.ingestion.lexical import sparse_document
from core.vector_stores.ingestion.parsing import (
    InvalidFileError,
    UnsupportedFileError,
    extract_text,
)

__all__ = ["IngestionWorker"]

log = logging.getLogger(__name__)


class _Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _prepare(data: bytes, filename: str, strategy: dict[str, Any]) -> list[tuple[str, Any]]:
    """Text, chunks and their lexical vectors (runs in a worker thread)."""
    try:
        text = extract_text(data, filename)
    except UnsupportedFileError as error:
        raise _Failed("unsupported_file", str(error)) from None
    except InvalidFileError as error:
        raise _Failed("invalid_file", str(error)) from None
    _, parsed = parse_chunking_strategy(strategy)
    return [(piece, sparse_document(piece)) for piece in chunk_text(text, parsed)]


class IngestionWorker:
    def __init__(self, stores: Stores, embedder: EmbeddingsClient | None) -> None:
        self._stores = stores
        self._embedder = embedder

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                telemetry().ingest_queue(await self._stores.ingest.depth())
                taken = await self._stores.ingest.take(block_ms=500)
                if taken is None:
                    continue
                entry_id, job = taken
                await self.process(job)
                await self._stores.ingest.done(entry_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Storage trouble: the job stays pending and is claimed again later.
                log.exception("ingestion failed")
                await asyncio.sleep(1)

    async def process(self, job: dict[str, Any]) -> None:
        tenant, store_id, file_id = job["tenant"], job["vector_store_id"], job["file_id"]
        meta = self._stores.vector_stores
        file = await meta.get_file(tenant, store_id, file_id)
        if file is None or file["status"] != "in_progress":
            return  # removed from the store, or cancelled, meanwhile
        batch_id = job.get("batch_id")
        if batch_id:
            batch = await meta.get_batch(tenant, batch_id)
            if batch is not None and batch["status"] == "cancelled":
                file["status"] = "cancelled"
                await meta.update_file(tenant, store_id, file)
                return
        outcome: dict[str, Any]
        indexed = 0
        try:
            usage, indexed = await self._index(tenant, store_id, file)
        except _Failed as failure:
            outcome = {
                "status": "failed",
                "last_error": {"code": failure.code, "message": str(failure)},
            }
        except Exception as error:
            log.exception("ingesting %s into %s failed", file_id, store_id)
            message = str(error)[:500]
            outcome = {
                "status": "failed",
                "last_error": {"code": "server_error", "message": message},
            }
        else:
            outcome = {"status": "completed", "usage_bytes": usage, "last_error": None}
        telemetry().ingested(outcome["status"], indexed)
        await self._settle(tenant, store_id, file, outcome)

    async def _settle(
        self, tenant: str, store_id: str, indexed: dict[str, Any], outcome: dict[str, Any]
    ) -> None:
        """Record the outcome on the file as it is now: it may have been removed,
        cancelled or given new attributes while it was being indexed."""
        meta, chunks = self._stores.vector_stores, self._stores.chunks
        file_id = indexed["id"]
        current = await meta.get_file(tenant, store_id, file_id)
        if current is None or current["status"] != "in_progress":
            await chunks.delete_file(tenant, store_id, file_id)  # removed or cancelled
            return
        current.update(outcome)
        if not await meta.update_file(tenant, store_id, current):
            await chunks.delete_file(tenant, store_id, file_id)
        elif outcome["status"] == "completed" and current["attributes"] != indexed["attributes"]:
            await chunks.update_attributes(tenant, store_id, file_id, current["attributes"])

    async def _index(self, tenant: str, store_id: str, file: dict[str, Any]) -> tuple[int, int]:
        """Index the file's chunks: their bytes and their number."""
        file_id = file["id"]
        record = await self._stores.files.get(tenant, file_id)
        data = await self._stores.blobs.read(tenant, file_id)
        if record is None or data is None:
            raise _Failed("invalid_file", f"File {file_id} no longer exists.")
        prepared = await asyncio.to_thread(
            _prepare, data, record["filename"], file["chunking_strategy"]
        )
        texts = [text for text, _ in prepared]
        dense: list[list[float] | None] = [None] * len(texts)
        if self._embedder is not None and texts:
            try:
                dense = list(await self._embedder.embed(texts))
            except EmbeddingsError as error:
                raise _Failed("server_error", f"Embeddings failed: {error}") from None
        chunks = [
            Chunk(text=text, sparse=sparse, dense=vector)
            for (text, sparse), vector in zip(prepared, dense, strict=True)
        ]
        await self._stores.chunks.upsert_file(
            tenant, store_id, file_id, record["filename"], file["attributes"], chunks
        )
        return sum(len(text.encode()) for text in texts), len(chunks)
