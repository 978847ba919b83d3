"""A tool loop may take longer than Envoy's per-message timeout allows one answer.

The gateway here runs with `message_timeout: 1s` and a tool that takes 2 s: a buffered
loop must ask Envoy for more time, and a streamed one (full duplex, which has no
per-message timer once the backend's stream has ended) must simply go on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fake_backend import BackendThread
from support.harness import RedisServer, Stack
from support.mcp_servers import McpServerProcess
from support.served_bodies import checked_sdk

NAP = 'call nap__sleepy {"seconds": 2}'


@pytest.fixture(scope="module")
def slow_mcp() -> Iterator[McpServerProcess]:
    with McpServerProcess("slow") as server:
        yield server


@pytest.fixture(scope="module")
def impatient(backend: BackendThread, redis_server: RedisServer) -> Iterator[Stack]:
    stack = Stack(
        f"{backend.url}/v1",
        redis_server.url,
        mcp_allowed_hosts="127.0.0.1",
        mcp_timeout_seconds="10",
    )
    config = stack.envoy.config
    stack.envoy.config = config.replace("message_timeout: 30s", "message_timeout: 1s", 1)
    assert stack.envoy.config != config
    stack.start()
    yield stack
    stack.stop()


def _tool(server: McpServerProcess) -> dict[str, str]:
    return {
        "type": "mcp",
        "server_label": "nap",
        "server_url": server.url,
        "require_approval": "never",
    }


def test_buffered_loop_outlasts_the_message_timeout(
    impatient: Stack, slow_mcp: McpServerProcess
) -> None:
    with checked_sdk(impatient.base_url, api_key="sk-patient") as client:
        response = client.responses.create(model="m", input=NAP, tools=[_tool(slow_mcp)])
    assert response.status == "completed"
    assert [item.type for item in response.output] == ["mcp_list_tools", "mcp_call", "message"]
    assert response.output_text == "tool said: awake"


def test_streamed_loop_outlasts_the_message_timeout(
    impatient: Stack, slow_mcp: McpServerProcess
) -> None:
    with checked_sdk(impatient.base_url, api_key="sk-patient") as client:
        events = list(
            client.responses.create(model="m", input=NAP, tools=[_tool(slow_mcp)], stream=True)
        )
    assert events[-1].type == "response.completed"
    assert "response.mcp_call.completed" in [event.type for event in events]
    assert events[-1].response.output_text == "tool said: awake"
