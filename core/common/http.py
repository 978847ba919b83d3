"""Gateway-neutral request and reply shapes shared by the engine and the adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs

import orjson

from core.common.errors import GatewayError

__all__ = ["BodySink", "Call", "Reply", "Request", "StreamedReply", "deleted", "error_reply"]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names

    def one(self, name: str) -> str | None:
        """A query parameter's last value."""
        values = self.query.get(name)
        return values[-1] if values else None

    @classmethod
    def from_target(cls, method: str, target: str, headers: dict[str, str]) -> Request:
        path, _, query = target.partition("?")
        return cls(method, path, parse_qs(query, keep_blank_values=True), headers)


@dataclass(frozen=True, slots=True)
class Call:
    """A request matched to a route: whose it is, the ids in its path, and its body
    (empty for operations answered from the path and query alone)."""

    tenant: str
    ids: tuple[str, ...]
    request: Request
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class StreamedReply:
    """A reply whose body is produced piece by piece (a file download), so it is never
    held whole. `length` is the body's size when known in advance."""

    status: int
    chunks: AsyncIterator[bytes]
    length: int | None = None
    content_type: str = "application/octet-stream"


def deleted(object_id: str, kind: str) -> Reply:
    """The answer to a successful delete: `{id, object: kind, deleted: true}`."""
    return Reply(200, orjson.dumps({"id": object_id, "object": kind, "deleted": True}))


def error_reply(error: GatewayError) -> Reply:
    return Reply(error.status, error.body())


class BodySink(Protocol):
    """An operation that consumes a request body as it streams in (an upload), then
    answers. `feed` raises a GatewayError to refuse the rest."""

    async def feed(self, chunk: bytes) -> None: ...

    async def finish(self) -> Reply: ...

    async def abort(self) -> None: ...
