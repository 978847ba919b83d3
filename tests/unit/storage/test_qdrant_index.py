"""The chunk-index contract, run against both engines: `QdrantChunkIndex` (qdrant-client,
whose local mode stands in for a Qdrant server here) and `EdgeChunkIndex` (the embedded
engine): ranking, scoping, attribute filters, re-ingestion, hybrid fusion, persistence."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.qdrant.edge_index import EdgeChunkIndex
from storage.qdrant.index import Chunk, Hit, IndexLockedError, QdrantChunkIndex

DENSE_SIZE = 4

AnyIndex = QdrantChunkIndex | EdgeChunkIndex


def open_index(engine: str, path: Path, dense_size: int | None = None) -> AnyIndex:
    """An unstarted index of the given engine in `path`."""
    if engine == "server":
        return QdrantChunkIndex(path=path, dense_size=dense_size)
    return EdgeChunkIndex(path=path, dense_size=dense_size)


@pytest.fixture(params=["server", "embedded"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def sparse(text: str) -> tuple[list[int], list[float]]:
    """Term frequencies keyed by a hash of each word (collisions summed)."""
    counts: Counter[int] = Counter()
    for word in re.findall(r"\w+", text.lower()):
        counts[zlib.crc32(word.encode()) % 1_000_003] += 1
    indices = sorted(counts)
    return indices, [float(counts[index]) for index in indices]


def chunk(text: str, dense: list[float] | None = None) -> Chunk:
    return Chunk(text=text, sparse=sparse(text), dense=dense)


@pytest.fixture
async def index(engine: str, tmp_path: Path) -> AsyncIterator[AnyIndex]:
    chunk_index = open_index(engine, tmp_path / "lexical")
    await chunk_index.start()
    yield chunk_index
    await chunk_index.close()


@pytest.fixture
async def hybrid_index(engine: str, tmp_path: Path) -> AsyncIterator[AnyIndex]:
    chunk_index = open_index(engine, tmp_path / "hybrid", DENSE_SIZE)
    await chunk_index.start()
    yield chunk_index
    await chunk_index.close()


async def find(
    index: AnyIndex,
    query: str,
    *,
    tenant: str = "t1",
    stores: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    limit: int = 10,
) -> list[Hit]:
    return await index.search(tenant, stores or ["vs1"], sparse(query), None, limit, filters)


async def test_collection_names(tmp_path: Path) -> None:
    assert QdrantChunkIndex(path=tmp_path / "a").collection_name == "openresponses_chunks_lexical"
    assert QdrantChunkIndex(path=tmp_path / "b", dense_size=384).collection_name == (
        "openresponses_chunks_d384"
    )
    with pytest.raises(ValueError, match="exactly one"):
        QdrantChunkIndex()


async def test_chunk_with_the_query_words_ranks_first(index: AnyIndex) -> None:
    await index.upsert_file(
        "t1",
        "vs1",
        "file-a",
        "a.txt",
        {"lang": "en"},
        [
            chunk("The weather today is sunny and warm."),
            chunk("Quarterly revenue grew by twelve percent in the north region."),
            chunk("Revenue is discussed elsewhere."),
        ],
    )
    await index.upsert_file(
        "t1", "vs1", "file-b", "b.txt", {}, [chunk("Cats sleep most of the day.")]
    )
    hits = await find(index, "north region revenue")
    assert [(hit.file_id, hit.chunk_index) for hit in hits] == [("file-a", 1), ("file-a", 2)]
    first = hits[0]
    assert first.filename == "a.txt"
    assert first.attributes == {"lang": "en"}
    assert first.text.startswith("Quarterly revenue")
    assert hits[0].score > hits[1].score > 0
    assert await find(index, "unrelated zebra") == []
    top = await find(index, "north revenue region", limit=1)
    assert [(hit.file_id, hit.chunk_index) for hit in top] == [("file-a", 1)]


async def test_tenants_are_isolated(index: AnyIndex) -> None:
    await index.upsert_file("t1", "vs1", "file-1", "one.txt", {}, [chunk("shared secret words")])
    await index.upsert_file("t2", "vs1", "file-2", "two.txt", {}, [chunk("shared secret words")])
    assert [hit.file_id for hit in await find(index, "secret", tenant="t1")] == ["file-1"]
    assert [hit.file_id for hit in await find(index, "secret", tenant="t2")] == ["file-2"]
    assert await index.count("t1", "vs1") == 1
    await index.delete_store("t2", "vs1")
    assert await index.count("t1", "vs1") == 1
    assert await index.count("t2", "vs1") == 0


async def test_search_is_restricted_to_the_given_stores(index: AnyIndex) -> None:
    for store in ("vs1", "vs2", "vs3"):
        await index.upsert_file("t1", store, f"file-{store}", "f.txt", {}, [chunk("apple pie")])
    found = await find(index, "apple", stores=["vs1", "vs3"])
    assert sorted(hit.file_id for hit in found) == ["file-vs1", "file-vs3"]
    assert await index.search("t1", [], sparse("apple"), None, 10, None) == []


LIBRARY: dict[str, dict[str, Any]] = {
    "f1": {"author": "ann", "year": 2021, "draft": True, "rating": 4.5},
    "f2": {"author": "bob", "year": 2022, "draft": False, "rating": 3.0},
    "f3": {"author": "ann", "year": 2023, "draft": False, "rating": 2.25},
    "f4": {"year": 2024},
}


@pytest.fixture
async def library(index: AnyIndex) -> AnyIndex:
    for file_id, attributes in LIBRARY.items():
        text = f"annual report number {file_id}"
        await index.upsert_file("t1", "vs1", file_id, f"{file_id}.md", attributes, [chunk(text)])
    return index


def eq(key: str, value: Any, kind: str = "eq") -> dict[str, Any]:
    return {"type": kind, "key": key, "value": value}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (eq("author", "ann"), {"f1", "f3"}),
        (eq("author", "ann", "ne"), {"f2", "f4"}),  # no author is "not ann"
        (eq("year", 2022), {"f2"}),
        (eq("year", 2022.0), {"f2"}),
        (eq("rating", 2.25), {"f3"}),
        (eq("draft", True), {"f1"}),
        (eq("draft", False), {"f2", "f3"}),
        (eq("draft", True, "ne"), {"f2", "f3", "f4"}),
        (eq("year", 2022, "gt"), {"f3", "f4"}),
        (eq("year", 2022, "gte"), {"f2", "f3", "f4"}),
        (eq("year", 2022, "lt"), {"f1"}),
        (eq("year", 2022, "lte"), {"f1", "f2"}),
        (eq("rating", 3, "gte"), {"f1", "f2"}),
        (eq("author", ["bob", "carl"], "in"), {"f2"}),
        (eq("author", ["bob", "carl"], "nin"), {"f1", "f3", "f4"}),
        (eq("year", [2021, 2024], "in"), {"f1", "f4"}),
        (eq("year", [2021, 2024], "nin"), {"f2", "f3"}),
        (eq("author", [], "in"), set()),
        (eq("author", [], "nin"), {"f1", "f2", "f3", "f4"}),
        ({"type": "and", "filters": [eq("author", "ann"), eq("year", 2022, "gt")]}, {"f3"}),
        ({"type": "or", "filters": [eq("author", "bob"), eq("draft", True)]}, {"f1", "f2"}),
        (
            {
                "type": "or",
                "filters": [
                    {"type": "and", "filters": [eq("author", "ann"), eq("draft", False)]},
                    {"type": "and", "filters": [eq("year", 2024), eq("author", "x", "ne")]},
                ],
            },
            {"f3", "f4"},
        ),
        (
            {
                "type": "and",
                "filters": [
                    {"type": "or", "filters": [eq("rating", 3.0, "lt"), eq("year", 2024)]},
                    eq("year", [2023], "nin"),
                ],
            },
            {"f4"},
        ),
    ],
)
async def test_attribute_filters(
    library: AnyIndex, filters: dict[str, Any], expected: set[str]
) -> None:
    hits = await find(library, "annual report", filters=filters)
    assert {hit.file_id for hit in hits} == expected


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"type": "like", "key": "a", "value": "b"}, "unknown filter type"),
        ({"key": "a", "value": "b"}, "unknown filter type"),
        ({"type": "eq", "value": "b"}, "non-empty string 'key'"),
        ({"type": "eq", "key": "a"}, "needs a 'value'"),
        ({"type": "gt", "key": "a", "value": "b"}, "compares numbers"),
        ({"type": "gt", "key": "a", "value": True}, "compares numbers"),
        ({"type": "eq", "key": "a", "value": ["b"]}, "strings, numbers or booleans"),
        ({"type": "eq", "key": "a", "value": None}, "strings, numbers or booleans"),
        ({"type": "in", "key": "a", "value": "b"}, "needs a list"),
        ({"type": "in", "key": "a", "value": [{"x": 1}]}, "strings, numbers or booleans"),
        ({"type": "and", "filters": []}, "non-empty 'filters'"),
        ({"type": "or"}, "non-empty 'filters'"),
        ({"type": "or", "filters": ["eq"]}, "must be an object"),
    ],
)
async def test_malformed_filters_raise(
    library: AnyIndex, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await find(library, "report", filters=filters)


async def test_deeply_nested_filters_are_refused(library: AnyIndex) -> None:
    filters: dict[str, Any] = eq("author", "ann")
    for _ in range(40):
        filters = {"type": "and", "filters": [filters]}
    with pytest.raises(ValueError, match="nest deeper"):
        await find(library, "report", filters=filters)


async def test_attribute_keys_with_path_characters_stay_distinct(index: AnyIndex) -> None:
    await index.upsert_file("t1", "vs1", "dot", "d", {"a.b": 1}, [chunk("same words")])
    await index.upsert_file("t1", "vs1", "dash", "d", {"a-b": 1}, [chunk("same words")])
    await index.upsert_file("t1", "vs1", "nest", "d", {"a": {"b": 1}}, [chunk("same words")])
    for key, file_id in (("a.b", "dot"), ("a-b", "dash")):
        hits = await find(index, "same", filters=eq(key, 1))
        assert [hit.file_id for hit in hits] == [file_id]


async def test_reupsert_with_fewer_chunks_leaves_nothing_stale(index: AnyIndex) -> None:
    old = [chunk(f"old chunk {n} pineapple") for n in range(5)]
    await index.upsert_file("t1", "vs1", "file", "v1.txt", {"v": 1}, old)
    await index.upsert_file("t1", "vs1", "file", "v1.txt", {"v": 1}, old)  # no duplicates
    assert await index.count("t1", "vs1") == 5
    new = [chunk("new first mango"), chunk("new second mango")]
    await index.upsert_file("t1", "vs1", "file", "v2.txt", {"v": 2}, new)
    assert await index.count("t1", "vs1") == 2
    assert await index.file_chunks("t1", "vs1", "file") == ["new first mango", "new second mango"]
    assert await find(index, "pineapple") == []
    hits = await find(index, "mango")
    assert {(hit.filename, hit.attributes["v"]) for hit in hits} == {("v2.txt", 2)}


async def test_delete_file_and_store(index: AnyIndex) -> None:
    await index.upsert_file("t1", "vs1", "f1", "a", {}, [chunk("kiwi"), chunk("kiwi two")])
    await index.upsert_file("t1", "vs1", "f2", "b", {}, [chunk("kiwi three")])
    await index.upsert_file("t1", "vs2", "f3", "c", {}, [chunk("kiwi four")])
    await index.delete_file("t1", "vs1", "f1")
    assert [hit.file_id for hit in await find(index, "kiwi")] == ["f2"]
    assert await index.file_chunks("t1", "vs1", "f1") == []
    await index.delete_store("t1", "vs1")
    assert await index.count("t1", "vs1") == 0
    assert await find(index, "kiwi") == []
    assert [hit.file_id for hit in await find(index, "kiwi", stores=["vs2"])] == ["f3"]


async def test_update_attributes_changes_filter_results(library: AnyIndex) -> None:
    await library.update_attributes("t1", "vs1", "f1", {"author": "zoe", "topic": "birds"})
    assert {hit.file_id for hit in await find(library, "report", filters=eq("author", "ann"))} == {
        "f3"
    }
    assert [hit.file_id for hit in await find(library, "report", filters=eq("author", "zoe"))] == [
        "f1"
    ]
    assert [hit.file_id for hit in await find(library, "report", filters=eq("topic", "birds"))] == [
        "f1"
    ]
    # removed keys no longer match, whatever their old value
    assert "f1" not in {
        hit.file_id for hit in await find(library, "report", filters=eq("draft", True))
    }
    assert "f1" not in {
        hit.file_id for hit in await find(library, "report", filters=eq("year", 0, "gt"))
    }
    hits = await find(library, "report", filters=eq("topic", "birds"))
    assert hits[0].attributes == {"author": "zoe", "topic": "birds"}
    assert await library.file_chunks("t1", "vs1", "f1") == ["annual report number f1"]


async def test_file_chunks_in_order_across_pages(index: AnyIndex) -> None:
    texts = [f"part {n}" for n in range(300)]
    await index.upsert_file("t1", "vs1", "long", "long.txt", {}, [chunk(t) for t in texts])
    assert await index.file_chunks("t1", "vs1", "long") == texts
    assert await index.file_chunks("t2", "vs1", "long") == []
    assert await index.count("t1", "vs1") == 300


async def test_vectors_are_checked(index: AnyIndex, hybrid_index: AnyIndex) -> None:
    with pytest.raises(ValueError, match="lexical only"):
        await index.upsert_file("t1", "vs1", "f", "f", {}, [chunk("x", [1.0, 0, 0, 0])])
    with pytest.raises(ValueError, match="dimensions"):
        await hybrid_index.upsert_file("t1", "vs1", "f", "f", {}, [chunk("x", [1.0])])
    with pytest.raises(ValueError, match="as many values"):
        await index.search("t1", ["vs1"], ([1, 2], [1.0]), None, 5, None)


async def hybrid_library(hybrid_index: AnyIndex) -> None:
    await hybrid_index.upsert_file(
        "t1",
        "vs1",
        "file",
        "f.txt",
        {"kind": "doc"},
        [
            # lexical favourite: the query word three times, dense far away
            chunk("otter otter otter", [1.0, 0.0, 0.0, 0.0]),
            # dense favourite: no query word at all
            chunk("aquatic mammal", [0.0, 1.0, 0.0, 0.0]),
            # decent on both sides
            chunk("otter habitat", [0.2, 0.9, 0.1, 0.0]),
            chunk("unrelated lichen", [0.0, 0.0, 0.0, 1.0]),
        ],
    )
    # chunks may lack either vector: no embedding, or no terms
    await hybrid_index.upsert_file(
        "t1",
        "vs2",
        "partial",
        "p.txt",
        {},
        [chunk("lonely otter"), Chunk(text="...", sparse=([], []), dense=[0.0, 0.0, 1.0, 0.0])],
    )


async def test_hybrid_reciprocal_rank_fusion(hybrid_index: AnyIndex) -> None:
    await hybrid_library(hybrid_index)
    query_dense = [0.0, 1.0, 0.0, 0.0]
    hits = await hybrid_index.search("t1", ["vs1"], sparse("otter"), query_dense, 3, None)
    # Qdrant's RRF (k=2) rewards a first place: the lexical and the dense favourites both
    # make the top 3, the chunk without the query word included, and the weak one does not
    assert [hit.text for hit in hits] == ["otter otter otter", "otter habitat", "aquatic mammal"]
    both = await hybrid_index.search("t1", ["vs1", "vs2"], sparse("otter"), query_dense, 10, None)
    assert {hit.text for hit in both} >= {"lonely otter", "..."}
    assert await hybrid_index.file_chunks("t1", "vs2", "partial") == ["lonely otter", "..."]
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    # dense only when the query has no terms; lexical only without a dense query
    dense_only = await hybrid_index.search("t1", ["vs1"], ([], []), query_dense, 1, None)
    assert [hit.text for hit in dense_only] == ["aquatic mammal"]
    lexical_only = await hybrid_index.search("t1", ["vs1"], sparse("otter"), None, 1, None)
    assert [hit.text for hit in lexical_only] == ["otter otter otter"]
    filtered = await hybrid_index.search(
        "t1", ["vs1"], sparse("otter"), query_dense, 3, eq("kind", "other")
    )
    assert filtered == []


async def test_hybrid_weighted_fusion(hybrid_index: AnyIndex) -> None:
    await hybrid_library(hybrid_index)
    query_dense = [0.0, 1.0, 0.0, 0.0]

    async def ranked(weights: tuple[float, float]) -> list[Hit]:
        return await hybrid_index.search(
            "t1", ["vs1"], sparse("otter"), query_dense, 4, None, weights
        )

    by_dense = await ranked((1.0, 0.0))
    assert by_dense[0].text == "aquatic mammal"
    assert by_dense[0].score == pytest.approx(1.0)
    by_lexical = await ranked((0.0, 1.0))
    assert by_lexical[0].text == "otter otter otter"
    balanced = await ranked((0.5, 0.5))
    assert balanced[0].text == "otter habitat"
    assert all(0.0 <= hit.score <= 1.0 for hit in balanced)
    with pytest.raises(ValueError, match="weights"):
        await ranked((0.0, 0.0))


async def test_index_survives_close_and_reopen(engine: str, tmp_path: Path) -> None:
    path = tmp_path / "persistent"
    first = open_index(engine, path, DENSE_SIZE)
    await first.start()
    await first.upsert_file(
        "t1", "vs1", "file", "keep.txt", {"n": 1}, [chunk("durable walnut", [1.0, 0, 0, 0])]
    )
    before = await first.search("t1", ["vs1"], sparse("walnut"), [1.0, 0, 0, 0], 5, None)
    await first.close()
    await first.close()  # idempotent

    again = open_index(engine, path, DENSE_SIZE)
    await again.start()
    try:
        after = await again.search("t1", ["vs1"], sparse("walnut"), [1.0, 0, 0, 0], 5, eq("n", 1))
        assert after == before
        assert after[0].filename == "keep.txt"
        assert await again.count("t1", "vs1") == 1
    finally:
        await again.close()


async def test_second_index_on_the_same_path_is_refused(
    engine: str, index: AnyIndex, tmp_path: Path
) -> None:
    second = open_index(engine, tmp_path / "lexical")
    with pytest.raises(IndexLockedError, match="already open"):
        await second.start()
    await second.close()
    await index.close()
    third = open_index(engine, tmp_path / "lexical")
    await third.start()  # free again once the holder closed
    await third.close()


async def test_calls_after_close_fail_clearly(engine: str, tmp_path: Path) -> None:
    closed = open_index(engine, tmp_path / "closed")
    await closed.start()
    await closed.close()
    with pytest.raises(RuntimeError):
        await closed.count("t1", "vs1")
