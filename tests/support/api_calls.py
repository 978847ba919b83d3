"""Calling a core API handler the way the gateway's routes do, from a unit test.

Every unit test of an *Api class goes through `call`: a handler takes one `Call` (the
tenant, the ids from the path, the request and its body).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from core.common.http import Call, Reply, Request

__all__ = ["Answer", "call"]


@dataclass(frozen=True)
class Answer:
    status: int
    json: Any


async def call(
    handler: Callable[[Call], Awaitable[Reply]],
    tenant: str,
    *path_ids: str,
    body: Any = None,
    query: Mapping[str, str | list[str]] | None = None,
    method: str = "GET",
) -> Answer:
    """Run `handler` for `tenant`; `body` is sent as JSON (bytes as they are)."""
    raw = body if isinstance(body, bytes) else b"" if body is None else orjson.dumps(body)
    params = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    request = Request(method, "/", params, {})
    reply = await handler(Call(tenant, tuple(path_ids), request, raw))
    return Answer(reply.status, orjson.loads(reply.body))
