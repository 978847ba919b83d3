"""The in-memory job queue and chunk index, which have no production twin on a per-test
Redis to share a contract with (the ingestion stream is one for the whole Redis)."""

from __future__ import annotations

import asyncio

import pytest
from support.memory import MemoryChunkIndex, MemoryJobQueue

from core.ports import Chunk


async def test_jobs_go_out_in_order_once_each() -> None:
    queue = MemoryJobQueue()
    for n in range(3):
        await queue.put({"n": n, "text": "ünï"})
    taken = [await queue.take(block_ms=10) for _ in range(3)]
    assert [job for _, job in filter(None, taken)] == [{"n": n, "text": "ünï"} for n in range(3)]
    assert len({entry_id for entry_id, _ in filter(None, taken)}) == 3
    assert await queue.take(block_ms=10) is None


async def test_a_job_not_done_is_handed_out_again() -> None:
    queue = MemoryJobQueue(claim_after_ms=0)
    await queue.put({"n": 1})
    first = await queue.take(block_ms=10)
    assert first is not None
    again = await queue.take(block_ms=10)
    assert again == first
    await queue.done(first[0])
    assert await queue.take(block_ms=10) is None


async def test_a_job_taken_by_one_is_not_given_to_another() -> None:
    queue = MemoryJobQueue(claim_after_ms=60_000)
    await queue.put({"n": 1})
    assert await queue.take(block_ms=10) is not None
    assert await queue.take(block_ms=10) is None


async def test_take_waits_for_a_job_put_meanwhile() -> None:
    queue = MemoryJobQueue()
    # gather starts the taker first: it finds nothing and waits, then the job is put.
    found, _ = await asyncio.gather(queue.take(block_ms=5_000), queue.put({"n": 7}))
    assert found is not None and found[1] == {"n": 7}


def chunk(text: str, terms: dict[int, float]) -> Chunk:
    return Chunk(text=text, sparse=(list(terms), list(terms.values())), dense=None)


async def indexed() -> MemoryChunkIndex:
    index = MemoryChunkIndex()
    red = [chunk("red apples", {1: 1.0, 2: 1.0}), chunk("red cherries", {1: 1.0, 3: 1.0})]
    await index.upsert_file("t", "vs_1", "file_red", "red.txt", {"team": "red", "n": 1}, red)
    blue = [chunk("blue ocean", {4: 1.0, 2: 0.5})]
    await index.upsert_file("t", "vs_1", "file_blue", "blue.txt", {"team": "blue"}, blue)
    await index.upsert_file("u", "vs_1", "file_theirs", "x.txt", {}, [chunk("apples", {2: 9.0})])
    return index


async def test_search_ranks_by_shared_terms_within_the_tenant() -> None:
    index = await indexed()
    hits = await index.search("t", ["vs_1"], ([2], [1.0]), None, 10, None, None)
    assert [(h.file_id, h.text, h.score) for h in hits] == [
        ("file_red", "red apples", 1.0),
        ("file_blue", "blue ocean", 0.5),
    ]
    assert hits[0].filename == "red.txt" and hits[0].attributes == {"team": "red", "n": 1}
    assert await index.search("t", ["vs_2"], ([2], [1.0]), None, 10, None, None) == []
    assert await index.search("t", ["vs_1"], ([9], [1.0]), None, 10, None, None) == []
    threshold = await index.search("t", ["vs_1"], ([2], [1.0]), None, 10, None, 0.9)
    assert [h.file_id for h in threshold] == ["file_red"]


@pytest.mark.parametrize(
    ("spec", "files"),
    [
        ({"type": "eq", "key": "team", "value": "red"}, ["file_red"]),
        ({"type": "ne", "key": "team", "value": "red"}, ["file_blue"]),
        ({"type": "gte", "key": "n", "value": 1}, ["file_red"]),
        ({"type": "nin", "key": "n", "value": [1]}, ["file_blue"]),
        (
            {
                "type": "or",
                "filters": [
                    {"type": "eq", "key": "team", "value": "blue"},
                    {"type": "in", "key": "n", "value": [1, 2]},
                ],
            },
            ["file_blue", "file_red"],
        ),
    ],
)
async def test_attribute_filters(spec: dict[str, object], files: list[str]) -> None:
    index = await indexed()
    hits = await index.search("t", ["vs_1"], ([1, 2, 4], [1.0, 1.0, 1.0]), None, 10, spec, None)
    assert sorted({h.file_id for h in hits}) == files


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "near", "key": "team", "value": "red"},
        {"type": "gt", "key": "team", "value": "red"},
        {"type": "in", "key": "team", "value": "red"},
        {"type": "and", "filters": []},
        {"type": "eq", "value": "red"},
    ],
)
async def test_malformed_filters_raise(spec: dict[str, object]) -> None:
    index = await indexed()
    with pytest.raises(ValueError):
        await index.search("t", ["vs_1"], ([2], [1.0]), None, 10, spec, None)


async def test_files_are_replaced_updated_and_deleted() -> None:
    index = await indexed()
    assert await index.file_chunks("t", "vs_1", "file_red") == ["red apples", "red cherries"]
    await index.upsert_file("t", "vs_1", "file_red", "red.txt", {}, [chunk("new", {5: 1.0})])
    assert await index.file_chunks("t", "vs_1", "file_red") == ["new"]
    await index.update_attributes("t", "vs_1", "file_blue", {"team": "green"})
    [hit] = await index.search("t", ["vs_1"], ([4], [1.0]), None, 10, None, None)
    assert hit.attributes == {"team": "green"}
    await index.delete_file("t", "vs_1", "file_red")
    assert await index.file_chunks("t", "vs_1", "file_red") == []
    await index.delete_store("t", "vs_1")
    assert await index.search("t", ["vs_1"], ([4], [1.0]), None, 10, None, None) == []
    assert await index.file_chunks("u", "vs_1", "file_theirs") == ["apples"]
