"""Deterministic fake OpenAI-compatible ``/v1/embeddings`` server for tests.

Pure stdlib (asyncio streams + json), minimal HTTP/1.1 with keep-alive and
``content-length`` bodies. Each input text maps to a unit vector derived from a hash of the
text (see `expected_vector`), answered as base64 little-endian float32 or as a float list
according to the request's ``encoding_format``.

Behaviour selected by the request's ``model``:

* default: embeddings of ``dimensions`` values (the server's setting, or the request's
  ``dimensions`` field)
* ``float-only``: answers float lists whatever ``encoding_format`` asks for, like servers
  that ignore it
* ``shuffled``: answers the items in reverse order (their ``index`` still correct)
* ``short``: answers one item fewer than asked for (a malformed answer)
* ``fail-500``: HTTP 500 with an OpenAI error body (message ``embedding backend exploded``)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import math
import struct
from dataclasses import dataclass
from typing import Any

from support.recording import Recorders
from support.server_thread import ServerThread

__all__ = ["FAIL_MESSAGE", "EmbeddingsThread", "FakeEmbeddings", "Recorded", "expected_vector"]

FAIL_MESSAGE = "embedding backend exploded"
_ROUTES = frozenset({"/v1/embeddings", "/embeddings"})
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def expected_vector(text: str, dimensions: int) -> list[float]:
    """The unit vector the server answers for `text`, rounded to float32 like the wire."""
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
        for (word,) in struct.iter_unpack("<I", digest):
            raw.append(word / 0xFFFFFFFF * 2.0 - 1.0)
    raw = raw[:dimensions]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    # Round through float32 so the float answer equals what base64 decoding yields.
    packed = struct.pack(f"<{dimensions}f", *(x / norm for x in raw))
    return list(struct.unpack(f"<{dimensions}f", packed))


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class FakeEmbeddings:
    """The server; run it on a loop with `start`, or in a thread with `EmbeddingsThread`."""

    def __init__(self, dimensions: int = 8) -> None:
        self.dimensions = dimensions
        self.recorders: Recorders[Recorded] = Recorders()
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._on_connect, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._conns):
            task.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)
        await server.wait_closed()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.recorders.record(Recorded(method, target, headers, body))

        status, answer = self._answer(method, target.split("?", 1)[0], body)
        payload = _dumps(answer)
        writer.write(
            (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                "content-type: application/json\r\n"
                f"content-length: {len(payload)}\r\n"
                "connection: keep-alive\r\n\r\n"
            ).encode()
            + payload
        )
        await writer.drain()
        return True

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path not in _ROUTES or method != "POST":
            return 404, _error("not found", "invalid_request_error")
        if not isinstance(body, dict) or not isinstance(body.get("input"), list):
            return 400, _error("'input' must be an array of strings", "invalid_request_error")
        model = body.get("model")
        if model == "fail-500":
            return 500, _error(FAIL_MESSAGE, "server_error")
        dimensions = body.get("dimensions") or self.dimensions
        as_base64 = body.get("encoding_format") == "base64" and model != "float-only"
        data: list[dict[str, Any]] = []
        for index, text in enumerate(body["input"]):
            vector = expected_vector(str(text), dimensions)
            embedding: Any = vector
            if as_base64:
                embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        if model == "shuffled":
            data.reverse()
        elif model == "short":
            data.pop()
        tokens = sum(len(str(text).split()) for text in body["input"])
        return 200, {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _error(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": None}}


class EmbeddingsThread(ServerThread[FakeEmbeddings]):
    """Runs a FakeEmbeddings server in a daemon thread with its own event loop."""

    def __init__(self, dimensions: int = 8) -> None:
        super().__init__(FakeEmbeddings(dimensions), "fake-embeddings")

    @property
    def url(self) -> str:
        """The API root to give an OpenAI-style client (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> EmbeddingsThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
