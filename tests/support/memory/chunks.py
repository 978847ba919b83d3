"""The chunk index in memory: the `ChunkIndex` contract with a plain scorer.

Scores are not Qdrant's: lexical is the dot product of the query's and the chunk's sparse
vectors (no IDF); with a dense query too, it is the weighted sum (`weights`, half and half
by default) of the cosine and the lexical score scaled to the best one. Chunks that score
nothing are not hits. Attribute filters follow the OpenAI filter semantics of
`storage.qdrant.filters`: `ne` and `nin` keep chunks without the attribute, and a malformed
filter raises ValueError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core.ports import Chunk, Hit

__all__ = ["MemoryChunkIndex", "matches"]

_COMPARISONS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})


@dataclass
class _File:
    filename: str
    attributes: dict[str, Any]
    chunks: list[Chunk]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _equal(have: Any, want: Any) -> bool:
    if _number(want):
        return _number(have) and float(have) == float(want)
    return type(have) is type(want) and have == want


def matches(spec: Any, attributes: dict[str, Any]) -> bool:
    """Whether attributes pass an OpenAI attribute filter; ValueError when it is malformed."""
    if not isinstance(spec, dict):
        raise ValueError(f"a filter must be an object, not {type(spec).__name__}")
    kind = spec.get("type")
    if kind in ("and", "or"):
        parts = spec.get("filters")
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"an '{kind}' filter needs a non-empty 'filters' list")
        results = [matches(part, attributes) for part in parts]  # validates every part
        return all(results) if kind == "and" else any(results)
    if kind not in _COMPARISONS:
        raise ValueError(f"unknown filter type {kind!r}")
    key = spec.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"a '{kind}' filter needs a non-empty string 'key'")
    if "value" not in spec:
        raise ValueError(f"the '{kind}' filter on '{key}' needs a 'value'")
    value, present = spec["value"], key in attributes
    have: Any = attributes.get(key)
    if kind in ("gt", "gte", "lt", "lte"):
        if not _number(value):
            raise ValueError(f"the '{kind}' filter on '{key}' compares numbers, not {value!r}")
        if not (present and _number(have)):
            return False
        number, bound = float(have), float(value)
        above, below = number > bound, number < bound
        return {"gt": above, "gte": not below, "lt": below, "lte": not above}[str(kind)]
    choices = [value] if kind in ("eq", "ne") else value
    if not isinstance(choices, list):
        raise ValueError(f"the '{kind}' filter on '{key}' needs a list value")
    for choice in choices:
        if not (isinstance(choice, str | bool) or _number(choice)):
            raise ValueError(f"the '{kind}' filter on '{key}' takes strings, numbers or booleans")
    hit = present and any(_equal(have, choice) for choice in choices)
    return hit if kind in ("eq", "in") else not hit


def _dot(query: tuple[list[int], list[float]], chunk: tuple[list[int], list[float]]) -> float:
    weights = dict(zip(*chunk, strict=True))
    return sum(value * weights.get(index, 0.0) for index, value in zip(*query, strict=True))


def _cosine(a: list[float], b: list[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


class MemoryChunkIndex:
    def __init__(self) -> None:
        self._files: dict[tuple[str, str, str], _File] = {}

    async def ping(self) -> None:
        return None

    async def upsert_file(
        self,
        tenant: str,
        vector_store_id: str,
        file_id: str,
        filename: str,
        attributes: dict[str, Any],
        chunks: list[Chunk],
    ) -> None:
        self._files[(tenant, vector_store_id, file_id)] = _File(
            filename, dict(attributes), list(chunks)
        )

    async def delete_file(self, tenant: str, vector_store_id: str, file_id: str) -> None:
        self._files.pop((tenant, vector_store_id, file_id), None)

    async def delete_store(self, tenant: str, vector_store_id: str) -> None:
        for key in [k for k in self._files if k[:2] == (tenant, vector_store_id)]:
            del self._files[key]

    async def update_attributes(
        self, tenant: str, vector_store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None:
        found = self._files.get((tenant, vector_store_id, file_id))
        if found is not None:
            found.attributes = dict(attributes)

    async def file_chunks(self, tenant: str, vector_store_id: str, file_id: str) -> list[str]:
        found = self._files.get((tenant, vector_store_id, file_id))
        return [] if found is None else [chunk.text for chunk in found.chunks]

    async def search(
        self,
        tenant: str,
        vector_store_ids: list[str],
        sparse: tuple[list[int], list[float]],
        dense: list[float] | None,
        limit: int,
        filters: dict[str, Any] | None,
        score_threshold: float | None,
        weights: tuple[float, float] | None = None,
    ) -> list[Hit]:
        if limit < 1:
            raise ValueError(f"limit must be positive, not {limit}")
        if weights is not None and (min(weights) < 0 or sum(weights) <= 0):
            raise ValueError("weights must be non-negative and not both zero")
        if filters is not None:
            matches(filters, {})  # a malformed filter fails even with nothing to search
        scored: list[tuple[float, float, str, int, _File]] = []
        for (owner, store_id, file_id), file in self._files.items():
            if owner != tenant or store_id not in vector_store_ids:
                continue
            if filters is not None and not matches(filters, file.attributes):
                continue
            for index, chunk in enumerate(file.chunks):
                lexical = _dot(sparse, chunk.sparse)
                close = _cosine(dense, chunk.dense) if dense and chunk.dense else 0.0
                scored.append((lexical, close, file_id, index, file))
        best_lexical = max((row[0] for row in scored), default=0.0)
        dense_weight, lexical_weight = weights or (0.5, 0.5)
        hits = []
        for lexical, close, file_id, index, file in scored:
            if dense is None:
                score = lexical
            else:
                scaled = lexical / best_lexical if best_lexical > 0 else 0.0
                score = dense_weight * close + lexical_weight * scaled
            if score <= 0 or (score_threshold is not None and score < score_threshold):
                continue
            text = file.chunks[index].text
            hits.append(Hit(file_id, file.filename, score, dict(file.attributes), text, index))
        hits.sort(key=lambda hit: (-hit.score, hit.file_id, hit.chunk_index))
        return hits[:limit]
