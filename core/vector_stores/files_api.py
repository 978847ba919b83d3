"""Files in vector stores, and file batches: adding (queued for ingestion), listing,
attributes, removal, parsed content."""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.http import Call, Reply, Request, deleted
from core.common.ids import new_id
from core.common.listing import list_body, page_request, window
from core.common.models import parse_body
from core.files.lookup import file_not_found
from core.ports import Stores
from core.routes import Route
from core.vector_stores.ingestion.chunking import resolve_chunking
from core.vector_stores.models import FileBatchCreate, VectorStoreFileCreate, VectorStoreFileUpdate
from core.vector_stores.objects import (
    FileBatchObject,
    VectorStoreFileObject,
    file_counts,
    store_not_found,
)

__all__ = ["VectorStoreFilesApi"]

_STATUSES = ("in_progress", "completed", "failed", "cancelled")


def _page(
    files: list[dict[str, Any]], request: Request, status: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """A page of a store's (or a batch's) files, optionally only those in one status."""
    chosen = [f for f in files if status is None or f["status"] == status]
    return window(chosen, page_request(request))


def _status_filter(request: Request) -> str | None:
    status = request.one("filter")
    if status is not None and status not in _STATUSES:
        raise InvalidRequestError(
            f"Invalid 'filter': expected one of {', '.join(_STATUSES)}.",
            param="filter",
            code="invalid_value",
        )
    return status


class VectorStoreFilesApi:
    def __init__(self, stores: Stores) -> None:
        self._stores = stores
        self._meta = stores.vector_stores

    def routes(self) -> list[Route]:
        files = "/v1/vector_stores/{vector_store_id}/files"
        one = files + "/{file_id}"
        batches = "/v1/vector_stores/{vector_store_id}/file_batches"
        batch = batches + "/{batch_id}"
        return [
            Route("POST", files, self.create, "create_vector_store_file", needs_body=True),
            Route("GET", files, self.list_files, "list_vector_store_files"),
            Route("GET", one, self.retrieve, "get_vector_store_file"),
            Route("POST", one, self.update, "update_vector_store_file_attributes", True),
            Route("DELETE", one, self.delete, "delete_vector_store_file"),
            Route("GET", one + "/content", self.content, "retrieve_vector_store_file_content"),
            Route("POST", batches, self.create_batch, "create_vector_store_file_batch", True),
            Route("GET", batch, self.retrieve_batch, "get_vector_store_file_batch"),
            Route(
                "POST", batch + "/cancel", self.cancel_batch, "cancel_vector_store_file_batch", True
            ),
            Route(
                "GET", batch + "/files", self.list_batch_files, "list_files_in_vector_store_batch"
            ),
        ]

    async def _store(self, tenant: str, store_id: str) -> dict[str, Any]:
        store = await self._meta.get_store(tenant, store_id)
        if store is None:
            raise store_not_found(store_id)
        return store

    async def check_files_exist(self, tenant: str, file_ids: list[str]) -> None:
        for file_id in file_ids:
            if await self._stores.files.get(tenant, file_id) is None:
                raise file_not_found(file_id, param="file_ids")

    async def add(
        self,
        tenant: str,
        store_id: str,
        file_id: str,
        strategy: dict[str, Any],
        attrs: dict[str, Any],
        batch_id: str | None,
    ) -> dict[str, Any]:
        """Put a file in a store as in_progress and queue its ingestion."""
        file = VectorStoreFileObject(
            id=file_id,
            created_at=int(time.time()),
            vector_store_id=store_id,
            chunking_strategy=strategy,
            attributes=attrs,
        ).model_dump()
        await self._meta.put_file(tenant, store_id, file)
        job = {"tenant": tenant, "vector_store_id": store_id, "file_id": file_id}
        await self._stores.ingest.put({**job, "batch_id": batch_id})
        return file

    async def create(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        fields = parse_body(VectorStoreFileCreate, call.body)
        file_id = fields.file_id
        strategy, _ = resolve_chunking(fields.chunking_strategy)
        attrs = fields.attributes or {}
        await self._store(tenant, store_id)
        await self.check_files_exist(tenant, [file_id])
        file = await self.add(tenant, store_id, file_id, strategy, attrs, None)
        return Reply(200, orjson.dumps(file))

    async def list_files(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        request = call.request
        status = _status_filter(request)
        await self._store(tenant, store_id)
        data, more = _page(await self._meta.files(tenant, store_id), request, status)
        return Reply(200, list_body(data, more))

    async def _file(self, tenant: str, store_id: str, file_id: str) -> dict[str, Any]:
        await self._store(tenant, store_id)
        file = await self._meta.get_file(tenant, store_id, file_id)
        if file is None:
            raise NotFoundError(
                f"No file with id '{file_id}' in vector store '{store_id}'.", param="file_id"
            )
        return file

    async def retrieve(self, call: Call) -> Reply:
        store_id, file_id = call.ids
        return Reply(200, orjson.dumps(await self._file(call.tenant, store_id, file_id)))

    async def update(self, call: Call) -> Reply:
        tenant = call.tenant
        store_id, file_id = call.ids
        attrs = parse_body(VectorStoreFileUpdate, call.body).attributes or {}
        file = await self._file(tenant, store_id, file_id)
        file["attributes"] = attrs
        if not await self._meta.update_file(tenant, store_id, file):
            raise NotFoundError(f"No file with id '{file_id}' in vector store '{store_id}'.")
        await self._stores.chunks.update_attributes(tenant, store_id, file_id, attrs)
        return Reply(200, orjson.dumps(file))

    async def delete(self, call: Call) -> Reply:
        tenant = call.tenant
        store_id, file_id = call.ids
        await self._file(tenant, store_id, file_id)
        await self._meta.remove_file(tenant, store_id, file_id)
        await self._stores.chunks.delete_file(tenant, store_id, file_id)
        return deleted(file_id, "vector_store.file.deleted")

    async def content(self, call: Call) -> Reply:
        tenant = call.tenant
        store_id, file_id = call.ids
        await self._file(tenant, store_id, file_id)
        chunks = await self._stores.chunks.file_chunks(tenant, store_id, file_id)
        page = {
            "object": "vector_store.file_content.page",
            "data": [{"type": "text", "text": text} for text in chunks],
            "has_more": False,
            "next_page": None,
        }
        return Reply(200, orjson.dumps(page))

    async def remove_everywhere(self, tenant: str, file_id: str) -> None:
        """A deleted file leaves every vector store it was in."""
        for store_id in await self._meta.stores_of_file(tenant, file_id):
            await self._meta.remove_file(tenant, store_id, file_id)
            await self._stores.chunks.delete_file(tenant, store_id, file_id)

    # Batches

    async def create_batch(self, call: Call) -> Reply:
        tenant = call.tenant
        (store_id,) = call.ids
        entries = parse_body(FileBatchCreate, call.body).entries()
        checked = [(f, resolve_chunking(s)[0], a) for f, s, a in entries]
        await self._store(tenant, store_id)
        await self.check_files_exist(tenant, [f for f, _, _ in checked])
        batch_id = new_id("vsfb")
        batch = FileBatchObject(
            id=batch_id,
            created_at=int(time.time()),
            vector_store_id=store_id,
            file_ids=[f for f, _, _ in checked],
        )
        # Saved before the jobs are queued, so a worker always finds its batch.
        await self._meta.save_batch(tenant, batch.model_dump())
        for file_id, strategy, attrs in checked:
            await self.add(tenant, store_id, file_id, strategy, attrs, batch_id)
        return await self._batch_reply(tenant, store_id, batch_id)

    async def _batch(self, tenant: str, store_id: str, batch_id: str) -> FileBatchObject:
        found = await self._meta.get_batch(tenant, batch_id)
        batch = None if found is None else FileBatchObject.model_validate(found)
        if batch is None or batch.vector_store_id != store_id:
            raise NotFoundError(f"No file batch found with id '{batch_id}'.", param="batch_id")
        return batch

    async def _batch_files(self, tenant: str, batch: FileBatchObject) -> list[dict[str, Any]]:
        wanted = set(batch.file_ids)
        files = await self._meta.files(tenant, batch.vector_store_id)
        return [f for f in files if f["id"] in wanted]

    async def retrieve_batch(self, call: Call) -> Reply:
        store_id, batch_id = call.ids
        return await self._batch_reply(call.tenant, store_id, batch_id)

    async def _batch_reply(self, tenant: str, store_id: str, batch_id: str) -> Reply:
        batch = await self._batch(tenant, store_id, batch_id)
        counts = file_counts(await self._batch_files(tenant, batch))
        status = batch.status
        if status == "in_progress" and not counts["in_progress"]:
            status = "completed"
        shown = batch.model_dump(exclude={"file_ids"})
        return Reply(200, orjson.dumps({**shown, "status": status, "file_counts": counts}))

    async def cancel_batch(self, call: Call) -> Reply:
        tenant = call.tenant
        store_id, batch_id = call.ids
        batch = await self._batch(tenant, store_id, batch_id)
        if batch.status == "in_progress":
            batch.status = "cancelled"
            await self._meta.save_batch(tenant, batch.model_dump())
            # Files not yet ingested stop here; the worker skips their queued jobs.
            for file in await self._batch_files(tenant, batch):
                if file["status"] == "in_progress":
                    file["status"] = "cancelled"
                    await self._meta.update_file(tenant, store_id, file)
        return await self._batch_reply(tenant, store_id, batch_id)

    async def list_batch_files(self, call: Call) -> Reply:
        tenant = call.tenant
        store_id, batch_id = call.ids
        request = call.request
        status = _status_filter(request)
        batch = await self._batch(tenant, store_id, batch_id)
        data, more = _page(await self._batch_files(tenant, batch), request, status)
        return Reply(200, list_body(data, more))
