"""The Files API: uploads (streamed, see `upload`), list, retrieve, content, delete."""

from __future__ import annotations

import orjson

from core.common.http import Call, Reply, StreamedReply, deleted
from core.common.listing import list_body, page_request
from core.files.lookup import FileDeleted, file_not_found
from core.files.models import shown_file
from core.files.upload import FileUpload
from core.ports import Stores
from core.routes import Route

__all__ = ["FilesApi"]

_LIST_MAX = 10000
# Pieces of a download: big enough to keep gRPC messages few, small enough that the
# sidecar holds little (each is a message to Envoy).
_DOWNLOAD_CHUNK = 256 * 1024


class FilesApi:
    def __init__(
        self, stores: Stores, max_upload_bytes: int, on_deleted: list[FileDeleted] | None = None
    ) -> None:
        self._files = stores.files
        self._blobs = stores.blobs
        self._max_upload = max_upload_bytes
        self._on_deleted = on_deleted if on_deleted is not None else []

    def routes(self) -> list[Route]:
        one = "/v1/files/{file_id}"
        return [
            Route("POST", "/v1/files", self.upload, "create_file"),
            Route("GET", "/v1/files", self.list_files, "list_files"),
            Route("GET", one, self.retrieve, "retrieve_file"),
            Route("DELETE", one, self.delete, "delete_file"),
            Route("GET", one + "/content", self.content, "download_file"),
        ]

    async def upload(self, call: Call) -> FileUpload:
        """The upload, fed the multipart body as it streams in."""
        headers = call.request.headers
        return FileUpload(self._files, self._blobs, call.tenant, headers, self._max_upload)

    async def list_files(self, call: Call) -> Reply:
        request = call.request
        # Files list up to 10,000 at a time (all of them by default), unlike other lists.
        cursor = page_request(request, default=_LIST_MAX, maximum=_LIST_MAX)
        purpose = request.one("purpose")
        page = await self._files.page(
            call.tenant, purpose, cursor.limit, cursor.descending, cursor.after
        )
        files = [shown_file(orjson.loads(item)) for item in page.items]
        return Reply(200, list_body(files, page.has_more))

    async def retrieve(self, call: Call) -> Reply:
        (file_id,) = call.ids
        file = await self._files.get(call.tenant, file_id)
        if file is None:
            raise file_not_found(file_id)
        return Reply(200, orjson.dumps(shown_file(file)))

    async def content(self, call: Call) -> StreamedReply:
        """The file's bytes, streamed from the blob store as the client reads them."""
        tenant = call.tenant
        (file_id,) = call.ids
        if await self._files.get(tenant, file_id) is None:
            raise file_not_found(file_id)
        found = await self._blobs.stream(tenant, file_id, _DOWNLOAD_CHUNK)
        if found is None:
            raise file_not_found(file_id)
        size, chunks = found
        return StreamedReply(200, chunks, length=size)

    async def delete(self, call: Call) -> Reply:
        tenant = call.tenant
        (file_id,) = call.ids
        if not await self._files.delete(tenant, file_id):
            raise file_not_found(file_id)
        await self._blobs.delete(tenant, file_id)
        for hook in self._on_deleted:
            await hook(tenant, file_id)
        return deleted(file_id, "file")
