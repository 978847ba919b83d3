"""Errors of the files domain, shared by its API and the vector stores that use files."""

from __future__ import annotations

from core.common.errors import NotFoundError

__all__ = ["file_not_found"]


def file_not_found(file_id: str, param: str = "file_id") -> NotFoundError:
    return NotFoundError(f"No such File object: {file_id}", param=param)
