"""Unit tests: `core.vector_stores.search.search_chunks` over a stub index: scores,
threshold and limit, and an index failure reported as the server's fault."""

from __future__ import annotations

from typing import Any, cast

import pytest

from core.common.errors import ServerError
from core.common.models import parse
from core.ports import Hit, Stores
from core.vector_stores.models import SearchOptions
from core.vector_stores.search import search_chunks


class StubIndex:
    def __init__(self, hits: list[Hit] | Exception) -> None:
        self.hits = hits
        self.calls: list[tuple[Any, ...]] = []

    async def search(self, *args: Any) -> list[Hit]:
        self.calls.append(args)
        if isinstance(self.hits, Exception):
            raise self.hits
        return self.hits


class StubStores:
    def __init__(self, index: StubIndex) -> None:
        self.chunks = index


def hit(file_id: str, score: float, index: int = 0) -> Hit:
    return Hit(file_id, f"{file_id}.txt", score, {}, "text", index)


async def search(index: StubIndex, **options: Any) -> list[Hit]:
    stores = cast(Stores, StubStores(index))
    return await search_chunks(stores, None, "t", ["vs"], ["q"], parse(SearchOptions, options))


async def test_scores_threshold_and_limit() -> None:
    index = StubIndex([hit("a", 15.0), hit("b", 5.0), hit("c", 1.0)])
    found = await search(index, max_num_results=2, ranking_options={"score_threshold": 0.4})
    assert [(h.file_id, h.score) for h in found] == [("a", 0.75), ("b", 0.5)]
    filters = {"type": "eq", "key": "k", "value": 1}
    await search(index, filters=filters, ranking_options={"hybrid_search": {
        "embedding_weight": 1, "text_weight": 2}})  # fmt: skip
    assert index.calls[-1][-2:] == (filters, (1.0, 2.0))


@pytest.mark.parametrize("failure", [ValueError("dense vector has 3 dimensions"), OSError()])
async def test_index_failures_are_server_errors(failure: Exception) -> None:
    with pytest.raises(ServerError) as failed:
        await search(StubIndex(failure))
    assert (failed.value.status, failed.value.type_) == (500, "server_error")
    assert "dimensions" not in failed.value.message
