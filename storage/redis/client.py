"""Connecting to Redis (or any server speaking its protocol, such as Valkey)."""

from __future__ import annotations

from redis.asyncio import Redis

__all__ = ["connect"]


def connect(url: str) -> Redis:
    # Bytes in and out: stored items are spliced as they are, never re-decoded.
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)
