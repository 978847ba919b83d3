"""The `file_search` tool, run by the gateway over its own vector stores.

The backend is offered a plain function tool of the same name; when the model calls it,
the gateway searches and answers with the results, and the client sees a
`file_search_call` item where the function call was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.common.ids import new_id
from core.common.models import parse
from core.ports import Stores
from core.tools.models import FileSearchToolSpec
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.models import SearchOptions
from core.vector_stores.objects import store_not_found
from core.vector_stores.search import search_chunks

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
    options: SearchOptions

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
                stores, embedder, tenant, self.store_ids, queries, self.options
            )
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
    """The request's `tools[i]` (at `param`) checked, its stores found."""
    spec = parse(FileSearchToolSpec, tool, param)
    for store_id in spec.vector_store_ids:
        if await stores.vector_stores.get_store(tenant, store_id) is None:
            raise store_not_found(store_id, param=f"{param}.vector_store_ids")
    return FileSearchTool(spec.vector_store_ids, spec)
