"""Helpers for the Files and Vector Stores end-to-end tests.

`BlobGate` makes "the worker is in the middle of ingesting this file" an observable,
deterministic state: the file's blob (under the stack's data dir) is swapped for a named
pipe, so the ingestion worker blocks inside the job when it opens it to read. The test
knows the worker got there because opening the pipe for writing succeeds only once a
reader has it open, and the worker carries on only when the test writes the content.
The worker handles one job at a time, so jobs queued meanwhile stay untouched.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import openai
import qdrant_edge

from support.harness import RedisServer, Stack, wait_until
from support.served_bodies import checked_sdk

INGEST_TIMEOUT = 30.0


def word() -> str:
    """A unique, searchable term (letters and digits only)."""
    return "w" + uuid.uuid4().hex[:12]


def new_key() -> str:
    return f"sk-{uuid.uuid4().hex}"


def sdk_for(stack: Stack, key: str | None = None) -> openai.OpenAI:
    """An SDK client of `stack`, as the tenant of `key` (a new one by default)."""
    return checked_sdk(stack.base_url, api_key=key or new_key(), max_retries=0)


@contextlib.contextmanager
def private_stack(backend_url: str, **extra: str) -> Iterator[Stack]:
    """A Stack with its own Redis: ingestion jobs live in one Redis stream shared by every
    sidecar on that Redis, and another stack's worker must not take (and fail) them."""
    redis = RedisServer().start()
    try:
        stack = Stack(backend_url, redis.url, **extra).start()
        try:
            yield stack
        finally:
            stack.stop()
    finally:
        redis.stop()


def files_dir(stack: Stack) -> Path:
    return Path(stack.settings["data_dir"]) / "files"


def stored_paths(stack: Stack) -> set[str]:
    """Every blob (and partial blob) under the stack's data dir."""
    return {str(p) for p in files_dir(stack).rglob("*") if not p.is_dir()}


def blob_path(stack: Stack, file_id: str) -> Path:
    [path] = files_dir(stack).glob(f"*/{file_id}")
    return path


def stored_chunks(stack: Stack, store_id: str) -> list[dict[str, Any]]:
    """Payloads of the store's points as the embedded engine keeps them on disk.

    The running sidecar holds its shards (their write-ahead log is locked), so a copy of
    each is opened instead; opening replays the copied log, writes not yet flushed included.
    """
    found: list[dict[str, Any]] = []
    for shard_dir in (Path(stack.settings["data_dir"]) / "vectors").glob("chunks_*"):
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / shard_dir.name
            shutil.copytree(shard_dir, copy)
            shard = qdrant_edge.EdgeShard.load(str(copy))
            try:
                scope = qdrant_edge.Filter(
                    must=[
                        qdrant_edge.FieldCondition(
                            "vector_store_id", match=qdrant_edge.MatchValue(store_id)
                        )
                    ]
                )
                offset: Any = None
                while True:
                    page, offset = shard.scroll(
                        qdrant_edge.ScrollRequest(
                            offset=offset, limit=1000, filter=scope, with_payload=True
                        )
                    )
                    found.extend(record.payload or {} for record in page)
                    if offset is None:
                        break
            finally:
                shard.close()
    return sorted(found, key=lambda payload: (payload["file_id"], payload["chunk_index"]))


def wait_ingested(
    client: openai.OpenAI, store_id: str, file_id: str, timeout: float = INGEST_TIMEOUT
) -> Any:
    """The store file once it left `in_progress`."""
    found: list[Any] = []

    def done() -> bool:
        found[:] = [client.vector_stores.files.retrieve(file_id, vector_store_id=store_id)]
        return bool(found[0].status != "in_progress")

    wait_until(done, timeout, f"ingestion of {file_id}")
    return found[0]


def upload(client: openai.OpenAI, name: str, data: bytes | str) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    return client.files.create(file=(name, raw), purpose="assistants")


class BlobGate:
    """Holds the ingestion worker inside the job of `file_id` until `release`."""

    def __init__(self, stack: Stack, file_id: str) -> None:
        self.path = blob_path(stack, file_id)
        self.content = self.path.read_bytes()
        self.path.unlink()
        os.mkfifo(self.path)
        self._fd: int | None = None
        self._released = False

    def _try_open(self) -> bool:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading yet
                raise
            return False
        return True

    def wait_worker(self, timeout: float = INGEST_TIMEOUT) -> None:
        """Return once the worker has opened the blob, i.e. is inside the job."""
        wait_until(self._try_open, timeout, "the worker reading the gated blob")

    def release(self) -> None:
        """Let the worker read the real content (it sees end of file when we close)."""
        if self._released:
            return
        self._released = True
        if self._fd is None and not self._try_open():
            # Nobody is reading (the test stopped early): put the real file back.
            os.unlink(self.path)
            self.path.write_bytes(self.content)
            return
        assert self._fd is not None
        os.set_blocking(self._fd, True)
        os.write(self._fd, self.content)
        os.close(self._fd)
        self._fd = None
        # Later reads (a retried job) need a regular file again.
        os.unlink(self.path)
        self.path.write_bytes(self.content)

    def abandon(self) -> None:
        """The reader died (its sidecar was killed): restore the blob as a regular file."""
        self._released = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        os.unlink(self.path)
        self.path.write_bytes(self.content)

    def __enter__(self) -> BlobGate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def docx_bytes(heading: str, paragraphs: list[str]) -> bytes:
    document = docx.Document()
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
