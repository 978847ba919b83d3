from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from fake_backend import BackendThread
from harness import RedisServer, Stack


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


@pytest.fixture(scope="session")
def stack(backend: BackendThread, redis_server: RedisServer) -> Iterator[Stack]:
    gateway = Stack(
        f"{backend.url}/v1",
        redis_server.url,
        tenant_header="x-tenant",
        backend_timeout_seconds="2",
    )
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
def client(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key="sk-test-tenant-a", max_retries=0)
