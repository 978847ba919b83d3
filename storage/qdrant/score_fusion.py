"""Weighted fusion of a dense and a lexical ranking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["weighted_fusion"]


class Scored(Protocol):
    """A scored point of either engine (qdrant-client's or the embedded one's)."""

    @property
    def id(self) -> Any: ...

    @property
    def score(self) -> float: ...

    @property
    def payload(self) -> dict[str, Any] | None: ...


def weighted_fusion(
    by_dense: Sequence[Scored],
    by_lexical: Sequence[Scored],
    weights: tuple[float, float],
) -> list[tuple[float, dict[str, Any]]]:
    """Fuse two rankings as `dense_weight * dense + lexical_weight * lexical`.

    Cosine and IDF dot-product scores live on unrelated scales, so each list is min-max
    normalised to [0, 1] first, and a chunk missing from a list counts 0 there. The lexical
    minimum is 0, the score of any chunk without a query term: taking the list's own minimum
    would make its weakest match worth no more than no match at all. The dense list ranks
    every chunk, so its own minimum stands for the ones it left out. Fused scores rank
    within one query; they are not comparable across queries.
    """
    fused: dict[Any, float] = {}
    payloads: dict[Any, dict[str, Any]] = {}
    for weight, points, floor in ((weights[0], by_dense, None), (weights[1], by_lexical, 0.0)):
        if not points:
            continue
        scores = [point.score for point in points]
        low = min(scores) if floor is None else min(floor, *scores)
        spread = max(scores) - low
        for point in points:
            normalised = (point.score - low) / spread if spread > 0 else 1.0
            fused[point.id] = fused.get(point.id, 0.0) + weight * normalised
            payloads[point.id] = point.payload or {}
    ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)
    return [(score, payloads[point_id]) for point_id, score in ranked]
