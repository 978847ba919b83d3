"""File objects and their contents in memory, with the semantics of `RedisFileStore` and
`LocalBlobStore`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from core.ports import BlobWriter, ItemPage
from support.memory.paging import Sequence

__all__ = ["MemoryBlobStore", "MemoryFileStore"]


def _live(file: dict[str, Any], now: float) -> bool:
    expires_at = file.get("expires_at")
    return not expires_at or expires_at > now


class MemoryFileStore:
    """Expired files read as missing at once; `expired` finds them for the reaper across
    tenants, soonest expiry first."""

    def __init__(self) -> None:
        self._files: dict[tuple[str, str], bytes] = {}
        self._order: dict[str, Sequence] = {}
        self._expiring: dict[tuple[str, str], float] = {}

    async def create(self, tenant: str, file: dict[str, Any]) -> None:
        self._files[(tenant, file["id"])] = orjson.dumps(file)
        self._order.setdefault(tenant, Sequence()).add(file["id"])
        if file.get("expires_at"):
            self._expiring[(tenant, file["id"])] = file["expires_at"]

    async def get(self, tenant: str, file_id: str) -> dict[str, Any] | None:
        found = self._files.get((tenant, file_id))
        if found is None:
            return None
        file: dict[str, Any] = orjson.loads(found)
        return file if _live(file, time.time()) else None

    async def page(
        self, tenant: str, purpose: str | None, limit: int, descending: bool, after: str | None
    ) -> ItemPage:
        ids, _ = self._order.get(tenant, Sequence()).page(
            len(self._files) + 1, descending, after, None
        )
        now, shown = time.time(), []
        for file_id in ids:
            encoded = self._files[(tenant, file_id)]
            file = orjson.loads(encoded)
            if _live(file, now) and (not purpose or file.get("purpose") == purpose):
                shown.append(encoded)
        return ItemPage(items=shown[:limit], has_more=len(shown) > limit)

    async def delete(self, tenant: str, file_id: str) -> bool:
        self._order.get(tenant, Sequence()).discard(file_id)
        self._expiring.pop((tenant, file_id), None)
        return self._files.pop((tenant, file_id), None) is not None

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, str]]:
        due = sorted((at, key) for key, at in self._expiring.items() if at <= now)
        return [key for _, key in due[:limit]]


class _Writer:
    def __init__(self, blobs: dict[tuple[str, str], bytes], key: tuple[str, str]) -> None:
        self._blobs = blobs
        self._key = key
        self._parts: list[bytes] = []

    async def write(self, chunk: bytes) -> None:
        self._parts.append(bytes(chunk))

    async def commit(self) -> None:
        self._blobs[self._key] = b"".join(self._parts)

    async def abort(self) -> None:
        self._parts.clear()


class MemoryBlobStore:
    """A blob is visible only once its writer commits; an aborted one never is."""

    def __init__(self) -> None:
        self._blobs: dict[tuple[str, str], bytes] = {}

    def writer(self, tenant: str, blob_id: str) -> BlobWriter:
        return _Writer(self._blobs, (tenant, blob_id))

    async def read(self, tenant: str, blob_id: str) -> bytes | None:
        return self._blobs.get((tenant, blob_id))

    async def stream(
        self, tenant: str, blob_id: str, chunk_size: int
    ) -> tuple[int, AsyncIterator[bytes]] | None:
        data = self._blobs.get((tenant, blob_id))
        if data is None:
            return None

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(data), chunk_size):
                yield data[start : start + chunk_size]

        return len(data), pieces()

    async def delete(self, tenant: str, blob_id: str) -> None:
        self._blobs.pop((tenant, blob_id), None)
