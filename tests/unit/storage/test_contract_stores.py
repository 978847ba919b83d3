"""The contracts of the smaller stores (prompts, connectors, files, blobs, vector stores),
run against their production implementations and the in-memory fakes alike."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis
from support.memory import (
    MemoryBlobStore,
    MemoryConnectorStore,
    MemoryFileStore,
    MemoryPromptStore,
    MemoryVectorStoreStore,
)
from support.s3_server import S3Server

from core.common.ids import new_id
from core.ports import (
    BlobStore,
    ConnectorStore,
    FileStore,
    ItemPage,
    PromptHeader,
    PromptStore,
    StoredConnector,
    VectorStoreStore,
)
from storage.blobs.local import LocalBlobStore
from storage.blobs.s3 import S3BlobStore
from storage.redis.connectors import RedisConnectorStore
from storage.redis.files import RedisFileStore
from storage.redis.prompts import RedisPromptStore
from storage.redis.vector_stores import RedisVectorStoreStore

IMPLEMENTATIONS = ["production", "memory"]


@pytest.fixture(params=IMPLEMENTATIONS)
def prompt_store(request: pytest.FixtureRequest, prompts: RedisPromptStore) -> PromptStore:
    return prompts if request.param == "production" else MemoryPromptStore()


@pytest.fixture(params=IMPLEMENTATIONS)
def connector_store(
    request: pytest.FixtureRequest, connectors: RedisConnectorStore
) -> ConnectorStore:
    return connectors if request.param == "production" else MemoryConnectorStore()


@pytest.fixture(params=IMPLEMENTATIONS)
def file_store(request: pytest.FixtureRequest, redis_client: Redis) -> FileStore:
    return RedisFileStore(redis_client) if request.param == "production" else MemoryFileStore()


@pytest.fixture(params=[*IMPLEMENTATIONS, "s3"])
async def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param != "s3":
        yield LocalBlobStore(tmp_path) if request.param == "production" else MemoryBlobStore()
        return
    server: S3Server = request.getfixturevalue("s3_server")
    # Parts of 5 MiB (S3's smallest) so the contract's larger blobs go multipart too.
    store = await S3BlobStore.open(f"s3://{server.bucket()}/blobs", server.url, 5 * 1024 * 1024)
    yield store
    await store.close()


@pytest.fixture(params=IMPLEMENTATIONS)
def vector_store_store(request: pytest.FixtureRequest, redis_client: Redis) -> VectorStoreStore:
    if request.param == "production":
        return RedisVectorStoreStore(redis_client)
    return MemoryVectorStoreStore()


def ids(page: ItemPage) -> list[str]:
    return [orjson.loads(encoded)["id"] for encoded in page.items]


# Prompts


async def test_prompt_versions_and_default(prompt_store: PromptStore, tenant: str) -> None:
    prompt_id, header = new_id("pmpt"), b'{"name":"p"}'
    await prompt_store.create(tenant, prompt_id, header, b"v1")
    assert await prompt_store.get(tenant, prompt_id, None) == (PromptHeader(header, 1, 1), b"v1")
    assert await prompt_store.add_version(tenant, prompt_id, b"v2") == 2
    assert await prompt_store.add_version(tenant, prompt_id, b"v3") == 3
    assert await prompt_store.get(tenant, prompt_id, None) == (PromptHeader(header, 3, 3), b"v3")
    assert await prompt_store.get(tenant, prompt_id, 1) == (PromptHeader(header, 3, 3), b"v1")
    assert await prompt_store.get(tenant, prompt_id, 9) == (PromptHeader(header, 3, 3), None)
    assert await prompt_store.set_default(tenant, prompt_id, 2) == PromptHeader(header, 3, 2)
    assert await prompt_store.add_version(tenant, prompt_id, b"v4") == 4
    assert await prompt_store.get(tenant, prompt_id, None) == (PromptHeader(header, 4, 2), b"v2")
    assert await prompt_store.versions(tenant, prompt_id) == (
        PromptHeader(header, 4, 2),
        [b"v1", b"v2", b"v3", b"v4"],
    )


async def test_prompts_list_delete_and_tenants(prompt_store: PromptStore, tenant: str) -> None:
    first, second = new_id("pmpt"), new_id("pmpt")
    await prompt_store.create(tenant, first, b"1", b"a1")
    await prompt_store.create(tenant, second, b"2", b"b1")
    await prompt_store.add_version(tenant, first, b"a2")
    assert await prompt_store.list(tenant) == [
        (PromptHeader(b"1", 2, 2), b"a2"),
        (PromptHeader(b"2", 1, 1), b"b1"),
    ]
    other = f"{tenant}-other"
    assert await prompt_store.list(other) == []
    assert await prompt_store.get(other, first, None) is None
    assert await prompt_store.add_version(other, first, b"x") is None
    assert await prompt_store.set_default(other, first, 1) is None
    assert not await prompt_store.delete(other, first)
    assert await prompt_store.delete(tenant, first)
    assert not await prompt_store.delete(tenant, first)
    assert await prompt_store.versions(tenant, first) is None
    assert [header.header for header, _ in await prompt_store.list(tenant)] == [b"2"]


# Connectors


def connector(name: str) -> StoredConnector:
    obj = {"id": new_id("conn"), "object": "connector", "name": name, "header_names": ["x"]}
    return StoredConnector(obj=obj, headers={"x": "secret ✓"})


async def test_connectors_round_trip(connector_store: ConnectorStore, tenant: str) -> None:
    created = connector("c")
    await connector_store.create(tenant, created)
    assert await connector_store.get(tenant, created.id) == created
    changed = StoredConnector({**created.obj, "name": "new"}, {})
    assert await connector_store.update(tenant, changed)
    assert await connector_store.get(tenant, created.id) == changed
    assert await connector_store.get(f"{tenant}-other", created.id) is None
    assert await connector_store.delete(tenant, created.id)
    assert not await connector_store.update(tenant, changed)  # not brought back
    assert await connector_store.get(tenant, created.id) is None
    assert not await connector_store.delete(tenant, created.id)


async def test_connectors_page(connector_store: ConnectorStore, tenant: str) -> None:
    made = [connector(f"c{n}") for n in range(5)]
    for one in made:
        await connector_store.create(tenant, one)
    order = [one.id for one in made]
    page = await connector_store.page(tenant, 2, False, None, None)
    assert (ids(page), page.has_more) == (order[:2], True)
    page = await connector_store.page(tenant, 10, True, order[3], None)
    assert (ids(page), page.has_more) == (order[2::-1], False)
    page = await connector_store.page(tenant, 10, False, order[0], order[3])
    assert (ids(page), page.has_more) == (order[1:3], False)
    page = await connector_store.page(tenant, 10, True, None, order[2])
    assert (ids(page), page.has_more) == (order[:2:-1], False)
    unknown = await connector_store.page(tenant, 10, False, "conn_unknown", None)
    assert unknown == ItemPage([], False)
    listed = await connector_store.page(tenant, 10, True, None, None)
    assert len(listed.items) == 5 and b"secret" not in b"".join(listed.items)


# Files


def file_object(purpose: str = "assistants", expires_at: float | None = None) -> dict[str, Any]:
    return {"id": new_id("file"), "object": "file", "purpose": purpose, "expires_at": expires_at}


async def test_files_page_by_purpose(file_store: FileStore, tenant: str) -> None:
    made = [file_object(purpose) for purpose in ("assistants", "batch", "assistants", "user")]
    for file in made:
        await file_store.create(tenant, file)
    order = [file["id"] for file in made]
    assert await file_store.get(tenant, order[0]) == made[0]
    page = await file_store.page(tenant, None, 2, True, None)
    assert (ids(page), page.has_more) == (order[:1:-1], True)
    page = await file_store.page(tenant, "assistants", 10, False, None)
    assert (ids(page), page.has_more) == ([order[0], order[2]], False)
    page = await file_store.page(tenant, None, 10, False, order[1])
    assert ids(page) == order[2:]
    assert (await file_store.page(tenant, None, 10, False, "file_unknown")).items == []
    assert await file_store.delete(tenant, order[1])
    assert not await file_store.delete(tenant, order[1])
    assert ids(await file_store.page(tenant, None, 10, False, None)) == [order[0], *order[2:]]
    assert await file_store.get(f"{tenant}-other", order[0]) is None


async def test_expired_files_read_as_missing(file_store: FileStore, tenant: str) -> None:
    """(A running gateway's reaper may delete the expired file meanwhile: what is asserted of
    it holds either way.)"""
    now = time.time()
    gone, later = file_object(expires_at=now - 5), file_object(expires_at=now + 600)
    lasting = file_object()
    for file in (gone, later, lasting):
        await file_store.create(tenant, file)
    assert await file_store.get(tenant, gone["id"]) is None
    assert await file_store.get(tenant, later["id"]) == later
    assert ids(await file_store.page(tenant, None, 10, False, None)) == [later["id"], lasting["id"]]
    # The reaper finds a file once its expiry has passed, and not before.
    assert (tenant, later["id"]) not in await file_store.expired(now, limit=10_000)
    assert (tenant, later["id"]) in await file_store.expired(now + 601, limit=10_000)
    assert await file_store.delete(tenant, later["id"])
    assert (tenant, later["id"]) not in await file_store.expired(now + 601, limit=10_000)


# Blobs


async def test_blobs_appear_only_once_committed(blob_store: BlobStore, tenant: str) -> None:
    writer = blob_store.writer(tenant, "file_a")
    await writer.write(b"hello ")
    await writer.write("wörld ✓".encode())
    assert await blob_store.read(tenant, "file_a") is None
    await writer.commit()
    assert await blob_store.read(tenant, "file_a") == "hello wörld ✓".encode()
    assert await blob_store.read(f"{tenant}-other", "file_a") is None
    refused = blob_store.writer(tenant, "file_b")
    await refused.write(b"partial")
    await refused.abort()
    assert await blob_store.read(tenant, "file_b") is None
    empty = blob_store.writer(tenant, "file_c")
    await empty.commit()
    assert await blob_store.read(tenant, "file_c") == b""
    await blob_store.delete(tenant, "file_a")
    await blob_store.delete(tenant, "file_a")  # deleting twice is fine
    assert await blob_store.read(tenant, "file_a") is None


# Vector stores


async def test_vector_stores_page_and_delete(
    vector_store_store: VectorStoreStore, tenant: str
) -> None:
    made = [{"id": new_id("vs"), "name": f"s{n}"} for n in range(3)]
    for store in made:
        await vector_store_store.save_store(tenant, store, new=True)
    order = [store["id"] for store in made]
    await vector_store_store.save_store(tenant, {**made[0], "name": "renamed"})
    assert await vector_store_store.get_store(tenant, order[0]) == {**made[0], "name": "renamed"}
    page = await vector_store_store.page_stores(tenant, 2, True, None, None)
    assert (ids(page), page.has_more) == (order[:0:-1], True)
    page = await vector_store_store.page_stores(tenant, 10, False, order[0], None)
    assert (ids(page), page.has_more) == (order[1:], False)
    await vector_store_store.put_file(tenant, order[0], {"id": "file_1", "status": "in_progress"})
    assert await vector_store_store.delete_store(tenant, order[0]) == ["file_1"]
    assert await vector_store_store.delete_store(tenant, order[0]) is None
    assert await vector_store_store.get_store(tenant, order[0]) is None
    assert await vector_store_store.stores_of_file(tenant, "file_1") == []
    assert ids(await vector_store_store.page_stores(tenant, 10, False, None, None)) == order[1:]


async def test_vector_store_files(vector_store_store: VectorStoreStore, tenant: str) -> None:
    store_id, other_store = new_id("vs"), new_id("vs")
    first, second = {"id": "file_1", "status": "in_progress"}, {"id": "file_2", "status": "x"}
    await vector_store_store.put_file(tenant, store_id, first)
    await vector_store_store.put_file(tenant, store_id, second)
    await vector_store_store.put_file(tenant, other_store, first)
    done = {**first, "status": "completed"}
    assert await vector_store_store.update_file(tenant, store_id, done)
    await vector_store_store.put_file(tenant, store_id, done)  # a re-put keeps its place
    assert await vector_store_store.files(tenant, store_id) == [done, second]
    assert await vector_store_store.get_file(tenant, store_id, "file_1") == done
    assert await vector_store_store.stores_of_file(tenant, "file_1") == sorted(
        [store_id, other_store]
    )
    assert await vector_store_store.remove_file(tenant, store_id, "file_1")
    assert not await vector_store_store.remove_file(tenant, store_id, "file_1")
    # A file removed during ingestion stays removed.
    assert not await vector_store_store.update_file(tenant, store_id, done)
    assert await vector_store_store.get_file(tenant, store_id, "file_1") is None
    assert await vector_store_store.stores_of_file(tenant, "file_1") == [other_store]
    assert await vector_store_store.files(f"{tenant}-other", store_id) == []


async def test_vector_store_batches(vector_store_store: VectorStoreStore, tenant: str) -> None:
    batch: dict[str, Any] = {"id": new_id("vsfb"), "file_ids": ["file_1"], "status": "done"}
    await vector_store_store.save_batch(tenant, batch)
    assert await vector_store_store.get_batch(tenant, batch["id"]) == batch
    assert await vector_store_store.get_batch(f"{tenant}-other", batch["id"]) is None
    assert await vector_store_store.get_batch(tenant, "vsfb_unknown") is None


async def test_blobs_stream_in_pieces(blob_store: BlobStore, tenant: str) -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes
    writer = blob_store.writer(tenant, "file_s")
    await writer.write(data)
    await writer.commit()
    found = await blob_store.stream(tenant, "file_s", 4096)
    assert found is not None
    size, chunks = found
    pieces = [piece async for piece in chunks]
    assert size == len(data)
    assert [len(p) for p in pieces] == [4096, 4096, 2048]
    assert b"".join(pieces) == data
    assert await blob_store.stream(tenant, "file_missing", 4096) is None
    assert await blob_store.stream(f"{tenant}-other", "file_s", 4096) is None
    cut = await blob_store.stream(tenant, "file_s", 1000)
    assert cut is not None
    first = await anext(cut[1])
    await cut[1].aclose()  # the reader stops early and lets go
    assert first == data[:1000]
