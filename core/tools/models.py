"""The specs of the tools the gateway runs itself, as a request's `tools[i]` gives them.

The `file_search` tool takes the same search options as `/vector_stores/{id}/search`
(one model); the `mcp` tool's spec is in `core.tools.mcp.models`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.vector_stores.models import SearchOptions

__all__ = ["FileSearchToolSpec"]


class FileSearchToolSpec(SearchOptions):
    type: Literal["file_search"]
    vector_store_ids: Annotated[list[str], Field(min_length=1)]
