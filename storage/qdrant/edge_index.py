"""The vector index of vector-store chunks in Qdrant's embedded engine (`qdrant-edge-py`).

The same points as `QdrantChunkIndex` keeps in a Qdrant server (see `storage.qdrant.index`):
one shard holds every tenant's chunks, a sparse `lexical` vector with the engine's IDF
modifier and, with embeddings, a cosine `dense` vector; payload fields scope a point to its
tenant, store and file, with keyword indexes on those, and attributes as flat `attr_` fields.

The engine is synchronous Rust and holds the GIL while it works, so every call runs on one
dedicated thread: the event loop only waits on a future, and writes are applied by a single
writer in order. Writes go to the engine's write-ahead log without a flush per batch; the
shard is flushed on close.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as edge
from qdrant_client import models

from core.ports import Chunk, Hit
from storage.qdrant.directory_lock import lock_directory, unlock_directory
from storage.qdrant.edge_filters import (
    bool_field,
    edge_attribute_payload,
    edge_condition,
    edge_filter,
)
from storage.qdrant.filters import (
    attribute_condition,
    attribute_field,
    file_filter,
    scope_conditions,
    scope_filter,
)
from storage.qdrant.points import DENSE, LEXICAL, point_id, to_hit
from storage.qdrant.score_fusion import weighted_fusion

__all__ = ["EdgeChunkIndex"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# The binding holds the GIL through a write: small batches keep a search queued behind
# ingestion waiting milliseconds, not tens of them.
_UPSERT_BATCH = 256
_SCROLL_PAGE = 1024
# As in `QdrantChunkIndex`: candidates each retriever contributes to a fused ranking.
_FUSION_CANDIDATES_PER_HIT = 2
_FUSION_MIN_CANDIDATES = 20
# Qdrant's default RRF constant, so both engines rank hybrid queries alike.
_RRF_K = 2
_KEYWORD_FIELDS = ("tenant", "vector_store_id", "file_id")


class EdgeChunkIndex:
    """Chunks of vector-store files in an embedded Qdrant shard under `path`.

    `dense_size` is the embedding dimension; None indexes text lexically only. Each
    configuration has its own shard directory, so changing the embeddings model starts an
    empty index instead of failing on stored vectors of another size.
    """

    def __init__(self, *, path: Path, dense_size: int | None = None) -> None:
        if dense_size is not None and dense_size < 1:
            raise ValueError(f"dense_size must be positive, not {dense_size}")
        self._dense_size = dense_size
        self._root = path
        suffix = "lexical" if dense_size is None else f"d{dense_size}"
        self._shard_path = path / f"chunks_{suffix}"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        self._shard: edge.EdgeShard | None = None
        self._lock_fd: int | None = None
        self._closed = False

    @property
    def shard_path(self) -> Path:
        return self._shard_path

    @property
    def dense_size(self) -> int | None:
        return self._dense_size

    async def start(self) -> None:
        """Open (or create) the shard on the engine thread."""
        await self._run(self._start_sync)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._run(self._close_sync)
        self._executor.shutdown(wait=False)

    async def ping(self) -> None:
        await self._run_with_shard(lambda shard: shard.info())

    async def upsert_file(
        self,
        tenant: str,
        vector_store_id: str,
        file_id: str,
        filename: str,
        attributes: dict[str, Any],
        chunks: list[Chunk],
    ) -> None:
        for chunk in chunks:
            self._check_vectors(chunk.sparse, chunk.dense)
        base = {
            "tenant": tenant,
            "vector_store_id": vector_store_id,
            "file_id": file_id,
            "filename": filename,
            **edge_attribute_payload(attributes),
        }
        points = [
            edge.Point(
                point_id(tenant, vector_store_id, file_id, index),
                _vectors(chunk),
                {**base, "chunk_index": index, "text": chunk.text},
            )
            for index, chunk in enumerate(chunks)
        ]
        # Write first, then trim the stale tail of an older, longer version: a search
        # meanwhile sees the file's old or new chunks, never none (as `QdrantChunkIndex`).
        stale = models.Filter(
            must=[
                *scope_conditions(file_filter(tenant, vector_store_id, file_id)),
                models.FieldCondition(key="chunk_index", range=models.Range(gte=len(chunks))),
            ]
        )

        def write(shard: edge.EdgeShard) -> None:
            for start in range(0, len(points), _UPSERT_BATCH):
                batch = points[start : start + _UPSERT_BATCH]
                shard.update(edge.UpdateOperation.upsert_points(batch))
            shard.update(edge.UpdateOperation.delete_points_by_filter(edge_filter(stale)))

        await self._run_with_shard(write)

    async def delete_file(self, tenant: str, vector_store_id: str, file_id: str) -> None:
        await self._delete(file_filter(tenant, vector_store_id, file_id))

    async def delete_store(self, tenant: str, vector_store_id: str) -> None:
        await self._delete(scope_filter(tenant, [vector_store_id]))

    async def update_attributes(
        self, tenant: str, vector_store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None:
        scope = edge_filter(file_filter(tenant, vector_store_id, file_id))
        new_fields = edge_attribute_payload(attributes)

        def update(shard: edge.EdgeShard) -> None:
            # Flat fields of keys no longer present go first (see `QdrantChunkIndex`).
            old_fields: set[str] = set()
            for record in _scroll(shard, scope, ["attributes"]):
                old = (record.payload or {}).get("attributes") or {}
                for key in old:
                    old_fields.update((attribute_field(key), bool_field(attribute_field(key))))
            removed = sorted(old_fields - new_fields.keys())
            if removed:
                shard.update(edge.UpdateOperation.delete_payload_by_filter(scope, removed))
            shard.update(edge.UpdateOperation.set_payload_by_filter(scope, new_fields))

        await self._run_with_shard(update)

    async def file_chunks(self, tenant: str, vector_store_id: str, file_id: str) -> list[str]:
        """The file's chunk texts in document order."""
        scope = edge_filter(file_filter(tenant, vector_store_id, file_id))

        def read(shard: edge.EdgeShard) -> list[str]:
            records = _scroll(shard, scope, ["chunk_index", "text"])
            payloads = sorted((r.payload or {} for r in records), key=lambda p: p["chunk_index"])
            return [str(payload["text"]) for payload in payloads]

        return await self._run_with_shard(read)

    async def count(self, tenant: str, vector_store_id: str) -> int:
        scope = edge_filter(scope_filter(tenant, [vector_store_id]))
        return await self._run_with_shard(
            lambda shard: shard.count(edge.CountRequest(exact=True, filter=scope))
        )

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
        """The best chunks of the tenant's given stores, best first, ranked as
        `QdrantChunkIndex.search` ranks them; the engine filters and fuses.

        With `weights`, both retrievers' candidates come from one engine batch and are fused
        by `weighted_fusion`: weights apply to min-max normalised scores, which the engine's
        fusions (weighted RRF on ranks, DBSF on standardised scores) do not compute.
        """
        if limit < 1:
            raise ValueError(f"limit must be positive, not {limit}")
        if weights is not None and (min(weights) < 0 or sum(weights) <= 0):
            raise ValueError("weights must be non-negative and not both zero")
        self._check_vectors(sparse, dense)
        if not vector_store_ids:
            return []
        scope = scope_filter(tenant, vector_store_ids)
        conditions = [edge_condition(part) for part in scope_conditions(scope)]
        if filters is not None:
            conditions.append(edge_condition(attribute_condition(filters)))
        query_filter = edge.Filter(must=conditions)
        # IDF over the searched stores only, as with a server (see `QdrantChunkIndex`).
        lexical_params = edge.SearchParams(idf=edge.IdfParams(corpus=edge_filter(scope)))
        lexical = (
            edge.Query.Nearest(edge.SparseVector(sparse[0], sparse[1]), using=LEXICAL)
            if sparse[0]
            else None
        )
        by_dense = None if dense is None else edge.Query.Nearest(dense, using=DENSE)
        candidates = max(limit * _FUSION_CANDIDATES_PER_HIT, _FUSION_MIN_CANDIDATES)

        def one(query: Any, size: int) -> edge.QueryRequest:
            return edge.QueryRequest(
                limit=size,
                query=query,
                filter=query_filter,
                params=lexical_params if query is lexical else None,
                with_payload=True,
            )

        def run(shard: edge.EdgeShard) -> list[tuple[float, dict[str, Any]]]:
            found: Sequence[Any]
            if by_dense is None:
                found = [] if lexical is None else shard.query(one(lexical, limit))
            elif lexical is None:
                found = shard.query(one(by_dense, limit))
            elif weights is not None:
                both = [one(by_dense, candidates), one(lexical, candidates)]
                dense_hits, lexical_hits = shard.query_batch(edge.QueryBatchRequest(both))
                return weighted_fusion(dense_hits, lexical_hits, weights)[:limit]
            else:
                found = shard.query(
                    edge.QueryRequest(
                        limit=limit,
                        prefetches=[
                            edge.Prefetch(
                                candidates,
                                query=lexical,
                                filter=query_filter,
                                params=lexical_params,
                            ),
                            edge.Prefetch(candidates, query=by_dense, filter=query_filter),
                        ],
                        # the stub types the fusions' base class only
                        query=edge.Fusion.Rrf(k=_RRF_K),  # type: ignore[arg-type]
                        with_payload=True,
                    )
                )
            return [(point.score, point.payload or {}) for point in found]

        scored = await self._run_with_shard(run)
        hits = [to_hit(score, payload) for score, payload in scored]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits

    async def write_points(self, points: list[edge.Point]) -> None:
        """Upsert points as they are (an import from another index)."""

        def write(shard: edge.EdgeShard) -> None:
            for start in range(0, len(points), _UPSERT_BATCH):
                batch = points[start : start + _UPSERT_BATCH]
                shard.update(edge.UpdateOperation.upsert_points(batch))

        await self._run_with_shard(write)

    async def run_blocking(self, job: Callable[[], _T]) -> _T:
        """Run other blocking work on the engine's thread, in order with its writes."""
        return await self._run(job)

    # -- engine thread ------------------------------------------------------------------

    async def _run(self, job: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    async def _run_with_shard(self, job: Callable[[edge.EdgeShard], _T]) -> _T:
        return await self._run(lambda: job(self._require_shard()))

    def _require_shard(self) -> edge.EdgeShard:
        if self._shard is None:
            raise RuntimeError("EdgeChunkIndex is not started (or already closed)")
        return self._shard

    def _start_sync(self) -> None:
        if self._shard is not None:
            return
        self._lock_fd = lock_directory(self._root)
        try:
            self._shard = self._open_shard()
        except BaseException:
            unlock_directory(self._lock_fd)
            self._lock_fd = None
            raise

    def _open_shard(self) -> edge.EdgeShard:
        sparse = {LEXICAL: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)}
        dense = (
            {}
            if self._dense_size is None
            else {DENSE: edge.EdgeVectorParams(self._dense_size, edge.Distance.Cosine)}
        )
        config = edge.EdgeConfig(vectors=dense, sparse_vectors=sparse)
        if (self._shard_path / "edge_config.json").exists():
            shard = edge.EdgeShard.load(str(self._shard_path), config)
            # The embedded engine has no background optimiser: segments written since the
            # last start are merged and indexed now, before the sidecar serves (the engine
            # holds the GIL meanwhile, which must not happen while requests wait).
            shard.optimize()
        else:
            shard = edge.EdgeShard.create(str(self._shard_path), config)
        known = set(shard.info().payload_schema)
        for field in _KEYWORD_FIELDS:
            if field not in known:
                shard.update(
                    edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Keyword)
                )
        if "chunk_index" not in known:
            shard.update(
                edge.UpdateOperation.create_field_index(
                    "chunk_index", edge.PayloadSchemaType.Integer
                )
            )
        return shard

    def _close_sync(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None
        if self._lock_fd is not None:
            unlock_directory(self._lock_fd)
            self._lock_fd = None

    async def _delete(self, scope: models.Filter) -> None:
        operation = edge.UpdateOperation.delete_points_by_filter(edge_filter(scope))
        await self._run_with_shard(lambda shard: shard.update(operation))

    def _check_vectors(
        self, sparse: tuple[list[int], list[float]], dense: list[float] | None
    ) -> None:
        if len(sparse[0]) != len(sparse[1]):
            raise ValueError("sparse vector needs as many values as indices")
        if dense is None:
            return
        if self._dense_size is None:
            raise ValueError("this index is lexical only; it takes no dense vectors")
        if len(dense) != self._dense_size:
            raise ValueError(f"dense vector has {len(dense)} dimensions, not {self._dense_size}")


def _vectors(chunk: Chunk) -> dict[str, Any]:
    vectors: dict[str, Any] = {}
    if chunk.sparse[0]:  # a chunk without terms has no lexical vector to match
        vectors[LEXICAL] = edge.SparseVector(chunk.sparse[0], chunk.sparse[1])
    if chunk.dense is not None:
        vectors[DENSE] = chunk.dense
    return vectors


def _scroll(shard: edge.EdgeShard, scope: edge.Filter, fields: list[str]) -> list[edge.Record]:
    records: list[edge.Record] = []
    offset: Any = None
    while True:
        page, offset = shard.scroll(
            edge.ScrollRequest(
                offset=offset,
                limit=_SCROLL_PAGE,
                filter=scope,
                with_payload=edge.PayloadSelector.Include(fields),
                with_vector=False,
            )
        )
        records.extend(page)
        if offset is None:
            return records
