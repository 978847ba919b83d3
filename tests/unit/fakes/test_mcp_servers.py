"""The test MCP servers (tests/support/mcp_servers.py): real subprocesses spoken to with the
SDK client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.mcp_servers import ANONYMOUS, McpServerProcess, call, list_tool_names


def _serve(kind: str) -> Iterator[McpServerProcess]:
    server = McpServerProcess(kind).start()
    try:
        yield server
    finally:
        server.stop()
    assert server.proc is None
    assert not server.port_open(), f"{kind} server still accepts connections after stop()"


@pytest.fixture(scope="module")
def healthy() -> Iterator[McpServerProcess]:
    yield from _serve("healthy")


@pytest.fixture(scope="module")
def failing() -> Iterator[McpServerProcess]:
    yield from _serve("failing")


@pytest.fixture(scope="module")
def slow() -> Iterator[McpServerProcess]:
    yield from _serve("slow")


def test_url_shape(healthy: McpServerProcess) -> None:
    assert healthy.url == f"http://127.0.0.1:{healthy.port}/mcp"
    assert healthy.port_open()


async def test_healthy_lists_tools(healthy: McpServerProcess) -> None:
    assert sorted(await list_tool_names(healthy.url)) == ["add", "echo", "whoami"]


async def test_add(healthy: McpServerProcess) -> None:
    assert await call(healthy.url, "add", {"a": 2, "b": 40}) == ("42", False)


async def test_echo(healthy: McpServerProcess) -> None:
    assert await call(healthy.url, "echo", {"text": "héllo wörld"}) == ("héllo wörld", False)


async def test_whoami_reads_authorization_header(healthy: McpServerProcess) -> None:
    headers = {"Authorization": "Bearer secret-token"}
    assert await call(healthy.url, "whoami", {}, headers=headers) == ("Bearer secret-token", False)
    assert await call(healthy.url, "whoami", {}) == (ANONYMOUS, False)


async def test_unknown_tool_is_error(healthy: McpServerProcess) -> None:
    text, is_error = await call(healthy.url, "nope", {})
    assert is_error
    assert "nope" in text


async def test_failing_tool_reports_error(failing: McpServerProcess) -> None:
    assert await list_tool_names(failing.url) == ["explode"]
    text, is_error = await call(failing.url, "explode", {"reason": "kaboom-123"})
    assert is_error is True
    assert "kaboom-123" in text


async def test_slow_tool(slow: McpServerProcess) -> None:
    assert await list_tool_names(slow.url) == ["sleepy"]
    assert await call(slow.url, "sleepy", {"seconds": 0.1}) == ("awake", False)


def test_stop_closes_port() -> None:
    with McpServerProcess("slow") as server:
        port = server.port
        assert server.port_open()
    assert server.proc is None
    assert server.port == port
    assert not server.port_open()
    server.stop()  # idempotent


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError, match="unknown MCP server kind"):
        McpServerProcess("bogus")
