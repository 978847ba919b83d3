"""Vector store file batches end to end: creation both ways, counts, listing, cancel."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import openai
import pytest
from support.fake_backend import BackendThread
from support.harness import Stack
from support.vector_fixtures import (
    BlobGate,
    private_stack,
    stored_chunks,
    upload,
    wait_ingested,
    word,
)

STATIC = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50}}


def test_batch_of_file_ids_with_shared_attributes(client: openai.OpenAI) -> None:
    tag = word()
    alone = upload(client, "alone.txt", f"{tag} added on its own")
    store = client.vector_stores.create(file_ids=[alone.id])
    a, b, bad = (
        upload(client, "a.txt", f"{tag} alpha text"),
        upload(client, "b.txt", f"{tag} beta text"),
        upload(client, "c.bin", b"\x00\x01\x02binary"),
    )
    batch = client.vector_stores.file_batches.create(
        store.id,
        file_ids=[a.id, b.id, bad.id],
        attributes={"source": "ids"},
        chunking_strategy=STATIC,  # type: ignore[arg-type]
    )
    assert batch.id.startswith("vsfb_") and batch.object == "vector_store.files_batch"
    assert (batch.vector_store_id, batch.file_counts.total) == (store.id, 3)
    for f in (alone, a, b, bad):
        wait_ingested(client, store.id, f.id)
    done = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    assert done.status == "completed"
    assert done.file_counts.model_dump() == {
        "in_progress": 0, "completed": 2, "failed": 1, "cancelled": 0, "total": 3
    }  # fmt: skip
    listed = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    assert {f.id for f in listed} == {a.id, b.id, bad.id}  # not the file added on its own
    for f in listed:
        assert f.attributes == {"source": "ids"}
        assert f.chunking_strategy.model_dump() == STATIC
    completed = client.vector_stores.file_batches.list_files(
        batch.id, vector_store_id=store.id, filter="completed", order="asc", limit=1
    )
    assert ([f.id for f in completed.data], completed.has_more) == ([a.id], True)
    failed = client.vector_stores.file_batches.list_files(
        batch.id, vector_store_id=store.id, filter="failed"
    )
    assert [f.id for f in failed] == [bad.id]
    hits = client.vector_stores.search(
        store.id, query=tag, filters={"type": "eq", "key": "source", "value": "ids"}
    )
    assert {h.file_id for h in hits.data} == {a.id, b.id}
    assert client.vector_stores.retrieve(store.id).file_counts.total == 4


def test_batch_of_files_with_their_own_attributes(client: openai.OpenAI) -> None:
    tag = word()
    store = client.vector_stores.create()
    one, two = upload(client, "1.txt", f"{tag} first"), upload(client, "2.txt", f"{tag} second")
    batch = client.vector_stores.file_batches.create(
        store.id,
        files=[
            {"file_id": one.id, "attributes": {"rank": 1, "lang": "en"}},
            {"file_id": two.id, "attributes": {"rank": 2}, "chunking_strategy": STATIC},  # type: ignore[typeddict-item]
        ],
    )
    assert batch.file_counts.total == 2
    first, second = (wait_ingested(client, store.id, f.id) for f in (one, two))
    assert (first.attributes, second.attributes) == ({"rank": 1, "lang": "en"}, {"rank": 2})
    assert first.chunking_strategy.static.max_chunk_size_tokens == 800  # type: ignore[union-attr]
    assert second.chunking_strategy.model_dump() == STATIC
    retrieved = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    assert (retrieved.status, retrieved.file_counts.completed) == ("completed", 2)
    hits = client.vector_stores.search(
        store.id, query=tag, filters={"type": "gte", "key": "rank", "value": 2}
    )
    assert [h.file_id for h in hits.data] == [two.id]
    other = client.vector_stores.create()
    with pytest.raises(openai.NotFoundError):  # a batch is found through its own store only
        client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=other.id)


def test_batch_validation(client: openai.OpenAI) -> None:
    store = client.vector_stores.create()
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(store.id, file_ids=[])
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.file_batches.create(store.id, file_ids=["file-does-not-exist"])
    f = upload(client, "x.txt", "x")
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(
            store.id,
            files=[{"file_id": f.id, "attributes": {"bad": ["list"]}}],  # type: ignore[dict-item]
        )
    assert client.vector_stores.files.list(store.id).data == []  # nothing half-created


@pytest.fixture(scope="module")
def one_worker(backend: BackendThread) -> Iterator[Stack]:
    """A sidecar ingesting one file at a time (the default takes several at once)."""
    with private_stack(f"{backend.url}/v1", ingest_concurrency="1") as made:
        yield made


def test_cancel_stops_the_files_not_yet_ingested(
    one_worker: Stack, make_sdk: Callable[..., openai.OpenAI]
) -> None:
    stack = one_worker
    client = make_sdk(stack.base_url, "sk-batch-cancel", max_retries=0)
    # Deterministic: the worker takes one job at a time, and the gate holds it inside
    # the job of `blocker` (see vector_fixtures.BlobGate) until released. The batch's
    # jobs are queued behind it, so none of its files can have been ingested when the
    # batch is cancelled.
    tag = word()
    store = client.vector_stores.create()
    blocker = upload(client, "blocker.txt", f"{tag} blocker")
    queued = [upload(client, f"q{i}.txt", f"{tag} queued {i}") for i in range(3)]
    with BlobGate(stack, blocker.id) as gate:
        client.vector_stores.files.create(vector_store_id=store.id, file_id=blocker.id)
        gate.wait_worker()
        batch = client.vector_stores.file_batches.create(store.id, file_ids=[f.id for f in queued])
        assert (batch.status, batch.file_counts.in_progress) == ("in_progress", 3)
        cancelled = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
        assert cancelled.status == "cancelled"
        assert (cancelled.file_counts.cancelled, cancelled.file_counts.in_progress) == (3, 0)
        gate.release()
    assert wait_ingested(client, store.id, blocker.id).status == "completed"
    # A file queued after the batch completing proves the worker got past its jobs.
    late = upload(client, "late.txt", f"{tag} late")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=late.id)
    assert wait_ingested(client, store.id, late.id).status == "completed"

    again = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    assert (again.status, again.file_counts.cancelled) == ("cancelled", 3)
    listed = client.vector_stores.file_batches.list_files(
        batch.id, vector_store_id=store.id, filter="cancelled"
    )
    assert {f.id for f in listed} == {f.id for f in queued}
    assert all(f.status == "cancelled" for f in listed)
    counts = client.vector_stores.retrieve(store.id).file_counts
    assert (counts.cancelled, counts.completed, counts.total) == (3, 2, 5)
    indexed = {chunk["file_id"] for chunk in stored_chunks(stack, store.id)}
    assert indexed == {blocker.id, late.id}
    hits = client.vector_stores.search(store.id, query=tag).data
    assert {h.file_id for h in hits} == {blocker.id, late.id}
