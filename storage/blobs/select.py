"""The blob store `OPENRESPONSES_BLOB_URL` names: `file:///abs/dir` (a directory, shared
between replicas only through a shared volume; the default is the data dir) or
`s3://bucket/prefix` (any S3-compatible store)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.ports import BlobStore
from storage.blobs.local import LocalBlobStore
from storage.blobs.s3 import S3BlobStore

__all__ = ["open_blob_store"]


async def open_blob_store(
    url: str | None, data_dir: Path, s3_endpoint_url: str | None = None
) -> BlobStore:
    if not url:
        return LocalBlobStore(data_dir / "files")
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "file":
        path = Path(unquote(parts.path))
        if parts.netloc not in ("", "localhost") or not path.is_absolute():
            raise ValueError(f"OPENRESPONSES_BLOB_URL needs an absolute path: {url!r}")
        return LocalBlobStore(path)
    if scheme == "s3":
        store = await S3BlobStore.open(url, s3_endpoint_url)
        try:
            await store.ping()  # fail at start, not on the first upload
        except BaseException:
            await store.close()
            raise
        return store
    raise ValueError(f"OPENRESPONSES_BLOB_URL must be file:///... or s3://...: {url!r}")
