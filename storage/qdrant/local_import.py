"""Carrying chunks over from a data dir written by qdrant-client's local mode.

Releases before the embedded engine kept the index in `<data dir>/qdrant` through
qdrant-client's pure-Python local mode. On the first start with the embedded engine the
points of the collection matching the current configuration (lexical only, or the
embedding size) are copied, vectors and payloads as they are, into the new shard; the old
directory is then renamed to `qdrant.imported` (kept, not deleted) so the copy runs once
and nothing is lost. An old index without that collection is left in place, with a warning
on each start, for a start with its own configuration to import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qdrant_edge as edge
from qdrant_client import QdrantClient, models

from storage.qdrant.edge_filters import edge_attribute_payload
from storage.qdrant.edge_index import EdgeChunkIndex
from storage.qdrant.index import QdrantChunkIndex

__all__ = ["import_local_mode"]

log = logging.getLogger(__name__)

_PAGE = 1024


async def import_local_mode(old_dir: Path, index: EdgeChunkIndex) -> int:
    """Copy the chunks of the local-mode index in `old_dir` (if any) into the started
    `index`; the number of chunks copied."""
    if not old_dir.is_dir():
        return 0
    collection = QdrantChunkIndex(path=old_dir, dense_size=index.dense_size).collection_name
    copied = 0
    # Read on the engine's own thread, one page at a time, and written as read.
    client = await index.run_blocking(lambda: QdrantClient(path=str(old_dir)))
    try:
        if not await index.run_blocking(lambda: client.collection_exists(collection)):
            log.warning(
                "the old local-mode index at %s has no %s collection (it was written with "
                "another embeddings setting); left as it is, nothing imported",
                old_dir,
                collection,
            )
            return 0
        offset: models.ExtendedPointId | None = None
        while True:
            page, offset = await index.run_blocking(_page_reader(client, collection, offset))
            await index.write_points([_edge_point(record) for record in page])
            copied += len(page)
            if offset is None:
                break
    finally:
        await index.run_blocking(client.close)
    target = old_dir.with_name(old_dir.name + ".imported")
    old_dir.rename(target)
    log.warning(
        "copied %d chunks of %s from the old local-mode index into the embedded engine; "
        "the old index is kept at %s and may be deleted",
        copied,
        collection,
        target,
    )
    return copied


def _page_reader(
    client: QdrantClient, collection: str, offset: models.ExtendedPointId | None
) -> Callable[[], tuple[list[models.Record], models.ExtendedPointId | None]]:
    def read() -> tuple[list[models.Record], models.ExtendedPointId | None]:
        return client.scroll(
            collection, limit=_PAGE, offset=offset, with_payload=True, with_vectors=True
        )

    return read


def _edge_point(record: models.Record) -> edge.Point:
    vectors: dict[str, Any] = {}
    stored = record.vector if isinstance(record.vector, dict) else {}
    for name, vector in stored.items():
        if isinstance(vector, models.SparseVector):
            vectors[name] = edge.SparseVector(list(vector.indices), list(vector.values))
        else:
            vectors[name] = vector
    payload = dict(record.payload or {})
    payload.update(edge_attribute_payload(payload.get("attributes") or {}))
    return edge.Point(str(record.id), vectors, payload)
