"""Calling a core API handler the way the gateway's routes do, from a unit test.

Every unit test of an *Api class goes through `call`, so a change in how handlers take
their arguments is made here once. Today a handler takes the tenant, the ids from the path,
then the request body (`body`) and/or the parsed request (`request`), by those names.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from core.common.http import Reply, Request

__all__ = ["Answer", "call"]


@dataclass(frozen=True)
class Answer:
    status: int
    json: Any


async def call(
    handler: Callable[..., Awaitable[Reply]],
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
    extra: dict[str, Any] = {}
    wanted = inspect.signature(handler).parameters
    if "body" in wanted:
        extra["body"] = raw
    if "request" in wanted:
        extra["request"] = request
    reply = await handler(tenant, *path_ids, **extra)
    return Answer(reply.status, orjson.loads(reply.body))
