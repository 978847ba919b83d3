"""Which of a request's tools the gateway runs itself, and how the backend sees them.

`file_search` and `mcp` tools become plain function tools for the backend; a call to one
of those functions is handled by the gateway (see `tool_loop`). Every other tool passes
through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.errors import InvalidRequestError
from core.file_search_tool import FUNCTION, FUNCTION_NAME, file_search_tool
from core.ingestion.embeddings import EmbeddingsClient
from core.mcp_tool import prepare_mcp
from core.validation import invalid_type
from storage.protocols import Stores

__all__ = ["Handler", "ServerTools", "expand_server_tools"]

# One call of a gateway tool: the client's item, the model's output, files found.
Handler = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], str, dict[str, str]]]]


@dataclass
class ServerTools:
    backend_tools: list[Any]
    client_tools: list[Any]  # as echoed on the response (credentials removed)
    handlers: dict[str, Handler] = field(default_factory=dict)  # function name -> handler
    leading: list[dict[str, Any]] = field(default_factory=list)  # mcp_list_tools items


async def expand_server_tools(
    stores: Stores,
    tenant: str,
    tools: Any,
    *,
    embedder: EmbeddingsClient | None,
    with_results: bool,
    allowed_hosts: str,
    timeout: float,
) -> ServerTools | None:
    """None when the request has no gateway tool."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise invalid_type("tools", "an array", tools)
    kinds = [tool.get("type") if isinstance(tool, dict) else None for tool in tools]
    if "file_search" not in kinds and "mcp" not in kinds:
        return None
    result = ServerTools(backend_tools=[], client_tools=[])
    taken = {FUNCTION_NAME}
    for i, (tool, kind) in enumerate(zip(tools, kinds, strict=True)):
        param = f"tools[{i}]"
        if kind == "file_search":
            if FUNCTION_NAME in result.handlers:
                raise InvalidRequestError(
                    "Only one file_search tool may be given.", param=param, code="invalid_value"
                )
            search = await file_search_tool(stores, tenant, tool, param)
            result.handlers[FUNCTION_NAME] = partial(
                search.run, stores, embedder, tenant, with_results=with_results
            )
            result.backend_tools.append(FUNCTION)
            result.client_tools.append(tool)
        elif kind == "mcp":
            server, listed, functions = await prepare_mcp(
                tool, param, allowed_hosts, timeout, taken
            )
            for function in functions:
                result.handlers[function["name"]] = _mcp_handler(server)
            result.backend_tools.extend(functions)
            result.leading.append(listed)
            result.client_tools.append({**tool, "headers": None})
        else:
            result.backend_tools.append(tool)
            result.client_tools.append(tool)
    return result


def _mcp_handler(server: Any) -> Handler:
    async def run(call: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, str]]:
        item, output = await server.run(call)
        return item, output, {}

    return run
