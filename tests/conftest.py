"""Fixtures every suite shares: the session's Redis, a tenant of the test's own, the
scripted fake backend and a recorder of what it receives during one test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from redis.asyncio import Redis
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import RedisServer
from support.s3_server import S3_ENV, S3Server

from storage.redis.client import connect


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """An asyncio client of the session's Redis, as the sidecar makes one."""
    client = connect(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def tenant() -> str:
    """A tenant of its own, so tests never see each other's data."""
    return f"tenant-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def backend() -> Iterator[BackendThread]:
    thread = BackendThread()
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def recorder(backend: BackendThread) -> Iterator[BackendRecorder]:
    """The requests the fake backend receives during this test, and only those: tests
    never see each other's calls, whatever order they run in."""
    with backend.recording() as seen:
        yield seen


@pytest.fixture
def redis_sync(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A direct connection to the stack's Redis, to look at what was stored."""
    connection = redis.Redis.from_url(redis_server.url)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An S3-compatible server (moto) for the s3:// blob store; this process signs its
    requests with the same test credentials the sidecars get."""
    os.environ.update(S3_ENV)
    server = S3Server().start()
    yield server
    server.stop()
