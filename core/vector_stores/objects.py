"""Vector store objects (stores, their files, file batches) as stored and shown, and the
error for a missing store."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from core.common.errors import NotFoundError
from core.common.models import OpenModel

__all__ = [
    "FileBatchObject",
    "VectorStoreFileObject",
    "VectorStoreObject",
    "file_counts",
    "presented_store",
    "store_not_found",
]

_DAY = 86400


class ExpiryPolicy(OpenModel):
    anchor: Literal["last_active_at"] = "last_active_at"
    days: int


class VectorStoreObject(OpenModel):
    """A vector store as stored; what derives from its files is added when shown."""

    id: str
    object: Literal["vector_store"] = "vector_store"
    created_at: int
    name: str | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    expires_after: ExpiryPolicy | None = None
    last_active_at: int


class VectorStoreFileObject(OpenModel):
    """A file in a vector store, as stored and shown."""

    id: str
    object: Literal["vector_store.file"] = "vector_store.file"
    usage_bytes: int = 0
    created_at: int
    vector_store_id: str
    status: Literal["in_progress", "completed", "failed", "cancelled"] = "in_progress"
    last_error: dict[str, Any] | None = None
    chunking_strategy: dict[str, Any]
    attributes: dict[str, Any] = Field(default_factory=dict)


class FileBatchObject(OpenModel):
    """A file batch as stored; its `file_counts` are counted when it is shown."""

    id: str
    object: Literal["vector_store.files_batch"] = "vector_store.files_batch"
    created_at: int
    vector_store_id: str
    status: Literal["in_progress", "completed", "cancelled", "failed"] = "in_progress"
    file_ids: list[str]


def store_not_found(store_id: str, param: str = "vector_store_id") -> NotFoundError:
    return NotFoundError(f"No vector store found with id '{store_id}'.", param=param)


def file_counts(files: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0}
    for file in files:
        counts[file["status"]] = counts.get(file["status"], 0) + 1
    return {**counts, "total": len(files)}


def presented_store(store: VectorStoreObject, files: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored object with what derives from its files and the clock filled in."""
    counts = file_counts(files)
    expiry = store.expires_after
    expires_at = store.last_active_at + expiry.days * _DAY if expiry else None
    if expires_at is not None and expires_at <= time.time():
        status = "expired"
    else:
        status = "in_progress" if counts["in_progress"] else "completed"
    shown = store.model_dump()
    # The document declares `expires_after` an object (absent without a policy) and `name`
    # a required string: a store without them shows no policy and an empty name, not null.
    if shown["expires_after"] is None:
        del shown["expires_after"]
    if shown["name"] is None:
        shown["name"] = ""
    return {
        **shown,
        "usage_bytes": sum(int(file.get("usage_bytes", 0)) for file in files),
        "file_counts": counts,
        "status": status,
        "expires_at": expires_at,
    }
