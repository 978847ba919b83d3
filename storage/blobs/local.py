"""File contents, kept apart from their metadata.

`LocalBlobStore` keeps each tenant's files in a directory under the data dir; the
blob store protocol (core.ports) suits an S3-compatible store as well.
A blob is written to a temporary name and renamed when complete, so a crash or a
refused upload never leaves a partial file behind under the real name.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from core.ports import BlobWriter
from storage.tenant_keys import tenant_prefix

__all__ = ["LocalBlobStore"]


class _LocalWriter:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._partial = path.with_name(path.name + ".part")
        self._file: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self._partial, "wb")  # noqa: SIM115 - closed in commit/abort
        self._file = file
        return file

    async def write(self, chunk: bytes) -> None:
        file = self._file
        if file is None:
            file = await asyncio.to_thread(self._open)
        await asyncio.to_thread(file.write, chunk)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _commit(self) -> None:
        if self._file is None:
            self._open()
        self._close()
        os.replace(self._partial, self._path)

    async def commit(self) -> None:
        await asyncio.to_thread(self._commit)

    def _abort(self) -> None:
        self._close()
        self._partial.unlink(missing_ok=True)

    async def abort(self) -> None:
        await asyncio.to_thread(self._abort)


async def _pieces(file: BinaryIO, chunk_size: int) -> AsyncIterator[bytes]:
    """A file's bytes, one read per piece as the consumer asks (the disk is read off the
    event loop; nothing is read ahead)."""
    try:
        while piece := await asyncio.to_thread(file.read, chunk_size):
            yield piece
    finally:
        file.close()


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, tenant: str, blob_id: str) -> Path:
        # The tenant's key prefix digest doubles as its directory name.
        return self._root / tenant_prefix(tenant)[4:-2] / blob_id

    def writer(self, tenant: str, blob_id: str) -> BlobWriter:
        return _LocalWriter(self._path(tenant, blob_id))

    async def read(self, tenant: str, blob_id: str) -> bytes | None:
        path = self._path(tenant, blob_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def stream(
        self, tenant: str, blob_id: str, chunk_size: int
    ) -> tuple[int, AsyncIterator[bytes]] | None:
        path = self._path(tenant, blob_id)
        try:
            file = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            return None
        size = os.fstat(file.fileno()).st_size
        return size, _pieces(file, chunk_size)

    async def delete(self, tenant: str, blob_id: str) -> None:
        await asyncio.to_thread(self._path(tenant, blob_id).unlink, missing_ok=True)
