"""Secrets every sidecar of a deployment must share, generated once and kept in Redis."""

from __future__ import annotations

import os

from redis.asyncio import Redis

__all__ = ["shared_key"]

_PREFIX = "or:key:"


async def shared_key(redis: Redis, name: str, size: int = 32) -> bytes:
    """The deployment's random key called `name`: the first sidecar to ask creates it
    (SET NX, so concurrent starts agree on one), every later one reads it."""
    key = _PREFIX + name
    await redis.set(key, os.urandom(size), nx=True)
    value = await redis.get(key)
    if not isinstance(value, bytes) or len(value) != size:
        raise RuntimeError(f"Redis key {key!r} does not hold a {size}-byte key")
    return value
