"""Vector store objects as the API shows them, and the error for a missing one."""

from __future__ import annotations

import time
from typing import Any

from core.common.errors import NotFoundError

__all__ = ["file_counts", "presented_store", "store_not_found"]

_DAY = 86400


def store_not_found(store_id: str, param: str = "vector_store_id") -> NotFoundError:
    return NotFoundError(f"No vector store found with id '{store_id}'.", param=param)


def file_counts(files: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0}
    for file in files:
        counts[file["status"]] = counts.get(file["status"], 0) + 1
    return {**counts, "total": len(files)}


def presented_store(store: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored object with what derives from its files and the clock filled in."""
    counts = file_counts(files)
    expiry = store.get("expires_after")
    expires_at = store["last_active_at"] + expiry["days"] * _DAY if expiry else None
    if expires_at is not None and expires_at <= time.time():
        status = "expired"
    else:
        status = "in_progress" if counts["in_progress"] else "completed"
    return {
        **store,
        "usage_bytes": sum(int(file.get("usage_bytes", 0)) for file in files),
        "file_counts": counts,
        "status": status,
        "expires_at": expires_at,
    }
