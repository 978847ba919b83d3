"""The Files API apart from uploads (see `file_upload`): list, retrieve, content, delete."""

from __future__ import annotations

import orjson

from core.common.http import Reply, Request
from core.common.listing import list_body, parse_list_params
from core.files.lookup import FileDeleted, file_not_found
from core.ports import Stores

__all__ = ["FileDeleted", "FilesApi", "file_not_found"]

_LIST_MAX = 10000


class FilesApi:
    def __init__(self, stores: Stores, on_deleted: list[FileDeleted] | None = None) -> None:
        self._files = stores.files
        self._blobs = stores.blobs
        self._on_deleted = on_deleted if on_deleted is not None else []

    async def list_files(self, tenant: str, request: Request) -> Reply:
        # Files list up to 10,000 at a time (all of them by default), unlike other lists.
        limit, order, after = parse_list_params(request, default=_LIST_MAX, maximum=_LIST_MAX)
        purpose = request.one("purpose")
        page = await self._files.page(tenant, purpose, limit, order == "desc", after)
        return Reply(200, list_body([orjson.loads(item) for item in page.items], page.has_more))

    async def retrieve(self, tenant: str, file_id: str) -> Reply:
        file = await self._files.get(tenant, file_id)
        if file is None:
            raise file_not_found(file_id)
        return Reply(200, orjson.dumps(file))

    async def content(self, tenant: str, file_id: str) -> Reply:
        if await self._files.get(tenant, file_id) is None:
            raise file_not_found(file_id)
        data = await self._blobs.read(tenant, file_id)
        if data is None:
            raise file_not_found(file_id)
        return Reply(200, data, content_type="application/octet-stream")

    async def delete(self, tenant: str, file_id: str) -> Reply:
        if not await self._files.delete(tenant, file_id):
            raise file_not_found(file_id)
        await self._blobs.delete(tenant, file_id)
        for hook in self._on_deleted:
            await hook(tenant, file_id)
        return Reply(200, orjson.dumps({"id": file_id, "object": "file", "deleted": True}))
