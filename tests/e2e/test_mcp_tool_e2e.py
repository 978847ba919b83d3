"""The `mcp` tool through Envoy: real MCP servers (the mcp SDK) on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from typing import Any

import openai
import pytest
import redis
from support.fake_backend import BackendRecorder
from support.harness import RedisServer
from support.mcp_servers import McpServerProcess


def mcp_tool(server: McpServerProcess, label: str, **extra: Any) -> dict[str, Any]:
    """An inline MCP tool; its calls run without approval unless the test says otherwise
    (the API's default is to ask)."""
    extra.setdefault("require_approval", "never")
    return {"type": "mcp", "server_label": label, "server_url": server.url, **extra}


def test_mcp_call_lists_calls_and_answers(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    response = sdk.responses.create(
        model="m",
        input='call calc__add {"a": 2, "b": 40}',
        tools=[mcp_tool(servers["healthy"], "calc")],
    )
    assert [item.type for item in response.output] == ["mcp_list_tools", "mcp_call", "message"]
    listed = response.output[0]
    assert listed.server_label == "calc"
    assert {tool.name for tool in listed.tools} == {"add", "echo", "whoami"}
    call = response.output[1]
    assert (call.server_label, call.name, call.output, call.error) == ("calc", "add", "42", None)
    assert json.loads(call.arguments) == {"a": 2, "b": 40}
    assert response.output_text == "tool said: 42"
    # The backend only ever saw function tools and function calls.
    first, second = (r.body for r in recorder.requests)
    assert {t["type"] for t in first["tools"]} == {"function"}
    assert "calc__add" in {t["name"] for t in first["tools"]}
    assert [i["type"] for i in second["input"][-2:]] == ["function_call", "function_call_output"]
    assert sdk.responses.retrieve(response.id).output[1].output == "42"


def test_allowed_tools_filter_the_list(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    tool = mcp_tool(servers["healthy"], "calc", allowed_tools=["echo"])
    response = sdk.responses.create(model="m", input="hello", tools=[tool])
    assert [t.name for t in response.output[0].tools] == ["echo"]
    assert [t["name"] for t in recorder.requests[0].body["tools"]] == ["calc__echo"]


def test_tool_error_is_an_mcp_call_error(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess]
) -> None:
    response = sdk.responses.create(
        model="m",
        input='call boom__explode {"reason": "on purpose"}',
        tools=[mcp_tool(servers["failing"], "boom")],
    )
    call = response.output[1]
    assert (call.type, call.status, call.output) == ("mcp_call", "failed", None)
    assert call.model_dump()["error"] == {
        "type": "mcp_tool_execution_error",
        "content": [{"type": "text", "text": "Error executing tool explode: on purpose"}],
    }
    assert response.output_text == "tool said: Error: Error executing tool explode: on purpose"
    assert response.status == "completed"


def test_a_slow_tool_times_out_into_an_mcp_call_error(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess]
) -> None:
    response = sdk.responses.create(
        model="m",
        input='call nap__sleepy {"seconds": 30}',
        tools=[mcp_tool(servers["slow"], "nap")],
    )
    call = response.output[1]
    assert (call.type, call.status, call.output) == ("mcp_call", "failed", None)
    message = "The MCP tool 'sleepy' did not answer within 2 s."
    assert call.model_dump()["error"] == {"type": "http_error", "code": 504, "message": message}
    assert response.output_text == f"tool said: Error: {message}"


def test_headers_reach_the_server_but_are_never_stored_or_echoed(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], redis_server: RedisServer
) -> None:
    secret = f"Bearer secret-{uuid.uuid4().hex}"
    tool = mcp_tool(servers["healthy"], "me", headers={"Authorization": secret})
    seen = sdk.responses.create(model="m", input="call me__whoami {}", tools=[tool], store=False)
    assert seen.output[1].output == secret  # the server got it (and this tool shows it)
    response = sdk.responses.create(model="m", input='call me__echo {"text": "x"}', tools=[tool])
    assert response.output[1].output == "x"
    assert response.tools[0].headers is None  # not echoed
    assert sdk.responses.retrieve(response.id).tools[0].headers is None
    store = redis.Redis.from_url(redis_server.url)
    try:
        stored = b"".join(_values(store, key) for key in store.scan_iter("or:*"))
    finally:
        store.close()
    assert response.id.encode() in stored  # the response is there...
    assert secret.encode() not in stored  # ...without the credential


def _values(store: redis.Redis, key: bytes) -> bytes:
    kind = store.type(key)
    if kind == b"string":
        return bytes(store.get(key) or b"")
    if kind == b"hash":
        return b"".join([*store.hkeys(key), *store.hvals(key)])
    return b"".join(store.zrange(key, 0, -1) if kind == b"zset" else [])


@pytest.mark.parametrize("url", ["http://127.0.0.2:9/mcp", "http://[::1]:9/mcp", "ftp://x/mcp"])
def test_unlisted_private_targets_are_refused(
    sdk: openai.OpenAI, recorder: BackendRecorder, url: str
) -> None:
    tool = {"type": "mcp", "server_label": "x", "server_url": url}
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(model="m", input="hi", tools=[tool])
    assert isinstance(refused.value.body, dict)
    assert refused.value.body["param"] == "tools[0].server_url"
    assert recorder.requests == []
