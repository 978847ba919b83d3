"""The vector index of vector-store chunks, kept in Qdrant.

One collection holds every tenant's chunks; each point is one chunk with a sparse `lexical`
vector (Qdrant applies IDF at query time) and, when embeddings are configured, a cosine
`dense` vector. Payload fields scope a point to its tenant, vector store and file, and copy
the file's attributes as flat `attr_<key>` fields so OpenAI attribute filters become Qdrant
filters instead of a pass over the results.

Every qdrant-client call runs on one dedicated worker thread: local mode (`path=`) is pure
Python that would block the event loop (even through `AsyncQdrantClient`) and is not safe to
call from several threads, and one thread keeps the two modes behaving alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from core.ports import Chunk, Hit
from storage.qdrant.directory_lock import IndexLockedError, lock_directory, unlock_directory
from storage.qdrant.filters import (
    attribute_condition,
    attribute_field,
    attribute_payload,
    file_filter,
    scope_conditions,
    scope_filter,
    selector,
)
from storage.qdrant.points import DENSE, LEXICAL, point_id, point_vectors, to_hit
from storage.qdrant.score_fusion import weighted_fusion

__all__ = ["IndexLockedError", "QdrantChunkIndex"]

_T = TypeVar("_T")

_UPSERT_BATCH = 128
_SCROLL_PAGE = 256
# Each side of a hybrid query contributes this many candidates per requested hit, so a chunk
# ranked a little lower by one retriever can still be lifted by the other.
_FUSION_CANDIDATES_PER_HIT = 2
_FUSION_MIN_CANDIDATES = 20


class QdrantChunkIndex:
    """Chunks of vector-store files in one Qdrant collection, searchable per tenant.

    `url` reaches a Qdrant server; without it the index runs in process (qdrant-client local
    mode) in the directory `path`, which only one `QdrantChunkIndex` may hold at a time.
    `dense_size` is the embedding dimension; None indexes text lexically only.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        path: Path | None = None,
        api_key: str | None = None,
        dense_size: int | None = None,
    ) -> None:
        if (url is None) == (path is None):
            raise ValueError(
                "QdrantChunkIndex needs exactly one of url (Qdrant server) or path (local)"
            )
        if dense_size is not None and dense_size < 1:
            raise ValueError(f"dense_size must be positive, not {dense_size}")
        self._url = url
        self._path = path
        self._api_key = api_key
        self._dense_size = dense_size
        suffix = "lexical" if dense_size is None else f"d{dense_size}"
        self._collection = f"openresponses_chunks_{suffix}"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-index")
        self._client: QdrantClient | None = None
        self._lock_fd: int | None = None
        self._closed = False

    @property
    def collection_name(self) -> str:
        return self._collection

    async def start(self) -> None:
        """Open the client (on the worker thread) and create the collection if missing."""
        await self._run(self._start_sync)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._run(self._close_sync)
        # jobs queued behind the close still run (and fail in `_require_client`)
        self._executor.shutdown(wait=False)

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
            **attribute_payload(attributes),
        }
        points = [
            models.PointStruct(
                id=point_id(tenant, vector_store_id, file_id, index),
                vector=point_vectors(chunk),
                payload={**base, "chunk_index": index, "text": chunk.text},
            )
            for index, chunk in enumerate(chunks)
        ]
        file_scope = file_filter(tenant, vector_store_id, file_id)
        # Points beyond the new chunk count are the stale tail of an older, longer version.
        # Writing first and trimming after (rather than deleting the file first) means a search
        # running meanwhile sees the file's old or new chunks, never none of them.
        stale = models.Filter(
            must=[
                *scope_conditions(file_scope),
                models.FieldCondition(key="chunk_index", range=models.Range(gte=len(chunks))),
            ]
        )

        def write(client: QdrantClient) -> None:
            for start in range(0, len(points), _UPSERT_BATCH):
                batch = points[start : start + _UPSERT_BATCH]
                client.upsert(self._collection, points=batch, wait=True)
            client.delete(self._collection, points_selector=selector(stale), wait=True)

        await self._run_with_client(write)

    async def delete_file(self, tenant: str, vector_store_id: str, file_id: str) -> None:
        await self._delete(file_filter(tenant, vector_store_id, file_id))

    async def delete_store(self, tenant: str, vector_store_id: str) -> None:
        await self._delete(scope_filter(tenant, [vector_store_id]))

    async def update_attributes(
        self, tenant: str, vector_store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None:
        file_scope = file_filter(tenant, vector_store_id, file_id)
        new_fields = attribute_payload(attributes)

        def update(client: QdrantClient) -> None:
            # The nested `attributes` says which flat `attr_` fields a point carries; fields of
            # keys no longer present are removed first, so if this is cut short a retry still
            # finds them listed under the old `attributes`.
            old_fields: set[str] = set()
            for record in self._scroll(client, file_scope, ["attributes"]):
                old = (record.payload or {}).get("attributes") or {}
                old_fields.update(attribute_field(key) for key in old)
            removed = sorted(old_fields - new_fields.keys())
            if removed:
                client.delete_payload(
                    self._collection, keys=removed, points=selector(file_scope), wait=True
                )
            client.set_payload(
                self._collection, payload=new_fields, points=selector(file_scope), wait=True
            )

        await self._run_with_client(update)

    async def file_chunks(self, tenant: str, vector_store_id: str, file_id: str) -> list[str]:
        """The file's chunk texts in document order."""
        file_scope = file_filter(tenant, vector_store_id, file_id)

        def read(client: QdrantClient) -> list[str]:
            # sorted here: Qdrant's `order_by` needs a payload index, which local mode lacks
            records = self._scroll(client, file_scope, ["chunk_index", "text"])
            payloads = sorted((r.payload or {} for r in records), key=lambda p: p["chunk_index"])
            return [str(payload["text"]) for payload in payloads]

        return await self._run_with_client(read)

    async def ping(self) -> None:
        """Returns once the engine answers (a server's connection, the local files)."""

        def probe(client: QdrantClient) -> bool:
            return client.collection_exists(self._collection)

        await self._run_with_client(probe)

    async def count(self, tenant: str, vector_store_id: str) -> int:
        scope = scope_filter(tenant, [vector_store_id])

        def count(client: QdrantClient) -> int:
            return client.count(self._collection, count_filter=scope, exact=True).count

        return await self._run_with_client(count)

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
        """The best chunks of the tenant's given stores, best first.

        Sparse only: Qdrant's IDF-weighted dot product on `lexical`. With `dense` too: both
        retrievers fused by Qdrant's reciprocal rank fusion, or, when `weights` is given as
        (dense_weight, lexical_weight), by `_weighted_fusion` here (see there). Scores are the
        ones that ranking produces. `filters` are OpenAI attribute filters; a malformed one
        still raises ValueError, as the index defends itself.
        """
        if limit < 1:
            raise ValueError(f"limit must be positive, not {limit}")
        if weights is not None and (min(weights) < 0 or sum(weights) <= 0):
            raise ValueError("weights must be non-negative and not both zero")
        self._check_vectors(sparse, dense)
        if not vector_store_ids:
            return []
        scope = scope_filter(tenant, vector_store_ids)
        query_filter = scope
        if filters is not None:
            query_filter = models.Filter(
                must=[*scope_conditions(scope), attribute_condition(filters)]
            )
        # IDF measured over the searched stores only: the stores are the corpus being ranked,
        # and other tenants' documents must not shift this tenant's scores.
        lexical_params = models.SearchParams(idf=models.IdfCorpusParams(corpus=scope))
        lexical = models.SparseVector(indices=sparse[0], values=sparse[1]) if sparse[0] else None
        candidates = max(limit * _FUSION_CANDIDATES_PER_HIT, _FUSION_MIN_CANDIDATES)

        def query(client: QdrantClient) -> list[tuple[float, dict[str, Any]]]:
            def one(vector: Any, using: str, size: int) -> list[models.ScoredPoint]:
                params = lexical_params if using == LEXICAL else None
                return client.query_points(
                    self._collection,
                    query=vector,
                    using=using,
                    query_filter=query_filter,
                    search_params=params,
                    limit=size,
                    with_payload=True,
                ).points

            if dense is None:
                found = [] if lexical is None else one(lexical, LEXICAL, limit)
            elif lexical is None:
                found = one(dense, DENSE, limit)
            elif weights is not None:
                by_dense = one(dense, DENSE, candidates)
                by_lexical = one(lexical, LEXICAL, candidates)
                return weighted_fusion(by_dense, by_lexical, weights)[:limit]
            else:
                found = client.query_points(
                    self._collection,
                    prefetch=[
                        models.Prefetch(
                            query=lexical,
                            using=LEXICAL,
                            filter=query_filter,
                            params=lexical_params,
                            limit=candidates,
                        ),
                        models.Prefetch(
                            query=dense, using=DENSE, filter=query_filter, limit=candidates
                        ),
                    ],
                    query=models.FusionQuery(fusion=models.Fusion.RRF),
                    limit=limit,
                    with_payload=True,
                ).points
            return [(point.score, point.payload or {}) for point in found]

        scored = await self._run_with_client(query)
        hits = [to_hit(score, payload) for score, payload in scored]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits

    # -- worker thread ------------------------------------------------------------------

    async def _run(self, job: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    async def _run_with_client(self, job: Callable[[QdrantClient], _T]) -> _T:
        return await self._run(lambda: job(self._require_client()))

    def _require_client(self) -> QdrantClient:
        if self._client is None:
            raise RuntimeError("QdrantChunkIndex is not started (or already closed)")
        return self._client

    def _start_sync(self) -> None:
        if self._client is not None:
            return
        if self._path is not None:
            self._lock_fd = lock_directory(self._path)
            try:
                self._client = QdrantClient(path=str(self._path))
            except BaseException:
                unlock_directory(self._lock_fd)
                self._lock_fd = None
                raise
        else:
            self._client = QdrantClient(url=self._url, api_key=self._api_key)
        self._ensure_collection(self._client)

    def _close_sync(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._lock_fd is not None:
            unlock_directory(self._lock_fd)
            self._lock_fd = None

    def _ensure_collection(self, client: QdrantClient) -> None:
        if not client.collection_exists(self._collection):
            dense_config = (
                {}
                if self._dense_size is None
                else {
                    DENSE: models.VectorParams(
                        size=self._dense_size, distance=models.Distance.COSINE
                    )
                }
            )
            try:
                client.create_collection(
                    self._collection,
                    vectors_config=dense_config,
                    sparse_vectors_config={
                        LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    },
                )
            except UnexpectedResponse:
                # another sidecar sharing the server may have created it a moment ago
                if not client.collection_exists(self._collection):
                    raise
        if self._url is None:
            # Local mode keeps no payload indexes (filters are evaluated in Python) and warns
            # on every attempt to create one.
            return
        client.create_payload_index(
            self._collection,
            "tenant",
            field_schema=models.KeywordIndexParams(
                type=models.KeywordIndexType.KEYWORD, is_tenant=True
            ),
        )
        for field in ("vector_store_id", "file_id"):
            client.create_payload_index(
                self._collection, field, field_schema=models.PayloadSchemaType.KEYWORD
            )

    def _scroll(
        self, client: QdrantClient, scope: models.Filter, fields: list[str]
    ) -> Iterator[models.Record]:
        offset: models.ExtendedPointId | None = None
        while True:
            records, offset = client.scroll(
                self._collection,
                scroll_filter=scope,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=fields,
                with_vectors=False,
            )
            yield from records
            if offset is None:
                return

    async def _delete(self, scope: models.Filter) -> None:
        def delete(client: QdrantClient) -> None:
            client.delete(self._collection, points_selector=selector(scope), wait=True)

        await self._run_with_client(delete)

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
