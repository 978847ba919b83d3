"""The Files API: uploads streamed to the blob store, listing, contents, expiry."""

from core.files.api import FileDeleted, FilesApi
from core.files.errors import file_not_found
from core.files.expiry import FileReaper

__all__ = ["FileDeleted", "FileReaper", "FilesApi", "file_not_found"]
