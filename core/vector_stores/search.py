"""Searching vector stores: the one search both `/vector_stores/{id}/search` and the
`file_search` tool run, over options validated by `SearchOptions`."""

from __future__ import annotations

import logging
import math

from core.common.errors import ServerError
from core.ports import Hit, Stores
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.ingestion.lexical import sparse_query
from core.vector_stores.models import SearchOptions

__all__ = ["search_chunks"]

log = logging.getLogger(__name__)

_BM25_HALF = 5.0  # a lexical score of 5 maps to 0.5 on the 0..1 scale clients expect


async def search_chunks(
    stores: Stores,
    embedder: EmbeddingsClient | None,
    tenant: str,
    store_ids: list[str],
    queries: list[str],
    options: SearchOptions,
) -> list[Hit]:
    """The best chunks for the queries across the stores, scores on a 0..1 scale.

    Each query is searched on its own and a chunk keeps its best score. Lexical-only
    scores (BM25, unbounded) are mapped to 0..1 as s / (s + 5); hybrid scores are
    already fused ranks in 0..1.
    """
    limit = options.max_num_results
    filters = options.filter_dict()
    dense = await embedder.embed(queries) if embedder is not None else [None] * len(queries)
    best: dict[tuple[str, int], Hit] = {}
    for query, vector in zip(queries, dense, strict=True):
        try:
            hits = await stores.chunks.search(
                tenant, store_ids, sparse_query(query), vector, limit, filters, options.weights
            )
        except Exception as error:
            # The request was validated: whatever the index refuses now (a dense size
            # that does not match the collection, say) is the operator's to fix.
            log.error("searching the chunk index failed", exc_info=error)
            raise ServerError("The vector store search failed.") from None
        for hit in hits:
            if vector is None:
                score = hit.score / (hit.score + _BM25_HALF)
            else:
                # Fused ranks are in 0..1; a query with no lexical terms is dense-only
                # and scores cosine similarity, which can fall outside it.
                score = min(1.0, max(0.0, hit.score))
            key = (hit.file_id, hit.chunk_index)
            if key not in best or best[key].score < score:
                best[key] = Hit(
                    hit.file_id, hit.filename, score, hit.attributes, hit.text, hit.chunk_index
                )
    ranked = sorted(best.values(), key=lambda hit: -hit.score)
    threshold = options.threshold
    return [hit for hit in ranked if hit.score >= threshold and not math.isnan(hit.score)][:limit]
