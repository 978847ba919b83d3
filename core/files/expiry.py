"""Deleting files whose `expires_after` has passed (they already read as missing)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from core.files.lookup import FileDeleted
from core.ports import Stores

__all__ = ["FileReaper"]

log = logging.getLogger(__name__)


class FileReaper:
    def __init__(self, stores: Stores, on_deleted: list[FileDeleted]) -> None:
        self._stores = stores
        self._on_deleted = on_deleted

    async def reap(self) -> int:
        """Delete every file due now; how many there were."""
        removed = 0
        while expired := await self._stores.files.expired(time.time()):
            for tenant, file_id in expired:
                await self._stores.files.delete(tenant, file_id)
                await self._stores.blobs.delete(tenant, file_id)
                for hook in self._on_deleted:
                    await hook(tenant, file_id)
                removed += 1
        return removed

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                await self.reap()
            except Exception:
                log.exception("deleting expired files failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
