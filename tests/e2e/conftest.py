"""Fixtures of the end-to-end suite: the gateway stacks (Envoy + sidecar), SDK and raw
HTTP clients of them, and real MCP servers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from support.fake_backend import BackendThread
from support.harness import RedisServer, Stack
from support.mcp_servers import KINDS, McpServerProcess
from support.served_bodies import checked_http, checked_sdk, drain_violations


@pytest.fixture(autouse=True)
def served_bodies_conform() -> Iterator[None]:
    """Fails the test during which the gateway served a body (JSON or SSE event) that its
    OpenAPI document rejects; violations served while a wider fixture was set up are
    reported by the first test after them."""
    yield
    found = drain_violations()
    if found:
        pytest.fail("served bodies that do not conform:\n" + "\n".join(found), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def served_bodies_conform_to_the_end() -> Iterator[None]:
    """What module and session fixtures were served while tearing down, after the last test."""
    yield
    found = drain_violations()
    if found:
        pytest.fail("served bodies that do not conform:\n" + "\n".join(found), pytrace=False)


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
def client(stack: Stack) -> Iterator[openai.OpenAI]:
    with checked_sdk(stack.base_url, api_key="sk-test-tenant-a", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    """Raw HTTP to the gateway, as the same tenant as `client`."""
    headers = {"authorization": "Bearer sk-test-tenant-a"}
    with checked_http(stack.base_url, headers=headers, timeout=30) as raw:
        yield raw


@pytest.fixture
def own_client(stack: Stack) -> Iterator[openai.OpenAI]:
    """An SDK client of a tenant of its own, so listings hold only this test's objects."""
    key = f"sk-own-{uuid.uuid4().hex}"
    with checked_sdk(stack.base_url, api_key=key, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def stranger(stack: Stack) -> Iterator[httpx.Client]:
    """Raw HTTP as a tenant of its own, to show another tenant sees nothing."""
    headers = {"authorization": f"Bearer sk-other-{uuid.uuid4().hex}"}
    with checked_http(stack.base_url, headers=headers, timeout=30) as raw:
        yield raw


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, McpServerProcess]]:
    """Real MCP servers (the mcp SDK) on 127.0.0.1, one of each kind."""
    started = {kind: McpServerProcess(kind).start() for kind in KINDS}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture(scope="module")
def gateway(backend: BackendThread, redis_server: RedisServer) -> Iterator[Stack]:
    """A gateway whose allow-list lets it call the MCP servers on 127.0.0.1 (only that
    address: 127.0.0.2 and ::1 stay refused), with a 2 s limit per MCP call."""
    stack = Stack(
        f"{backend.url}/v1",
        redis_server.url,
        mcp_allowed_hosts="127.0.0.1",
        mcp_timeout_seconds="2",
    )
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def key() -> str:
    """An API key, and so a tenant, of the test's own."""
    return f"sk-{uuid.uuid4().hex}"


@pytest.fixture
def sdk(gateway: Stack, key: str) -> Iterator[openai.OpenAI]:
    with checked_sdk(gateway.base_url, api_key=key, max_retries=0) as client:
        yield client


@pytest.fixture
def make_sdk() -> Iterator[Callable[..., openai.OpenAI]]:
    """Checked SDK clients made by the test itself (its own stack, key or headers), all
    closed at the end."""
    made: list[openai.OpenAI] = []

    def make(base_url: str, api_key: str, **options: Any) -> openai.OpenAI:
        made.append(checked_sdk(base_url, api_key, **options))
        return made[-1]

    yield make
    for client in made:
        client.close()
