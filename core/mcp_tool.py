"""The `mcp` tool: an MCP server's tools, listed and called by the gateway.

Each listed tool is offered to the backend as a function tool; the client sees an
`mcp_list_tools` item and `mcp_call` items. `headers` (credentials) go to the MCP server
only: they are never stored or echoed. Servers on private, loopback or link-local
addresses are refused unless allow-listed, checked on the resolved addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from core.errors import GatewayError, InvalidRequestError
from core.ids import new_id
from core.mcp_client import McpError, call_tool, list_tools
from core.validation import invalid_type, missing

__all__ = ["McpServer", "ToolListFailedError", "prepare_mcp"]

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,64}")
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
    functions: dict[str, str] = field(default_factory=dict)  # function name -> tool name

    async def run(self, call: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The client's `mcp_call` item and the output the model gets."""
        name = self.functions[call["name"]]
        arguments = call.get("arguments") or "{}"
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            text, failed = await call_tool(self.url, self.headers, name, parsed, self.timeout)
        else:
            text, failed = "The arguments are not a JSON object.", True
        item = {
            "id": new_id("mcp"),
            "type": "mcp_call",
            "server_label": self.label,
            "name": name,
            "arguments": arguments,
            "output": None if failed else text,
            "error": text if failed else None,
        }
        return item, (f"Error: {text}" if failed else text)


def _allow_list(
    entries: str,
) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks = []
    for entry in (e.strip() for e in entries.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower())
    return hosts, networks


async def _check_target(url: str, param: str, allowed: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"Invalid '{param}': expected an http or https URL.", param=param, code="invalid_value"
        )
    host = parts.hostname.lower()
    hosts, networks = _allow_list(allowed)
    if host in hosts:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        raise InvalidRequestError(
            f"Invalid '{param}': the host '{host}' cannot be resolved.",
            param=param,
            code="invalid_value",
        ) from None
    for info in found:
        address = ipaddress.ip_address(info[4][0])
        internal = (
            address.is_private or address.is_loopback or address.is_link_local
            or address.is_reserved or address.is_multicast or address.is_unspecified
        )  # fmt: skip
        if internal and not any(address in network for network in networks):
            raise InvalidRequestError(
                f"Invalid '{param}': MCP servers on private, loopback or link-local addresses "
                "are not allowed here.",
                param=param,
                code="invalid_value",
            )


def _function_name(label: str, tool: str, taken: set[str]) -> str:
    name = _FUNCTION_UNSAFE.sub("_", f"{label}__{tool}")[:64]
    while name in taken:
        name = name[:56] + "_" + new_id("x")[-7:]
    taken.add(name)
    return name


async def prepare_mcp(
    tool: dict[str, Any], param: str, allowed_hosts: str, timeout: float, taken: set[str]
) -> tuple[McpServer, dict[str, Any], list[dict[str, Any]]]:
    """The server, its `mcp_list_tools` item and the function tools for the backend."""
    label = tool.get("server_label")
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise missing(f"{param}.server_label")
    if tool.get("connector_id") is not None:
        raise InvalidRequestError(
            "Connectors are not available on this gateway yet; use server_url.",
            param=f"{param}.connector_id",
            code="unsupported_parameter",
        )
    url = tool.get("server_url")
    if not isinstance(url, str):
        raise missing(f"{param}.server_url")
    approval = tool.get("require_approval", "never")
    if approval != "never":
        raise InvalidRequestError(
            "Only require_approval 'never' is available on this gateway yet.",
            param=f"{param}.require_approval",
            code="unsupported_parameter",
        )
    headers = tool.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise invalid_type(f"{param}.headers", "an object of strings", headers)
    allowed = tool.get("allowed_tools")
    if isinstance(allowed, dict):
        allowed = allowed.get("tool_names")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(n, str) for n in allowed)
    ):
        raise invalid_type(f"{param}.allowed_tools", "an array of tool names", allowed)
    await _check_target(url, f"{param}.server_url", allowed_hosts)
    try:
        tools = await list_tools(url, headers, timeout)
    except McpError as error:
        raise ToolListFailedError(
            f"Error retrieving tool list from MCP server: '{label}'. {error}",
            param=f"{param}.server_url",
            code="mcp_list_tools_failed",
        ) from None
    if allowed is not None:
        tools = [t for t in tools if t["name"] in allowed]
    server = McpServer(label, url, headers, timeout)
    functions = []
    for listed in tools:
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
    item = {
        "id": new_id("mcpl"),
        "type": "mcp_list_tools",
        "server_label": label,
        "tools": tools,
        "error": None,
    }
    return server, item, functions
