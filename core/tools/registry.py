"""Which of a request's tools the gateway runs itself, and how the backend sees them.

`file_search` and `mcp` tools become plain function tools for the backend; a call to one
of those functions is handled by the gateway (see `tool_turns`). Every other tool passes
through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.common.errors import InvalidRequestError
from core.common.validation import invalid_type
from core.ports import Stores
from core.tools.file_search import FUNCTION, FUNCTION_NAME, file_search_tool
from core.tools.mcp.server import McpServer, prepare_mcp
from core.vector_stores.ingestion.embeddings import EmbeddingsClient

__all__ = ["GatewayFunction", "Runner", "ServerTools", "expand_server_tools"]

# One call of a gateway tool: the client's item, the model's output, files found.
Runner = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], str, dict[str, str]]]]


@dataclass(frozen=True, slots=True)
class GatewayFunction:
    """A function the backend is offered that the gateway answers itself."""

    kind: str  # "file_search" or "mcp"
    run: Runner
    server: McpServer | None = None  # for mcp
    tool: str = ""  # the MCP tool's own name
    hide_results: bool = False  # file_search results are shown only when included

    def needs_approval(self) -> bool:
        return self.server is not None and self.server.needs_approval(self.tool)


@dataclass
class ServerTools:
    backend_tools: list[Any]
    client_tools: list[Any]  # as echoed on the response (credentials removed)
    functions: dict[str, GatewayFunction] = field(default_factory=dict)  # by function name
    leading: list[dict[str, Any]] = field(default_factory=list)  # mcp_list_tools items
    servers: dict[str, McpServer] = field(default_factory=dict)  # by server label

    def function(self, item: dict[str, Any]) -> GatewayFunction | None:
        """The gateway function an output item calls, if it is such a call."""
        if item.get("type") != "function_call":
            return None
        return self.functions.get(item.get("name"))  # type: ignore[arg-type]


async def expand_server_tools(
    stores: Stores,
    tenant: str,
    tools: Any,
    *,
    embedder: EmbeddingsClient | None,
    with_results: bool,
    allowed_hosts: str,
    timeout: float,
    listed_before: dict[str, Any] | None = None,
) -> ServerTools | None:
    """None when the request has no gateway tool. `listed_before` holds the tool lists
    an earlier turn of the chain already made (by server label), which are reused."""
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
            if FUNCTION_NAME in result.functions:
                raise InvalidRequestError(
                    "Only one file_search tool may be given.", param=param, code="invalid_value"
                )
            search = await file_search_tool(stores, tenant, tool, param)
            search_run: Runner = partial(search.run, stores, embedder, tenant)
            result.functions[FUNCTION_NAME] = GatewayFunction(
                "file_search", search_run, hide_results=not with_results
            )
            result.backend_tools.append(FUNCTION)
            result.client_tools.append(tool)
        elif kind == "mcp":
            label = tool.get("server_label")
            if isinstance(label, str) and label in result.servers:
                raise InvalidRequestError(
                    f"Duplicate server_label '{label}' in tools.",
                    param=f"{param}.server_label",
                    code="invalid_value",
                )
            server, listed, functions = await prepare_mcp(
                stores, tenant, tool, param, allowed_hosts, timeout, taken, listed_before
            )
            result.servers[server.label] = server
            for function in functions:
                name = function["name"]
                run = _mcp_runner(server)
                result.functions[name] = GatewayFunction("mcp", run, server, server.functions[name])
            result.backend_tools.extend(functions)
            if listed is not None:
                result.leading.append(listed)
            result.client_tools.append(_without_credentials(tool))
        else:
            result.backend_tools.append(tool)
            result.client_tools.append(tool)
    return result


def _without_credentials(tool: dict[str, Any]) -> dict[str, Any]:
    echoed = {**tool, "headers": None}
    if "authorization" in echoed:
        echoed["authorization"] = None
    return echoed


def _mcp_runner(server: McpServer) -> Runner:
    async def run(call: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, str]]:
        item, output = await server.run(call)
        return item, output, {}

    return run
