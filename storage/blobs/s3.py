"""File contents in an S3-compatible object store (AWS S3, MinIO, Ceph, R2), for replicas
that share no disk: `OPENRESPONSES_BLOB_URL=s3://bucket/prefix`.

Uploads stream as a multipart upload (at most one part held in memory) that becomes the
object only when completed, so a refused or crashed upload never leaves a visible blob;
the parts of one that crashed are aborted by `reap_uploads` (run at start and hourly;
a bucket lifecycle rule for incomplete uploads is the belt to these braces). aiobotocore:
the maintained asyncio face of botocore, with the multipart calls and the listing of
incomplete uploads a reaper needs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from core.ports import BlobWriter
from storage.tenant_keys import tenant_prefix

__all__ = ["S3BlobStore"]

# S3's smallest part (but the last) is 5 MiB; 8 MiB keeps the request count low.
PART_SIZE = 8 * 1024 * 1024


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


class _S3Writer:
    def __init__(self, client: Any, bucket: str, key: str, part_size: int) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= self._part_size:
            await self._send_part(bytes(self._buffer[: self._part_size]))
            del self._buffer[: self._part_size]

    async def _send_part(self, data: bytes) -> None:
        where = {"Bucket": self._bucket, "Key": self._key}
        if self._upload_id is None:
            started = await self._client.create_multipart_upload(**where)
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        sent = await self._client.upload_part(
            **where, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def commit(self) -> None:
        where = {"Bucket": self._bucket, "Key": self._key}
        if self._upload_id is None:  # small enough for one request
            await self._client.put_object(**where, Body=bytes(self._buffer))
        else:
            if self._buffer:
                await self._send_part(bytes(self._buffer))
            await self._client.complete_multipart_upload(
                **where, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        self._buffer = bytearray()

    async def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            with contextlib.suppress(ClientError):  # the reaper gets it otherwise
                await self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=upload_id
                )


async def _pieces(body: Any, chunk_size: int) -> AsyncIterator[bytes]:
    try:
        async for piece in body.iter_chunks(chunk_size):
            yield piece
    finally:
        body.close()


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str, part_size: int = PART_SIZE) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self._part_size = part_size
        self._exit = contextlib.AsyncExitStack()

    @classmethod
    async def open(
        cls, url: str, endpoint_url: str | None = None, part_size: int = PART_SIZE
    ) -> S3BlobStore:
        """`s3://bucket/prefix`; credentials and region from the standard AWS_* variables."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        prefix = parts.path.strip("/")
        exit_stack = contextlib.AsyncExitStack()
        client = await exit_stack.enter_async_context(
            get_session().create_client("s3", endpoint_url=endpoint_url)
        )
        store = cls(client, parts.netloc, f"{prefix}/" if prefix else "", part_size)
        store._exit = exit_stack
        return store

    async def close(self) -> None:
        await self._exit.aclose()

    async def ping(self) -> None:
        await self._client.head_bucket(Bucket=self._bucket)

    def _key(self, tenant: str, blob_id: str) -> str:
        # The tenant's key prefix digest, as the local store names its directories.
        return f"{self._prefix}{tenant_prefix(tenant)[4:-2]}/{blob_id}"

    def writer(self, tenant: str, blob_id: str) -> BlobWriter:
        return _S3Writer(self._client, self._bucket, self._key(tenant, blob_id), self._part_size)

    async def read(self, tenant: str, blob_id: str) -> bytes | None:
        found = await self._get(tenant, blob_id)
        if found is None:
            return None
        async with found["Body"] as body:
            data: bytes = await body.read()
        return data

    async def _get(self, tenant: str, blob_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._client.get_object(
                Bucket=self._bucket, Key=self._key(tenant, blob_id)
            )
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return found

    async def stream(
        self, tenant: str, blob_id: str, chunk_size: int
    ) -> tuple[int, AsyncIterator[bytes]] | None:
        found = await self._get(tenant, blob_id)
        if found is None:
            return None
        return int(found["ContentLength"]), _pieces(found["Body"], chunk_size)

    async def delete(self, tenant: str, blob_id: str) -> None:
        await self._client.delete_object(Bucket=self._bucket, Key=self._key(tenant, blob_id))

    async def reap_uploads(self, older_than_seconds: float) -> int:
        """Abort this store's multipart uploads begun longer ago than that (a sidecar that
        died mid-upload); how many were aborted."""
        cutoff = time.time() - older_than_seconds
        aborted = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
            for upload in page.get("Uploads") or []:
                if upload["Initiated"].timestamp() > cutoff:
                    continue
                with contextlib.suppress(ClientError):  # finished or aborted meanwhile
                    await self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted
