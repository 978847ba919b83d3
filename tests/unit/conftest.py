"""Fixtures of the unit suite: the Redis implementations of the stores, on the session's
Redis (each test keeps to a tenant of its own)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from storage.redis.connectors import RedisConnectorStore
from storage.redis.conversations import RedisConversationStore
from storage.redis.prompts import RedisPromptStore
from storage.redis.responses import RedisResponseStore


@pytest.fixture
def responses(redis_client: Redis) -> RedisResponseStore:
    return RedisResponseStore(redis_client)


@pytest.fixture
def conversations(redis_client: Redis) -> RedisConversationStore:
    return RedisConversationStore(redis_client)


@pytest.fixture
def prompts(redis_client: Redis) -> RedisPromptStore:
    return RedisPromptStore(redis_client)


@pytest.fixture
def connectors(redis_client: Redis) -> RedisConnectorStore:
    return RedisConnectorStore(redis_client)
