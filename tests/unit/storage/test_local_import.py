"""A data dir written by the old qdrant-client local-mode index is carried over into the
embedded engine on first start, once, keeping the old files."""

from __future__ import annotations

from pathlib import Path

from storage.qdrant.edge_index import EdgeChunkIndex
from storage.qdrant.index import Chunk, QdrantChunkIndex
from storage.qdrant.local_import import import_local_mode

DENSE = [1.0, 0.0, 0.0, 0.0]


def chunk(text: str, index: int) -> Chunk:
    return Chunk(text=text, sparse=([index, 10_000], [1.0, 0.5]), dense=DENSE)


async def test_old_local_mode_chunks_are_imported_once(tmp_path: Path) -> None:
    old_dir = tmp_path / "qdrant"
    old = QdrantChunkIndex(path=old_dir, dense_size=4)
    await old.start()
    texts = [f"chunk {n}" for n in range(1500)]  # more than one page of the copy
    await old.upsert_file(
        "t1", "vs1", "file-1", "a.txt", {"draft": True, "year": 2024},
        [chunk(text, n) for n, text in enumerate(texts)],
    )  # fmt: skip
    await old.upsert_file("t2", "vs9", "file-2", "b.txt", {}, [chunk("other tenant", 7)])
    await old.close()

    index = EdgeChunkIndex(path=tmp_path / "vectors", dense_size=4)
    await index.start()
    try:
        assert await import_local_mode(old_dir, index) == 1501
        assert not old_dir.exists() and (tmp_path / "qdrant.imported").is_dir()
        assert await index.file_chunks("t1", "vs1", "file-1") == texts
        assert await index.count("t2", "vs9") == 1
        # vectors and attributes came along: lexical, dense and filters still find them
        [hit] = await index.search("t1", ["vs1"], ([3], [1.0]), None, 1, None)
        assert (hit.text, hit.filename, hit.attributes) == (
            "chunk 3", "a.txt", {"draft": True, "year": 2024},
        )  # fmt: skip
        draft = {"type": "eq", "key": "draft", "value": True}
        dense_hits = await index.search("t1", ["vs1"], ([], []), DENSE, 5, draft)
        assert len(dense_hits) == 5
        not_draft = {"type": "eq", "key": "draft", "value": False}
        assert await index.search("t1", ["vs1"], ([], []), DENSE, 5, not_draft) == []
        # nothing left to import the next time
        assert await import_local_mode(old_dir, index) == 0
    finally:
        await index.close()


async def test_an_old_index_of_another_embedding_size_is_left_in_place(tmp_path: Path) -> None:
    old_dir = tmp_path / "qdrant"
    old = QdrantChunkIndex(path=old_dir)  # lexical only
    await old.start()
    await old.upsert_file("t1", "vs1", "f", "f.txt", {}, [Chunk("kept", ([1], [1.0]), None)])
    await old.close()
    index = EdgeChunkIndex(path=tmp_path / "vectors", dense_size=4)
    await index.start()
    try:
        assert await import_local_mode(old_dir, index) == 0
        assert await index.count("t1", "vs1") == 0
        assert old_dir.is_dir()
    finally:
        await index.close()
    lexical = EdgeChunkIndex(path=tmp_path / "vectors")  # the configuration it was made with
    await lexical.start()
    try:
        assert await import_local_mode(old_dir, lexical) == 1
        assert await lexical.file_chunks("t1", "vs1", "f") == ["kept"]
    finally:
        await lexical.close()
