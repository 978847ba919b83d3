"""The Files API: uploads streamed to the blob store, listing, contents, expiry."""

from core.files.api import FilesApi
from core.files.expiry import FileReaper
from core.files.lookup import FileDeleted, file_not_found

__all__ = ["FileDeleted", "FileReaper", "FilesApi", "file_not_found"]
