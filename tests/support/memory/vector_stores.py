"""Vector stores, their files and batches, and the ingestion queue in memory, with the
semantics of `RedisVectorStoreStore` and `IngestQueue`."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import orjson

from core.ports import ItemPage
from support.memory.paging import Sequence

__all__ = ["MemoryJobQueue", "MemoryVectorStoreStore"]


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(obj))
    return copied


class MemoryVectorStoreStore:
    def __init__(self) -> None:
        self._stores: dict[tuple[str, str], dict[str, Any]] = {}
        self._order: dict[str, Sequence] = {}
        # (tenant, store) -> the store's files in the order they were first added
        self._files: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._file_order: dict[tuple[str, str], Sequence] = {}
        self._batches: dict[tuple[str, str], dict[str, Any]] = {}

    async def save_store(self, tenant: str, store: dict[str, Any], new: bool = False) -> None:
        if new:
            self._order.setdefault(tenant, Sequence()).add(store["id"])
        self._stores[(tenant, store["id"])] = _copy(store)

    async def get_store(self, tenant: str, store_id: str) -> dict[str, Any] | None:
        found = self._stores.get((tenant, store_id))
        return None if found is None else _copy(found)

    async def page_stores(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage:
        ids, more = self._order.get(tenant, Sequence()).page(limit, descending, after, before)
        found = [self._stores.get((tenant, i)) for i in ids]
        return ItemPage(items=[orjson.dumps(s) for s in found if s is not None], has_more=more)

    async def delete_store(self, tenant: str, store_id: str) -> list[str] | None:
        """Delete a store; the ids of the files it held, or None if there was none."""
        self._order.get(tenant, Sequence()).discard(store_id)
        files = self._files.pop((tenant, store_id), {})
        self._file_order.pop((tenant, store_id), None)
        existed = self._stores.pop((tenant, store_id), None) is not None
        return list(files) if existed else None

    async def put_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> None:
        self._files.setdefault((tenant, store_id), {})[file["id"]] = _copy(file)
        self._file_order.setdefault((tenant, store_id), Sequence()).add_once(file["id"])

    async def update_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> bool:
        files = self._files.get((tenant, store_id), {})
        if file["id"] not in files:
            return False
        files[file["id"]] = _copy(file)
        return True

    async def get_file(self, tenant: str, store_id: str, file_id: str) -> dict[str, Any] | None:
        found = self._files.get((tenant, store_id), {}).get(file_id)
        return None if found is None else _copy(found)

    async def files(self, tenant: str, store_id: str) -> list[dict[str, Any]]:
        """Every file of the store, in the order they were added."""
        files = self._files.get((tenant, store_id), {})
        order = self._file_order.get((tenant, store_id), Sequence())
        return [_copy(files[i]) for i in order.ids() if i in files]

    async def remove_file(self, tenant: str, store_id: str, file_id: str) -> bool:
        self._file_order.get((tenant, store_id), Sequence()).discard(file_id)
        return self._files.get((tenant, store_id), {}).pop(file_id, None) is not None

    async def stores_of_file(self, tenant: str, file_id: str) -> list[str]:
        return sorted(
            store_id
            for (owner, store_id), files in self._files.items()
            if owner == tenant and file_id in files
        )

    async def save_batch(self, tenant: str, batch: dict[str, Any]) -> None:
        self._batches[(tenant, batch["id"])] = _copy(batch)

    async def get_batch(self, tenant: str, batch_id: str) -> dict[str, Any] | None:
        found = self._batches.get((tenant, batch_id))
        return None if found is None else _copy(found)


class MemoryJobQueue:
    """Jobs in the order they were put. A taken job is the taker's until `done`; one not
    done within `claim_after_ms` is handed out again, as another replica would claim it."""

    def __init__(self, claim_after_ms: int = 60_000) -> None:
        self._claim_after = claim_after_ms / 1000
        self._waiting: dict[str, bytes] = {}  # entry id -> job, never taken yet
        self._taken: dict[str, tuple[bytes, float]] = {}  # entry id -> (job, when taken)
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()

    async def depth(self) -> int:
        return len(self._waiting) + len(self._taken)

    async def put(self, job: dict[str, Any]) -> None:
        async with self._arrived:
            self._waiting[f"{next(self._ids)}-0"] = orjson.dumps(job)
            self._arrived.notify_all()

    def _next(self) -> tuple[str, dict[str, Any]] | None:
        now = time.monotonic()
        for entry_id, (job, taken_at) in self._taken.items():
            if now - taken_at >= self._claim_after:
                self._taken[entry_id] = job, now
                return entry_id, orjson.loads(job)
        for entry_id, job in self._waiting.items():
            del self._waiting[entry_id]
            self._taken[entry_id] = job, now
            return entry_id, orjson.loads(job)
        return None

    async def take(self, block_ms: int) -> tuple[str, dict[str, Any]] | None:
        """The next job: an abandoned one first, else a new one, waiting up to `block_ms`
        for one to be put (0 waits as long as it takes, as Redis's BLOCK 0 does)."""
        async with self._arrived:
            taken = self._next()
            if taken is not None:
                return taken
            timeout = None if block_ms == 0 else block_ms / 1000
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return None
            return self._next()

    async def done(self, entry_id: str) -> None:
        self._taken.pop(entry_id, None)
        self._waiting.pop(entry_id, None)
