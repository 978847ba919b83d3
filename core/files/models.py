"""The file object, as stored and shown."""

from __future__ import annotations

from typing import Any, Literal

from core.common.models import OpenModel

__all__ = ["FileObject", "shown_file"]


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


# Optional fields the document declares non-nullable (an integer, a string): a file with
# no value for them leaves them out, which satisfies both the document and the live API's
# clients (they read a missing field as null).
_OMITTED_WHEN_NULL = ("expires_at", "status_details")


def shown_file(file: dict[str, Any]) -> dict[str, Any]:
    """The file object as served: fields without a value are left out, not null."""
    return {k: v for k, v in file.items() if not (v is None and k in _OMITTED_WHEN_NULL)}
