"""Talking to MCP servers over streamable HTTP (the `mcp` SDK), one session per use.

Every use is bounded by a timeout, and a tool's answer by a size cap: a slow or chatty
server must not hold a response hostage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from core.common.tracing import inject

__all__ = ["McpError", "call_tool", "error_text", "list_tools"]

_OUTPUT_CAP = 1 << 20  # characters of tool output passed on to the model


class McpError(Exception):
    """The server could not be reached or answered badly."""


@asynccontextmanager
async def _session(
    url: str, headers: dict[str, str], timeout: float
) -> AsyncIterator[ClientSession]:
    async with (
        # The trace context goes along, so the server's spans join the request's trace.
        httpx2.AsyncClient(headers=inject(dict(headers)), timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def list_tools(url: str, headers: dict[str, str], timeout: float) -> list[dict[str, Any]]:
    """The server's tools as `mcp_list_tools` lists them."""
    try:
        async with asyncio.timeout(timeout), _session(url, headers, timeout) as session:
            listed = await session.list_tools()
    except Exception as error:  # the SDK raises many kinds; all mean "not usable"
        raise McpError(f"listing tools failed: {error}") from None
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "input_schema": tool.input_schema,
            "annotations": tool.annotations.model_dump() if tool.annotations else None,
        }
        for tool in listed.tools
    ]


def _failure(error: BaseException, name: str) -> dict[str, Any]:
    """An `mcp_call.error` object for a call that failed outside the tool itself."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]  # the SDK's task groups wrap the cause
    if isinstance(error, MCPError):
        return {"type": "mcp_protocol_error", "code": error.code, "message": error.message}
    status = getattr(getattr(error, "response", None), "status_code", None)
    message = f"Calling the MCP tool '{name}' failed: {error}"
    return {
        "type": "http_error",
        "code": status if isinstance(status, int) else 502,
        "message": message,
    }


def error_text(error: dict[str, Any]) -> str:
    """What the model is told of a failed call."""
    if error.get("type") == "mcp_tool_execution_error":
        parts = error.get("content") or []
        return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
    return str(error.get("message", ""))


async def call_tool(
    url: str, headers: dict[str, str], name: str, arguments: dict[str, Any], timeout: float
) -> tuple[str, dict[str, Any] | None]:
    """The tool's text output, and the `mcp_call.error` object when it failed."""
    try:
        async with asyncio.timeout(timeout), _session(url, headers, timeout) as session:
            result = await session.call_tool(name, arguments)
    except TimeoutError:
        message = f"The MCP tool '{name}' did not answer within {timeout:g} s."
        return "", {"type": "http_error", "code": 504, "message": message}
    except Exception as error:
        return "", _failure(error, name)
    # A call may also answer with a request for more input, which is not supported here.
    texts = [getattr(part, "text", "") for part in getattr(result, "content", None) or ()]
    text = "\n".join(t for t in texts if t)[:_OUTPUT_CAP]
    if getattr(result, "is_error", True):
        content = [{"type": "text", "text": text}]
        return "", {"type": "mcp_tool_execution_error", "content": content}
    return text, None
