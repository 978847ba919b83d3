"""An uploaded file's contents in the forms a stateless backend accepts: its extracted
text, or its bytes as a base64 data URL.

Files are read through the ports (FileStore for the tenant-scoped object, BlobStore for
the bytes), never through the Files API. Extracting text from a PDF or DOCX costs far
more than reading it, and a chain sends the same file on every later turn, so the text
is kept as a blob next to the file's own (a file's contents never change, so the copy
never goes stale) and removed with the file (`forget_texts`, a file-deleted hook).
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
from dataclasses import dataclass
from typing import Any

from core.common.errors import InvalidRequestError
from core.files.lookup import FileDeleted, file_not_found
from core.ports import BlobStore, FileStore
from core.vector_stores.ingestion.parsing import (
    InvalidFileError,
    UnsupportedFileError,
    extract_text,
)

__all__ = ["FileContents", "StoredFile", "forget_texts", "image_type", "text_blob_id"]

# Leading bytes of the image formats vision models take, for files named without an
# extension that says so.
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def text_blob_id(file_id: str) -> str:
    """Where a file's extracted text is kept: a name no uploaded file can have."""
    return f"{file_id}.extracted-text"


def image_type(data: bytes, filename: str) -> str | None:
    """The image media type of `data` (its bytes first, then its name), or None."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(filename)
    return guessed if guessed is not None and guessed.startswith("image/") else None


def _media_type(data: bytes, filename: str) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    guessed, _ = mimetypes.guess_type(filename)
    return image_type(data, filename) or guessed or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file a request names, as its tenant sees it."""

    id: str
    filename: str
    size: int  # bytes, from the file object


class FileContents:
    """One tenant's files, read for one request (a file named twice is read once)."""

    def __init__(self, files: FileStore, blobs: BlobStore, tenant: str) -> None:
        self._files = files
        self._blobs = blobs
        self._tenant = tenant
        self._data: dict[str, bytes] = {}
        self._texts: dict[str, str] = {}

    async def find(self, file_id: str, param: str) -> StoredFile:
        """The file, or a 404 naming where the request gave its id (another tenant's
        file reads as missing: the file store is tenant-scoped)."""
        found: dict[str, Any] | None = await self._files.get(self._tenant, file_id)
        if found is None:
            raise file_not_found(file_id, param)
        return StoredFile(file_id, str(found.get("filename") or file_id), int(found["bytes"]))

    async def data(self, file: StoredFile, param: str) -> bytes:
        data = self._data.get(file.id)
        if data is None:
            data = await self._blobs.read(self._tenant, file.id)
            if data is None:  # deleted since `find`
                raise file_not_found(file.id, param)
            self._data[file.id] = data
        return data

    async def data_url(self, file: StoredFile, param: str, media_type: str | None = None) -> str:
        data = await self.data(file, param)
        kind = media_type or _media_type(data, file.filename)
        return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"

    async def text(self, file: StoredFile, param: str) -> str:
        """The file's text, extracted as vector store ingestion does (PDF, DOCX, HTML,
        JSON, text and code); a 400 for a file with no text to extract."""
        text = self._texts.get(file.id)
        if text is not None:
            return text
        kept = await self._blobs.read(self._tenant, text_blob_id(file.id))
        if kept is not None:
            text = kept.decode("utf-8")
        else:
            data = await self.data(file, param)
            try:
                text = await asyncio.to_thread(extract_text, data, file.filename)
            except (UnsupportedFileError, InvalidFileError) as error:
                unsupported = isinstance(error, UnsupportedFileError)
                code = "unsupported_file" if unsupported else "invalid_file"
                raise InvalidRequestError(
                    f"The file {file.id} ({file.filename}) has no text to give the model: {error}",
                    param=param,
                    code=code,
                ) from None
            encoded = text.encode("utf-8")
            if encoded != data:  # a plain text file is as cheap to read again as a copy
                await self._keep_text(file.id, encoded)
        self._texts[file.id] = text
        return text

    async def _keep_text(self, file_id: str, encoded: bytes) -> None:
        writer = self._blobs.writer(self._tenant, text_blob_id(file_id))
        try:
            await writer.write(encoded)
        except BaseException:
            await writer.abort()
            raise
        await writer.commit()
        # A file deleted while its text was extracted: its hook ran before the copy
        # existed, so the copy goes now.
        if await self._files.get(self._tenant, file_id) is None:
            await self._blobs.delete(self._tenant, text_blob_id(file_id))


def forget_texts(blobs: BlobStore) -> FileDeleted:
    """The file-deleted hook that drops a deleted file's extracted text."""

    async def forget(tenant: str, file_id: str) -> None:
        await blobs.delete(tenant, text_blob_id(file_id))

    return forget
