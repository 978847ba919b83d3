"""What the engine needs to keep files: their objects, and their contents as blobs.

A blob store is small enough for an S3-compatible store (multipart upload, get, delete).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from core.ports.conversations import ItemPage

__all__ = ["BlobStore", "BlobWriter", "FileStore"]


class FileStore(Protocol):
    """File objects (metadata), scoped by tenant; expired files read as missing."""

    async def create(self, tenant: str, file: dict[str, Any]) -> None: ...

    async def get(self, tenant: str, file_id: str) -> dict[str, Any] | None: ...

    async def page(
        self, tenant: str, purpose: str | None, limit: int, descending: bool, after: str | None
    ) -> ItemPage: ...

    async def delete(self, tenant: str, file_id: str) -> bool: ...

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant, file id) of files past their expiry, for the reaper."""


class BlobWriter(Protocol):
    async def write(self, chunk: bytes) -> None: ...

    async def commit(self) -> None:
        """Make the blob visible under its name."""

    async def abort(self) -> None:
        """Drop everything written so far."""


class BlobStore(Protocol):
    def writer(self, tenant: str, blob_id: str) -> BlobWriter: ...

    async def read(self, tenant: str, blob_id: str) -> bytes | None: ...

    async def stream(
        self, tenant: str, blob_id: str, chunk_size: int
    ) -> tuple[int, AsyncIterator[bytes]] | None:
        """The blob's size and its bytes in pieces of at most `chunk_size`, read only as
        they are consumed (never the whole blob at once); None when it does not exist.
        Closing the iterator early releases what it holds."""

    async def delete(self, tenant: str, blob_id: str) -> None: ...
