"""The Vector Stores API: stores (create, list, retrieve, modify, delete) and search."""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.http import Call, Reply, deleted
from core.common.ids import new_id
from core.common.listing import list_body, page_request
from core.common.models import parse_body
from core.ports import Stores
from core.routes import Route
from core.vector_stores.files_api import VectorStoreFilesApi
from core.vector_stores.ingestion.chunking import resolve_chunking
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.models import SearchRequest, VectorStoreCreate, VectorStoreModify
from core.vector_stores.objects import VectorStoreObject, presented_store, store_not_found
from core.vector_stores.search import search_chunks

__all__ = ["VectorStoresApi"]


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

    async def _presented(self, tenant: str, store: VectorStoreObject) -> dict[str, Any]:
        return presented_store(store, await self._meta.files(tenant, store.id))

    async def _store(self, tenant: str, store_id: str) -> VectorStoreObject:
        store = await self._meta.get_store(tenant, store_id)
        if store is None:
            raise store_not_found(store_id)
        return VectorStoreObject.model_validate(store)

    async def create(self, call: Call) -> Reply:
        tenant = call.tenant
        fields = parse_body(VectorStoreCreate, call.body)
        file_ids = fields.file_ids or []
        stored_strategy, _ = resolve_chunking(fields.chunking_strategy)
        now = int(time.time())
        store_id = new_id("vs")
        store = VectorStoreObject.model_validate(
            {
                "id": store_id,
                "created_at": now,
                "name": fields.name,
                "description": fields.description,
                "metadata": fields.metadata,
                "expires_after": fields.expires_after and fields.expires_after.model_dump(),
                "last_active_at": now,
            }
        )
        await self.files.check_files_exist(tenant, file_ids)
        await self._meta.save_store(tenant, store.model_dump(), new=True)
        for file_id in file_ids:
            await self.files.add(tenant, store_id, file_id, stored_strategy, {}, None)
        return Reply(200, orjson.dumps(await self._presented(tenant, store)))

    async def list_stores(self, call: Call) -> Reply:
        tenant = call.tenant
        cursor = page_request(call.request)
        page = await self._meta.page_stores(
            tenant, cursor.limit, cursor.descending, cursor.after, cursor.before
        )
        data = [
            await self._presented(tenant, VectorStoreObject.model_validate_json(item))
            for item in page.items
        ]
        return Reply(200, list_body(data, page.has_more))

    async def retrieve(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        store = await self._store(tenant, store_id)
        return Reply(200, orjson.dumps(await self._presented(tenant, store)))

    async def modify(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        fields = parse_body(VectorStoreModify, call.body)
        store = await self._store(tenant, store_id)
        changes = fields.model_dump(
            include={"name", "metadata", "expires_after"}, exclude_unset=True
        )
        store = VectorStoreObject.model_validate({**store.model_dump(), **changes})
        await self._meta.save_store(tenant, store.model_dump())
        return Reply(200, orjson.dumps(await self._presented(tenant, store)))

    async def delete(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        if await self._meta.delete_store(tenant, store_id) is None:
            raise store_not_found(store_id)
        await self._stores.chunks.delete_store(tenant, store_id)
        return deleted(store_id, "vector_store.deleted")

    async def search(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        fields = parse_body(SearchRequest, call.body)
        store = await self._store(tenant, store_id)
        if (await self._presented(tenant, store))["status"] == "expired":
            raise InvalidRequestError(
                f"Vector store '{store_id}' has expired.", param="vector_store_id", code="expired"
            )
        queries = fields.query
        hits = await search_chunks(
            self._stores, self._embedder, tenant, [store_id], queries, fields
        )
        store.last_active_at = int(time.time())
        await self._meta.save_store(tenant, store.model_dump())
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
