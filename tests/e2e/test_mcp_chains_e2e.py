"""MCP tools along chains and conversations, connectors used by `connector_id`, and
client-view tool items replayed as input, through Envoy with real MCP servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder
from support.harness import Stack
from support.mcp_servers import McpServerProcess
from support.served_bodies import checked_http
from support.tool_items import backend_inputs, no_mcp_items, types

JSON = dict[str, Any]
ADD = '{"a":2,"b":40}'


@pytest.fixture
def gateway_http(gateway: Stack, key: str) -> Iterator[httpx.Client]:
    """Raw HTTP as the same tenant as `sdk`, for the Connectors API."""
    headers = {"authorization": f"Bearer {key}"}
    with checked_http(gateway.base_url, headers=headers, timeout=30) as raw:
        yield raw


def mcp(server: McpServerProcess, label: str = "calc", **extra: Any) -> JSON:
    extra.setdefault("require_approval", "never")
    return {"type": "mcp", "server_label": label, "server_url": server.url, **extra}


def connector(http: httpx.Client, **fields: Any) -> JSON:
    reply = http.post("/connectors", json=fields)
    assert reply.status_code == 200, reply.text
    return cast(JSON, reply.json())


def error_of(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> JSON:
    body = raised.value.body
    assert isinstance(body, dict)
    return body


# --------------------------------------------------------------------------- chains


def test_the_tool_list_is_reused_along_a_chain(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    tool = mcp(servers["healthy"])
    first = sdk.responses.create(model="m", input=f"call calc__add {ADD}", tools=[tool])
    assert types(first.output) == ["mcp_list_tools", "mcp_call", "message"]
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        previous_response_id=first.id,
        input='call calc__echo {"text":"again"}',
        tools=[tool],
    )
    assert types(second.output) == ["mcp_call", "message"]
    assert second.output[0].output == "again" and second.output_text == "tool said: again"
    # The reused list still offers the server's tools to the model.
    offered = {t["name"] for t in recorder.requests[0].body["tools"]}
    assert offered == {"calc__add", "calc__echo", "calc__whoami"}
    # The earlier turn reaches the backend as function calls, never as mcp_* items.
    for seen in backend_inputs(recorder):
        assert no_mcp_items(seen)
    assert types(backend_inputs(recorder)[0]) == [
        "message", "function_call", "function_call_output", "message", "message"
    ]  # fmt: skip
    third = sdk.responses.create(
        model="m", previous_response_id=second.id, input="hello", tools=[tool]
    )
    assert types(third.output) == ["message"]


def test_another_server_url_under_the_same_label_is_listed_again(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    first = sdk.responses.create(
        model="m", input=f"call calc__add {ADD}", tools=[mcp(servers["healthy"])]
    )
    assert types(first.output)[0] == "mcp_list_tools"
    recorder.clear()
    second = sdk.responses.create(
        model="m",
        previous_response_id=first.id,
        input='call calc__explode {"reason":"moved"}',
        tools=[mcp(servers["failing"])],
    )
    assert types(second.output) == ["mcp_list_tools", "mcp_call", "message"]
    assert [t.name for t in second.output[0].tools] == ["explode"]
    assert second.output[1].error is not None and "moved" in str(second.output[1].error)
    assert {t["name"] for t in recorder.requests[0].body["tools"]} == {"calc__explode"}
    # The new list is the chain's from now on: the next turn on that server reuses it.
    third = sdk.responses.create(
        model="m",
        previous_response_id=second.id,
        input="hello",
        tools=[mcp(servers["failing"])],
    )
    assert types(third.output) == ["message"]


# --------------------------------------------------------------------------- connectors


def test_connector_supplies_url_credentials_and_policy(
    sdk: openai.OpenAI,
    gateway_http: httpx.Client,
    servers: dict[str, McpServerProcess],
    recorder: BackendRecorder,
) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    reply = gateway_http.post(
        "/connectors",
        json={
            "server_url": servers["healthy"].url,
            "headers": {"Authorization": f"Bearer {secret}"},
            "require_approval": "never",
        },
    )
    assert reply.status_code == 200 and secret not in reply.text
    cid = reply.json()["id"]
    tool = {"type": "mcp", "server_label": "c", "connector_id": cid}
    # The connector's policy applies: no approval asked.
    seen = sdk.responses.create(model="m", input="call c__whoami {}", tools=[tool])  # type: ignore[list-item]
    assert types(seen.output) == ["mcp_list_tools", "mcp_call", "message"]
    assert seen.output[1].output == f"Bearer {secret}"
    echoed = seen.tools[0].model_dump()
    assert echoed["connector_id"] == cid and echoed.get("headers") is None
    assert secret not in str(echoed)

    recorder.clear()
    raw = sdk.responses.with_raw_response.create(
        model="m",
        input='call c__echo {"text":"x"}',
        tools=[tool],  # type: ignore[list-item]
    )
    response = raw.parse()
    assert types(response.output) == ["mcp_list_tools", "mcp_call", "message"]
    assert response.output[1].output == "x"
    assert secret not in raw.http_response.text
    retrieved = gateway_http.get(f"/responses/{response.id}")
    assert retrieved.status_code == 200 and secret not in retrieved.text
    assert secret not in gateway_http.get(f"/connectors/{cid}").text
    # Nor does the backend ever see the credential.
    assert all(
        secret not in str(r.body) and secret not in str(r.headers) for r in recorder.requests
    )


def test_request_headers_override_the_connectors(
    sdk: openai.OpenAI, gateway_http: httpx.Client, servers: dict[str, McpServerProcess]
) -> None:
    cid = connector(
        gateway_http,
        server_url=servers["healthy"].url,
        headers={"Authorization": "Bearer from-connector"},
        require_approval="never",
    )["id"]
    tool = {
        "type": "mcp",
        "server_label": "c",
        "connector_id": cid,
        "headers": {"authorization": "Bearer from-request"},
    }
    response = sdk.responses.create(model="m", input="call c__whoami {}", tools=[tool])  # type: ignore[list-item]
    assert response.output[1].output == "Bearer from-request"
    assert response.tools[0].model_dump().get("headers") is None


def test_connector_allowed_tools_apply_unless_the_tool_gives_its_own(
    sdk: openai.OpenAI,
    gateway_http: httpx.Client,
    servers: dict[str, McpServerProcess],
    recorder: BackendRecorder,
) -> None:
    cid = connector(
        gateway_http,
        server_url=servers["healthy"].url,
        allowed_tools=["echo"],
        require_approval="never",
    )["id"]
    tool: JSON = {"type": "mcp", "server_label": "c", "connector_id": cid}
    recorder.clear()
    response = sdk.responses.create(model="m", input="hello", tools=[tool])  # type: ignore[list-item]
    assert [t.name for t in response.output[0].tools] == ["echo"]
    assert [t["name"] for t in recorder.requests[0].body["tools"]] == ["c__echo"]
    recorder.clear()
    own = sdk.responses.create(
        model="m",
        input="hello",
        tools=[{**tool, "allowed_tools": ["add"]}],  # type: ignore[list-item]
    )
    assert [t.name for t in own.output[0].tools] == ["add"]
    assert [t["name"] for t in recorder.requests[0].body["tools"]] == ["c__add"]


def test_connector_default_policy_asks_for_approval(
    sdk: openai.OpenAI, gateway_http: httpx.Client, servers: dict[str, McpServerProcess]
) -> None:
    cid = connector(gateway_http, server_url=servers["healthy"].url)["id"]
    tool = {"type": "mcp", "server_label": "c", "connector_id": cid}
    response = sdk.responses.create(model="m", input=f"call c__add {ADD}", tools=[tool])  # type: ignore[list-item]
    assert types(response.output) == ["mcp_list_tools", "mcp_approval_request"]


def test_unknown_connector_is_not_found(sdk: openai.OpenAI, recorder: BackendRecorder) -> None:
    tool = {"type": "mcp", "server_label": "c", "connector_id": "conn_nope"}
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.create(model="m", input="hi", tools=[tool])  # type: ignore[list-item]
    assert missing.value.status_code == 404
    assert error_of(missing)["param"] == "tools[0].connector_id"
    assert recorder.requests == []


def test_another_tenants_connector_is_not_found(
    sdk: openai.OpenAI, gateway: Stack, servers: dict[str, McpServerProcess]
) -> None:
    other = {"authorization": f"Bearer sk-other-{uuid.uuid4().hex}"}
    with checked_http(gateway.base_url, headers=other, timeout=30) as stranger:
        theirs = connector(stranger, server_url=servers["healthy"].url, require_approval="never")
    tool = {"type": "mcp", "server_label": "c", "connector_id": theirs["id"]}
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.create(model="m", input="call c__whoami {}", tools=[tool])  # type: ignore[list-item]
    assert error_of(missing)["param"] == "tools[0].connector_id"


def test_server_url_and_connector_id_together_conflict(
    sdk: openai.OpenAI, gateway_http: httpx.Client, servers: dict[str, McpServerProcess]
) -> None:
    cid = connector(gateway_http, server_url=servers["healthy"].url)["id"]
    tool = {**mcp(servers["healthy"], "c"), "connector_id": cid}
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.responses.create(model="m", input="hi", tools=[tool])  # type: ignore[list-item]
    body = error_of(refused)
    assert body["code"] == "conflicting_parameters"
    assert body["param"] == "tools[0].connector_id"


# --------------------------------------------------------------------------- conversations


def test_tool_turns_in_a_conversation(
    sdk: openai.OpenAI, servers: dict[str, McpServerProcess], recorder: BackendRecorder
) -> None:
    conversation = sdk.conversations.create()
    tool = mcp(servers["healthy"])
    first = sdk.responses.create(
        model="m", conversation=conversation.id, input=f"call calc__add {ADD}", tools=[tool]
    )
    assert types(first.output) == ["mcp_list_tools", "mcp_call", "message"]
    recorder.clear()
    second = sdk.responses.create(
        model="m", conversation=conversation.id, input="and now?", tools=[tool]
    )
    assert second.output_text == "reply to: and now?"
    (seen,) = backend_inputs(recorder)
    assert no_mcp_items(seen)
    assert types(seen) == [
        "message", "function_call", "function_call_output", "message", "message"
    ]  # fmt: skip
    call, output = seen[1], seen[2]
    assert call["name"] == "calc__add" and call["arguments"] == ADD
    assert (output["call_id"], output["output"]) == (call["call_id"], "42")

    items = sdk.conversations.items.list(conversation.id, order="asc", limit=100).data
    listed = types(items)
    assert listed[:4] == ["message", "mcp_list_tools", "mcp_call", "message"]
    assert listed[-1] == "message" and "function_call" not in listed
    mcp_call = items[2]
    assert mcp_call.id == first.output[1].id
    assert (mcp_call.name, mcp_call.output) == ("add", "42")  # type: ignore[union-attr]


# --------------------------------------------------------------------------- replay


def test_client_replayed_mcp_items_reach_the_backend_as_function_calls(
    sdk: openai.OpenAI, recorder: BackendRecorder
) -> None:
    items: list[Any] = [
        {"role": "user", "content": f"call calc__add {ADD}"},
        {
            "type": "mcp_list_tools",
            "id": "mcpl_replayed",
            "server_label": "calc",
            "tools": [{"name": "add", "input_schema": {"type": "object"}}],
        },
        {
            "type": "mcp_call",
            "id": "mcp_replayed",
            "server_label": "calc",
            "name": "add",
            "arguments": ADD,
            "output": "42",
            "error": None,
        },
        {
            "type": "mcp_call",
            "id": "mcp_failed",
            "server_label": "calc",
            "name": "add",
            "arguments": "{}",
            "output": None,
            "error": "missing a",
        },
        {"role": "assistant", "content": "tool said: 42"},
        {"role": "user", "content": "and again?"},
    ]
    recorder.clear()
    response = sdk.responses.create(model="m", input=items, store=False)
    assert response.output_text == "reply to: and again?"
    (seen,) = backend_inputs(recorder)
    assert no_mcp_items(seen)
    assert types(seen) == [
        "message",
        "function_call",
        "function_call_output",
        "function_call",
        "function_call_output",
        "message",
        "message",
    ]
    assert seen[1] == {
        "type": "function_call", "call_id": "mcp_replayed", "name": "calc__add", "arguments": ADD
    }  # fmt: skip
    assert seen[2] == {"type": "function_call_output", "call_id": "mcp_replayed", "output": "42"}
    assert (seen[3]["call_id"], seen[3]["arguments"]) == ("mcp_failed", "{}")
    assert seen[4]["output"] == "Error: missing a"
