"""What only the S3 store has: multipart uploads that stay invisible until completed, no
parts left behind by an aborted one, and the reaper for the uploads of a sidecar that
died mid-upload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.s3_server import S3Server

from storage.blobs.local import LocalBlobStore
from storage.blobs.s3 import S3BlobStore
from storage.blobs.select import open_blob_store

PART = 5 * 1024 * 1024


@pytest.fixture
async def s3_store(s3_server: S3Server) -> AsyncIterator[S3BlobStore]:
    store = await S3BlobStore.open(f"s3://{s3_server.bucket()}/p", s3_server.url, PART)
    yield store
    await store.close()


async def _uploads(store: S3BlobStore) -> int:
    listed = await store._client.list_multipart_uploads(Bucket=store._bucket)
    return len(listed.get("Uploads") or [])


async def test_a_multipart_upload_is_invisible_until_completed(s3_store: S3BlobStore) -> None:
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MiB: three parts
    writer = s3_store.writer("t", "file_big")
    for start in range(0, len(data), 1024 * 1024):
        await writer.write(data[start : start + 1024 * 1024])
    assert await _uploads(s3_store) == 1  # parts are out, the object is not
    assert await s3_store.read("t", "file_big") is None
    await writer.commit()
    assert await _uploads(s3_store) == 0
    found = await s3_store.stream("t", "file_big", 1024 * 1024)
    assert found is not None and found[0] == len(data)
    assert b"".join([piece async for piece in found[1]]) == data


async def test_an_aborted_upload_leaves_nothing(s3_store: S3BlobStore) -> None:
    writer = s3_store.writer("t", "file_refused")
    await writer.write(b"x" * (PART + 1))
    assert await _uploads(s3_store) == 1
    await writer.abort()
    assert await _uploads(s3_store) == 0
    assert await s3_store.read("t", "file_refused") is None


async def test_the_reaper_aborts_uploads_a_dead_sidecar_left(s3_store: S3BlobStore) -> None:
    crashed = s3_store.writer("t", "file_crashed")
    await crashed.write(b"y" * (PART + 1))  # then the process died: no commit, no abort
    assert await s3_store.reap_uploads(older_than_seconds=10**9) == 0  # too recent to judge
    assert await s3_store.reap_uploads(older_than_seconds=-60) == 1
    assert await _uploads(s3_store) == 0
    assert await s3_store.read("t", "file_crashed") is None


async def test_blob_urls(s3_server: S3Server, tmp_path: Path) -> None:
    assert isinstance(await open_blob_store(f"file://{tmp_path}", tmp_path), LocalBlobStore)
    with pytest.raises(ValueError):
        await open_blob_store("ftp://x/y", tmp_path)
    with pytest.raises(ValueError):
        await open_blob_store("file://relative/dir", tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - botocore's error for a missing bucket
        await open_blob_store("s3://no-such-bucket/p", tmp_path, s3_server.url)
