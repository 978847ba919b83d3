"""OPENRESPONSES_LOG_FORMAT=json: one JSON object per line, each request's lines tagged with
its operation, a digest of its tenant and its response id, and no secret anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openai
from support.fake_backend import BackendThread
from support.harness import RedisServer, Stack
from support.mcp_servers import McpServerProcess

_KEY = "sk-never-in-logs-7f3a"
_MCP_SECRET = "mcp-header-value-never-logged"


def test_json_logs_carry_the_request_and_no_secret(
    backend: BackendThread,
    redis_server: RedisServer,
    servers: dict[str, McpServerProcess],
    tmp_path: Path,
    make_sdk: Callable[..., openai.OpenAI],
) -> None:
    log_path = tmp_path / "sidecar.log"
    settings = {"log_format": "json", "log_level": "debug", "mcp_allowed_hosts": "127.0.0.1"}
    with Stack(
        f"{backend.url}/v1", redis_server.url, log_path=log_path, **settings
    ).start() as stack:
        client = make_sdk(stack.base_url, _KEY, max_retries=0)
        created = client.responses.create(model="m", input="Log me.")
        tool = {
            "type": "mcp",
            "server_label": "calc",
            "server_url": servers["healthy"].url,
            "require_approval": "never",
            "headers": {"x-secret": _MCP_SECRET},
        }
        client.responses.create(
            model="m",
            input='call calc__add {"a": 1, "b": 2}',
            tools=[tool],  # type: ignore[list-item]
        )
        assert client.responses.retrieve(created.id).id == created.id
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    answered = [line for line in lines if line.get("response_id") == created.id]
    assert answered and answered[0]["operation"] == "create_response"
    assert answered[0]["level"] == "debug" and answered[0]["message"].startswith("answered 200")
    tenants = {line["tenant"] for line in lines if "tenant" in line}
    assert len(tenants) == 1 and _KEY not in tenants.pop()
    assert {"create_response", "get_response"} <= {line.get("operation") for line in lines}
    for secret in (_KEY, _MCP_SECRET, "Log me."):
        assert secret not in text
