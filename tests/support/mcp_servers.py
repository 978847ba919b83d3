"""Real MCP servers (mcp 2.x SDK, streamable HTTP) for tests, each run as a subprocess.

Server side: ``python tests/support/mcp_servers.py <kind> --port P`` binds 127.0.0.1:P,
serves ``/mcp`` and prints ``READY <port>`` on stdout once the port accepts connections.

Kinds:
  healthy  add(a, b) -> int, echo(text) -> str, whoami() -> Authorization header (or "anonymous")
  failing  explode(reason) raises ToolError(reason) -> call result has is_error=True
  slow     sleepy(seconds) awaits asyncio.sleep(seconds) then returns "awake"

Test side: ``McpServerProcess(kind)`` (context manager, or ``.start()`` / ``.stop()``) exposing
``.url`` / ``.port``, plus the client helpers ``list_tool_names(url)`` and
``call(url, name, arguments)``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

KINDS = ("healthy", "failing", "slow")
HOST = "127.0.0.1"
ANONYMOUS = "anonymous"
_READY_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------- server side


def build_server(kind: str) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(name=f"test-{kind}", log_level="WARNING")
    if kind == "healthy":

        @server.tool(description="Add two integers")
        def add(a: int, b: int) -> int:
            return a + b

        @server.tool(description="Echo the text back")
        def echo(text: str) -> str:
            return text

        @server.tool(description="Return the Authorization header of the request")
        def whoami(ctx: Context) -> str:
            headers = ctx.headers or {}
            value = headers.get("authorization")
            return value if value else ANONYMOUS

    elif kind == "failing":

        @server.tool(description="Always fails with the given reason")
        def explode(reason: str) -> str:
            # ToolError keeps its text for the client; any other exception is a "crash" and
            # the client sees only "Error executing tool explode".
            raise ToolError(reason)

    elif kind == "slow":

        @server.tool(description="Sleep for the given seconds, then answer")
        async def sleepy(seconds: float) -> str:
            await asyncio.sleep(seconds)
            return "awake"

    else:
        raise ValueError(f"unknown MCP server kind: {kind!r}")
    return server


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _announce_when_ready(port: int) -> None:
    # The SDK prints no machine-readable readiness line, so poll our own port.
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if _port_accepts(port):
            print(f"READY {port}", flush=True)
            return
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = build_server(args.kind)
    threading.Thread(target=_announce_when_ready, args=(args.port,), daemon=True).start()
    server.run(transport="streamable-http", host=HOST, port=args.port)


# --------------------------------------------------------------------------- test side


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class McpServerProcess:
    """A test MCP server of the given kind running in a subprocess on a free port."""

    def __init__(self, kind: str, *, ready_timeout: float = _READY_TIMEOUT_S) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown MCP server kind: {kind!r}")
        self.kind = kind
        self.ready_timeout = ready_timeout
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.stdout_lines: deque[str] = deque(maxlen=200)
        self.stderr_lines: deque[str] = deque(maxlen=200)
        self._drainers: list[threading.Thread] = []

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("server not started")
        return f"http://{HOST}:{self.port}/mcp"

    def start(self) -> McpServerProcess:
        if self.proc is not None:
            raise RuntimeError("already started")
        self.port = free_port()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), self.kind, "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        ready = threading.Event()

        def drain(pipe: IO[str], sink: deque[str], watch_ready: bool) -> None:
            # Keep draining so a chatty server never blocks on a full pipe.
            with contextlib.suppress(ValueError, OSError):
                for line in pipe:
                    sink.append(line)
                    if watch_ready and line.startswith("READY "):
                        ready.set()

        for pipe, sink, watch in (
            (self.proc.stdout, self.stdout_lines, True),
            (self.proc.stderr, self.stderr_lines, False),
        ):
            assert pipe is not None
            thread = threading.Thread(target=drain, args=(pipe, sink, watch), daemon=True)
            thread.start()
            self._drainers.append(thread)

        deadline = time.monotonic() + self.ready_timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"MCP server {self.kind!r} not ready on port {self.port} "
                    f"(exit={self.proc.poll()}): stdout={''.join(self.stdout_lines)!r} "
                    f"stderr={''.join(self.stderr_lines)[-2000:]!r}"
                )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for thread in self._drainers:  # the process is gone, so the pipes reach EOF
            thread.join(timeout=_STOP_TIMEOUT_S)
        self._drainers.clear()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()

    def port_open(self) -> bool:
        return bool(self.port) and _port_accepts(self.port)

    def __enter__(self) -> McpServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def session(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    """An initialised ``mcp.ClientSession`` over streamable HTTP (optional extra headers)."""
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as sess,
    ):
        await sess.initialize()
        yield sess


async def list_tool_names(url: str, headers: dict[str, str] | None = None) -> list[str]:
    async with session(url, headers) as sess:
        result = await sess.list_tools()
        return [tool.name for tool in result.tools]


async def call(
    url: str,
    name: str,
    arguments: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, bool]:
    """Call a tool; return (text content joined with "", is_error)."""
    async with session(url, headers) as sess:
        result = await sess.call_tool(name, arguments or {})
        texts = [c.text for c in getattr(result, "content", []) if getattr(c, "type", "") == "text"]
        return "".join(texts), bool(getattr(result, "is_error", False))


if __name__ == "__main__":
    main()
