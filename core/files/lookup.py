"""What other domains need of files without the Files API: the not-found error, and the
hook called when a file is deleted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.common.errors import NotFoundError

__all__ = ["FileDeleted", "file_not_found"]

# Called with (tenant, file id) after a file is deleted, so other state (vector stores)
# lets go of it too.
FileDeleted = Callable[[str, str], Awaitable[None]]


def file_not_found(file_id: str, param: str = "file_id") -> NotFoundError:
    return NotFoundError(f"No such File object: {file_id}", param=param)
