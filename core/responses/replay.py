"""Items as the client sees them, turned into items a stateless backend understands.

The client's view of a tool turn (`mcp_call`, `file_search_call`, `mcp_list_tools`,
approvals) can reach the backend from a conversation, from a client replaying items as
input, or from a chain's stored input. The backend only knows function tools, so a call
becomes a `function_call` with its `function_call_output`, and listings and approvals
(already reflected in the calls that followed) are left out.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.tools.mcp.client import error_text
from core.tools.mcp.server import function_name

__all__ = ["for_backend"]

# Stored and re-encoded items are compact JSON, so these find every such item.
_MARKERS = (b'"type":"mcp_', b'"type":"file_search_call"')
_DROPPED = frozenset(("mcp_list_tools", "mcp_approval_request", "mcp_approval_response"))


def _call(call_id: str, name: str, arguments: str, output: str) -> list[dict[str, Any]]:
    return [
        {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments},
        {"type": "function_call_output", "call_id": call_id, "output": output},
    ]


def _backend_items(item: Any) -> list[Any]:
    kind = item.get("type") if isinstance(item, dict) else None
    if kind in _DROPPED:
        return []
    if kind == "mcp_call":
        name = function_name(str(item.get("server_label")), str(item.get("name")))
        error = item.get("error")
        if isinstance(error, dict):
            error = error_text(error)
        output = f"Error: {error}" if error else str(item.get("output") or "")
        return _call(str(item.get("id")), name, str(item.get("arguments") or "{}"), output)
    if kind == "file_search_call":
        queries = orjson.dumps({"queries": item.get("queries") or []}).decode()
        results = item.get("results")
        output = (
            orjson.dumps(
                [{k: r.get(k) for k in ("file_id", "filename", "text")} for r in results]
            ).decode()
            if isinstance(results, list)
            else "The search results of this earlier call were not kept."
        )
        return _call(str(item.get("id")), "file_search", queries, output)
    return [item]


def for_backend(joined: bytes) -> bytes:
    """Comma-joined encoded items, with the client-only ones translated."""
    if not any(marker in joined for marker in _MARKERS):
        return joined
    items = orjson.loads(b"[" + joined + b"]")
    return b",".join(orjson.dumps(out) for item in items for out in _backend_items(item))
