"""The `mcp` tool: an MCP server's tools, listed and called by the gateway.

Each listed tool is offered to the backend as a function tool; the client sees an
`mcp_list_tools` item (once per chain: later turns reuse the list) and `mcp_call` items.
`headers` and `authorization` (credentials) go to the MCP server only: they are never
stored with a response or echoed. A named connector (`connector_id`) supplies the URL,
credentials and defaults registered with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import TypeAdapter

from core.common.errors import GatewayError
from core.common.ids import new_id
from core.common.models import parse, parse_as
from core.connectors.lookup import find_connector
from core.ports import Stores
from core.tools.mcp.approval_policy import ApprovalPolicy
from core.tools.mcp.client import McpError, call_tool, error_text, list_tools
from core.tools.mcp.models import ALLOWED_TOOLS, APPROVAL_SETTING, McpToolSpec
from core.tools.mcp.targets import check_target

__all__ = ["McpServer", "ToolListFailedError", "function_name", "prepare_mcp"]

_FUNCTION_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class ToolListFailedError(GatewayError):
    status = 424
    type_ = "external_connector_error"


@dataclass
class McpServer:
    label: str
    url: str
    headers: dict[str, str]
    timeout: float
    approval: ApprovalPolicy
    tools: list[dict[str, Any]] = field(default_factory=list)  # all it listed
    functions: dict[str, str] = field(default_factory=dict)  # function name -> tool name

    def needs_approval(self, tool: str) -> bool:
        listed = next((t for t in self.tools if t["name"] == tool), {"name": tool})
        return self.approval.needs(listed)

    async def run(self, call: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The client's `mcp_call` item and the output the model gets."""
        return await self.call(self.functions[call["name"]], call.get("arguments") or "{}")

    async def call(self, name: str, arguments: str) -> tuple[dict[str, Any], str]:
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            text, error = await call_tool(self.url, self.headers, name, parsed, self.timeout)
        else:  # JSON-RPC's "invalid params"
            text = ""
            message = "The arguments are not a JSON object."
            error = {"type": "mcp_protocol_error", "code": -32602, "message": message}
        item = {
            "id": new_id("mcp"),
            "type": "mcp_call",
            "status": "failed" if error else "completed",
            "server_label": self.label,
            "name": name,
            "arguments": arguments,
            "output": None if error else text,
            "error": error,
        }
        return item, (f"Error: {error_text(error)}" if error else text)

    def function_name(self, tool: str) -> str | None:
        return next((f for f, t in self.functions.items() if t == tool), None)


def function_name(label: str, tool: str) -> str:
    """The function a server's tool is offered to the backend as (a valid name)."""
    return _FUNCTION_UNSAFE.sub("_", f"{label}__{tool}")[:64]


def _function_name(label: str, tool: str, taken: set[str]) -> str:
    name = function_name(label, tool)
    while name in taken:
        name = name[:56] + "_" + new_id("x")[-7:]
    taken.add(name)
    return name


async def _target(
    stores: Stores, tenant: str, spec: McpToolSpec, param: str
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The server's URL, the headers to send and the defaults of its connector."""
    headers = spec.sent_headers()
    if spec.connector_id is None:
        assert spec.server_url is not None  # the spec holds one or the other
        return spec.server_url, headers, {}
    found = await find_connector(
        stores.connectors, tenant, spec.connector_id, f"{param}.connector_id"
    )
    # The request's own headers win over the registered ones (names are lower-cased).
    merged = {k: v for k, v in found.headers.items() if k.lower() not in headers}
    return found.server_url, {**merged, **headers}, found.obj


def _setting(
    spec: McpToolSpec, name: str, defaults: dict[str, Any], adapter: TypeAdapter[Any], param: str
) -> Any:
    """The tool's own setting when it gives one (null included), else its connector's."""
    if name in spec.model_fields_set:
        return getattr(spec, name)
    stored = defaults.get(name)
    return None if stored is None else parse_as(adapter, stored, f"{param}.{name}")


async def prepare_mcp(
    stores: Stores,
    tenant: str,
    tool: dict[str, Any],
    param: str,
    allowed_hosts: str,
    timeout: float,
    taken: set[str],
    listed_before: dict[str, Any] | None = None,
) -> tuple[McpServer, dict[str, Any] | None, list[dict[str, Any]]]:
    """The server, its new `mcp_list_tools` item (None when an earlier turn of the
    chain listed it) and the function tools for the backend."""
    spec = parse(McpToolSpec, tool, param)
    label = spec.server_label
    url, headers, defaults = await _target(stores, tenant, spec, param)
    allowed = _setting(spec, "allowed_tools", defaults, ALLOWED_TOOLS, param)
    approval = ApprovalPolicy(_setting(spec, "require_approval", defaults, APPROVAL_SETTING, param))
    await check_target(url, f"{param}.server_url", allowed_hosts)
    before = (listed_before or {}).get(label)
    fresh = not (isinstance(before, dict) and before.get("server_url") == url)
    if fresh:
        try:
            tools = await list_tools(url, headers, timeout)
        except McpError as error:
            raise ToolListFailedError(
                f"Error retrieving tool list from MCP server: '{label}'. {error}",
                param=f"{param}.server_url",
                code="mcp_list_tools_failed",
            ) from None
    else:
        assert isinstance(before, dict)
        tools = before.get("tools") or []
    # The whole list is kept for later turns; the client and the model see what is allowed.
    server = McpServer(label, url, headers, timeout, approval, tools)
    offered = tools if allowed is None else [t for t in tools if allowed.matches(t)]
    item = None
    if fresh:
        item = {
            "id": new_id("mcpl"),
            "type": "mcp_list_tools",
            "server_label": label,
            "tools": offered,
            "error": None,
        }
    functions = []
    for listed in offered:
        name = _function_name(label, listed["name"], taken)
        server.functions[name] = listed["name"]
        functions.append(
            {
                "type": "function",
                "name": name,
                "description": listed.get("description") or f"{listed['name']} on {label}",
                "parameters": listed.get("input_schema") or {"type": "object", "properties": {}},
            }
        )
    return server, item, functions
