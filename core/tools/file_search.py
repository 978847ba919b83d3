"""The `file_search` tool, run by the gateway over its own vector stores.

The backend is offered a plain function tool of the same name; when the model calls it,
the gateway searches and answers with the results, and the client sees a
`file_search_call` item where the function call was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.ids import new_id
from core.common.validation import invalid_type
from core.ports import Stores
from core.vector_stores.api import search_chunks
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.objects import store_not_found

__all__ = ["FUNCTION", "FUNCTION_NAME", "FileSearchTool", "file_search_tool"]

FUNCTION_NAME = "file_search"
FUNCTION = {
    "type": "function",
    "name": FUNCTION_NAME,
    "description": "Search the user's uploaded files for passages relevant to the request. "
    "Use it whenever the answer may be in those files.",
    "parameters": {
        "type": "object",
        "properties": {
            "queries": {
                "type": "array",
                "items": {"type": "string"},
                "description": "One or more search queries.",
            }
        },
        "required": ["queries"],
    },
}


@dataclass(frozen=True, slots=True)
class FileSearchTool:
    store_ids: list[str]
    max_num_results: int
    filters: dict[str, Any] | None
    score_threshold: float
    weights: tuple[float, float] | None

    async def run(
        self,
        stores: Stores,
        embedder: EmbeddingsClient | None,
        tenant: str,
        call: dict[str, Any],
    ) -> tuple[dict[str, Any], str, dict[str, str]]:
        """The `file_search_call` item (with its results), the output the model gets, and
        the files found (id -> filename), for citations."""
        try:
            arguments = orjson.loads(call.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            arguments = {}
        queries = arguments.get("queries") if isinstance(arguments, dict) else None
        if isinstance(queries, str):
            queries = [queries]
        if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            queries = []
        queries = [q for q in queries if q.strip()]
        hits = []
        if queries:
            hits = await search_chunks(
                stores, embedder, tenant, self.store_ids, queries,
                self.max_num_results, self.filters, self.score_threshold, self.weights,
            )  # fmt: skip
        results = [
            {
                "file_id": hit.file_id,
                "filename": hit.filename,
                "score": hit.score,
                "text": hit.text,
                "attributes": hit.attributes,
            }
            for hit in hits
        ]
        item = {
            "id": new_id("fs"),
            "type": "file_search_call",
            "status": "completed",
            "queries": queries,
            "results": results,
        }
        output = orjson.dumps(
            [
                {"file_id": r["file_id"], "filename": r["filename"], "text": r["text"]}
                for r in results
            ]
        ).decode()
        return item, output, {hit.file_id: hit.filename for hit in hits}


async def file_search_tool(
    stores: Stores, tenant: str, tool: dict[str, Any], param: str
) -> FileSearchTool:
    store_ids = tool.get("vector_store_ids")
    if not isinstance(store_ids, list) or not store_ids:
        raise InvalidRequestError(
            f"Missing required parameter: '{param}.vector_store_ids'.",
            param=f"{param}.vector_store_ids",
            code="missing_required_parameter",
        )
    for store_id in store_ids:
        if (
            not isinstance(store_id, str)
            or await stores.vector_stores.get_store(tenant, store_id) is None
        ):
            raise store_not_found(str(store_id), param=f"{param}.vector_store_ids")
    limit = tool.get("max_num_results", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 50:
        raise InvalidRequestError(
            f"Invalid '{param}.max_num_results': expected an integer from 1 to 50.",
            param=f"{param}.max_num_results",
            code="invalid_value",
        )
    filters = tool.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise invalid_type(f"{param}.filters", "an object", filters)
    ranking = tool.get("ranking_options") or {}
    threshold = ranking.get("score_threshold", 0.0) if isinstance(ranking, dict) else 0.0
    hybrid = ranking.get("hybrid_search") if isinstance(ranking, dict) else None
    weights = None
    if isinstance(hybrid, dict):
        weights = (
            float(hybrid.get("embedding_weight", 1.0)),
            float(hybrid.get("text_weight", 1.0)),
        )
    return FileSearchTool(store_ids, limit, filters, float(threshold), weights)
