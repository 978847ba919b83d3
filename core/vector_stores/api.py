"""The Vector Stores API: stores (create, list, retrieve, modify, delete) and search."""

from __future__ import annotations

import math
import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.http import Call, Reply
from core.common.ids import new_id
from core.common.listing import list_body, page_request
from core.common.validation import check_array_length, invalid_type, json_object, metadata
from core.ports import Hit, Stores
from core.routes import Route
from core.vector_stores.files_api import VectorStoreFilesApi
from core.vector_stores.ingestion.chunking import parse_chunking_strategy
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.ingestion.lexical import sparse_query
from core.vector_stores.objects import expires_after, presented_store, store_not_found

__all__ = ["VectorStoresApi", "search_chunks"]

_MAX_FILE_IDS = 500
_BM25_HALF = 5.0  # a lexical score of 5 maps to 0.5 on the 0..1 scale clients expect


def _name(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid_type("name", "a string", value)
    return value


def _queries(value: Any) -> list[str]:
    queries = [value] if isinstance(value, str) else value
    if (
        not isinstance(queries, list)
        or not queries
        or not all(isinstance(q, str) and q.strip() for q in queries)
    ):
        raise InvalidRequestError(
            "Invalid 'query': expected a non-empty string or array of strings.",
            param="query",
            code="invalid_value",
        )
    return queries


def _bounded_int(value: Any, param: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequestError(
            f"Invalid '{param}': expected an integer from {low} to {high}.",
            param=param,
            code="invalid_value",
        )
    return value


async def search_chunks(
    stores: Stores,
    embedder: EmbeddingsClient | None,
    tenant: str,
    store_ids: list[str],
    queries: list[str],
    limit: int,
    filters: dict[str, Any] | None,
    score_threshold: float,
    weights: tuple[float, float] | None = None,
) -> list[Hit]:
    """The best chunks for the queries across the stores, scores on a 0..1 scale.

    Each query is searched on its own and a chunk keeps its best score. Lexical-only
    scores (BM25, unbounded) are mapped to 0..1 as s / (s + 5); hybrid scores are
    already fused ranks in 0..1.
    """
    dense = await embedder.embed(queries) if embedder is not None else [None] * len(queries)
    best: dict[tuple[str, int], Hit] = {}
    for query, vector in zip(queries, dense, strict=True):
        try:
            hits = await stores.chunks.search(
                tenant, store_ids, sparse_query(query), vector, limit, filters, None, weights
            )
        except ValueError as error:
            raise InvalidRequestError(str(error), param="filters", code="invalid_value") from None
        for hit in hits:
            if vector is None:
                score = hit.score / (hit.score + _BM25_HALF)
            else:
                # Fused ranks are in 0..1; a query with no lexical terms is dense-only
                # and scores cosine similarity, which can fall outside it.
                score = min(1.0, max(0.0, hit.score))
            key = (hit.file_id, hit.chunk_index)
            if key not in best or best[key].score < score:
                best[key] = Hit(
                    hit.file_id, hit.filename, score, hit.attributes, hit.text, hit.chunk_index
                )
    ranked = sorted(best.values(), key=lambda hit: -hit.score)
    return [hit for hit in ranked if hit.score >= score_threshold and not math.isnan(hit.score)][
        :limit
    ]


class VectorStoresApi:
    def __init__(self, stores: Stores, embedder: EmbeddingsClient | None) -> None:
        self._stores = stores
        self._meta = stores.vector_stores
        self._embedder = embedder
        self.files = VectorStoreFilesApi(stores)

    def routes(self) -> list[Route]:
        one = "/v1/vector_stores/{vector_store_id}"
        return [
            Route("POST", "/v1/vector_stores", self.create, "create_vector_store", True),
            Route("GET", "/v1/vector_stores", self.list_stores, "list_vector_stores"),
            Route("GET", one, self.retrieve, "get_vector_store"),
            Route("POST", one, self.modify, "modify_vector_store", needs_body=True),
            Route("DELETE", one, self.delete, "delete_vector_store"),
            Route("POST", one + "/search", self.search, "search_vector_store", needs_body=True),
            *self.files.routes(),
        ]

    async def _presented(self, tenant: str, store: dict[str, Any]) -> dict[str, Any]:
        return presented_store(store, await self._meta.files(tenant, store["id"]))

    async def _store(self, tenant: str, store_id: str) -> dict[str, Any]:
        store = await self._meta.get_store(tenant, store_id)
        if store is None:
            raise store_not_found(store_id)
        return store

    async def create(self, call: Call) -> Reply:
        tenant = call.tenant
        body = call.body
        fields = json_object(body)
        file_ids = fields.get("file_ids") or []
        if not isinstance(file_ids, list) or not all(isinstance(f, str) for f in file_ids):
            raise invalid_type("file_ids", "an array of strings", file_ids)
        check_array_length(file_ids, "file_ids", _MAX_FILE_IDS)
        stored_strategy, _ = parse_chunking_strategy(fields.get("chunking_strategy"))
        now = int(time.time())
        store_id = new_id("vs")
        store = {
            "id": store_id,
            "object": "vector_store",
            "created_at": now,
            "name": _name(fields.get("name")),
            "description": fields.get("description"),
            "metadata": metadata(fields.get("metadata")),
            "expires_after": expires_after(fields.get("expires_after")),
            "last_active_at": now,
        }
        await self.files.check_files_exist(tenant, file_ids)
        await self._meta.save_store(tenant, store, new=True)
        for file_id in file_ids:
            await self.files.add(tenant, store_id, file_id, stored_strategy, {}, None)
        return Reply(200, orjson.dumps(await self._presented(tenant, store)))

    async def list_stores(self, call: Call) -> Reply:
        tenant = call.tenant
        request = call.request
        cursor = page_request(request)
        page = await self._meta.page_stores(
            tenant, cursor.limit, cursor.descending, cursor.after, cursor.before
        )
        data = [await self._presented(tenant, orjson.loads(item)) for item in page.items]
        return Reply(200, list_body(data, page.has_more))

    async def retrieve(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        store = await self._store(tenant, store_id)
        return Reply(200, orjson.dumps(await self._presented(tenant, store)))

    async def modify(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        body = call.body
        fields = json_object(body)
        store = await self._store(tenant, store_id)
        if "name" in fields:
            store["name"] = _name(fields["name"])
        if "metadata" in fields:
            store["metadata"] = metadata(fields["metadata"])
        if "expires_after" in fields:
            store["expires_after"] = expires_after(fields["expires_after"])
        await self._meta.save_store(tenant, store)
        return Reply(200, orjson.dumps(await self._presented(tenant, store)))

    async def delete(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        if await self._meta.delete_store(tenant, store_id) is None:
            raise store_not_found(store_id)
        await self._stores.chunks.delete_store(tenant, store_id)
        deleted = {"id": store_id, "object": "vector_store.deleted", "deleted": True}
        return Reply(200, orjson.dumps(deleted))

    async def search(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        body = call.body
        fields = json_object(body)
        store = await self._store(tenant, store_id)
        if (await self._presented(tenant, store))["status"] == "expired":
            raise InvalidRequestError(
                f"Vector store '{store_id}' has expired.", param="vector_store_id", code="expired"
            )
        queries = _queries(fields.get("query"))
        limit = _bounded_int(fields.get("max_num_results"), "max_num_results", 1, 50, 10)
        filters = fields.get("filters")
        if filters is not None and not isinstance(filters, dict):
            raise invalid_type("filters", "an object", filters)
        ranking = fields.get("ranking_options") or {}
        if not isinstance(ranking, dict):
            raise invalid_type("ranking_options", "an object", ranking)
        threshold = ranking.get("score_threshold", 0.0)
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise InvalidRequestError(
                "Invalid 'ranking_options.score_threshold': expected a number from 0 to 1.",
                param="ranking_options.score_threshold",
                code="invalid_value",
            )
        hits = await search_chunks(
            self._stores, self._embedder, tenant, [store_id], queries, limit, filters, threshold
        )
        store["last_active_at"] = int(time.time())
        await self._meta.save_store(tenant, store)
        page = {
            "object": "vector_store.search_results.page",
            "search_query": queries,
            "data": [
                {
                    "file_id": hit.file_id,
                    "filename": hit.filename,
                    "score": hit.score,
                    "attributes": hit.attributes,
                    "content": [{"type": "text", "text": hit.text}],
                }
                for hit in hits
            ],
            "has_more": False,
            "next_page": None,
        }
        return Reply(200, orjson.dumps(page))
