"""The file object, as stored and shown."""

from __future__ import annotations

from typing import Any, Literal

from core.common.models import OpenModel

__all__ = ["FileObject"]


class FileObject(OpenModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    expires_at: int | None = None
    filename: str
    purpose: str
    status: Literal["processed"] = "processed"
    status_details: Any = None
