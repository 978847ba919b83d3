"""Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, each request is a server span continuing
the client's traceparent, with the GenAI attributes; tool-loop turns and tool calls are
its children; the trace context reaches the backend; no content is ever recorded."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import openai
import pytest
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import RedisServer, Stack, wait_until
from support.mcp_servers import McpServerProcess
from support.otlp_receiver import OtlpReceiver, ReceivedSpan
from support.vector_fixtures import upload, wait_ingested

_TRACE = "0af7651916cd43dd8448eb211c80319c"
_PARENT = "b7ad6b7169203331"
_TRACEPARENT = f"00-{_TRACE}-{_PARENT}-01"
_SERVER, _CLIENT = 2, 3  # OTLP span kinds


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as started:
        yield started


@pytest.fixture
def traced(backend: BackendThread, receiver: OtlpReceiver) -> Iterator[Stack]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",  # export within 50 ms, not 5 s
        "OTEL_SERVICE_NAME": "gw-under-test",
    }
    # A Redis of its own: the ingestion queue is shared by every sidecar on one Redis, and
    # the suite's other stacks keep their files in other data dirs.
    redis = RedisServer().start()
    stack = Stack(f"{backend.url}/v1", redis.url, env=env, mcp_allowed_hosts="127.0.0.1")
    try:
        with stack.start():
            yield stack
    finally:
        redis.stop()


def _spans_until(receiver: OtlpReceiver, wanted: int) -> list[ReceivedSpan]:
    """The spans exported once the request's server span (ended last) and at least
    `wanted` spans in all have arrived."""

    def arrived() -> bool:
        spans = receiver.received()
        return len(spans) >= wanted and any(s.kind == _SERVER for s in spans)

    wait_until(arrived, 10, "the exported spans")
    return receiver.received()


def test_a_create_is_a_server_span_in_the_clients_trace(
    traced: Stack,
    receiver: OtlpReceiver,
    recorder: BackendRecorder,
    make_sdk: Callable[..., openai.OpenAI],
) -> None:
    client = make_sdk(
        traced.base_url, "sk-trace", max_retries=0, default_headers={"traceparent": _TRACEPARENT}
    )
    created = client.responses.create(model="m", input="A secret sentence.")
    [span] = [s for s in _spans_until(receiver, 1) if s.kind == _SERVER]
    assert (span.trace_id, span.parent_span_id) == (_TRACE, _PARENT)
    assert span.name == "chat" and span.service == "gw-under-test"
    attributes = span.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["openresponses.operation"] == "create_response"
    assert attributes["gen_ai.request.model"] == "m"
    assert attributes["gen_ai.response.id"] == created.id
    assert created.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == created.usage.input_tokens
    assert attributes["gen_ai.usage.output_tokens"] == created.usage.output_tokens
    assert attributes["http.response.status_code"] == 200
    # The backend was handed the gateway's span as its parent, in the same trace.
    [sent] = recorder.requests
    assert sent.headers["traceparent"] == f"00-{_TRACE}-{span.span_id}-01"
    assert "A secret sentence." not in repr(receiver.received())


def test_tool_loop_turns_and_tool_calls_are_children(
    traced: Stack,
    receiver: OtlpReceiver,
    servers: dict[str, McpServerProcess],
    make_sdk: Callable[..., openai.OpenAI],
) -> None:
    client = make_sdk(traced.base_url, "sk-trace-tools", max_retries=0)
    tool = {
        "type": "mcp",
        "server_label": "calc",
        "server_url": servers["healthy"].url,
        "require_approval": "never",
    }
    response = client.responses.create(
        model="m",
        input='call calc__add {"a": 20, "b": 22}',
        tools=[tool],  # type: ignore[list-item]
    )
    assert response.output_text == "tool said: 42"
    spans = _spans_until(receiver, 3)
    [server] = [s for s in spans if s.kind == _SERVER]
    tool_call = next(s for s in spans if s.name == "execute_tool add")
    turn = next(s for s in spans if s.kind == _CLIENT and s.name.startswith("chat"))
    for child in (tool_call, turn):
        assert (child.trace_id, child.parent_span_id) == (server.trace_id, server.span_id)
    assert tool_call.attributes["gen_ai.tool.type"] == "mcp"
    assert turn.attributes["http.response.status_code"] == 200
    assert "42" not in {str(v) for s in spans for v in s.attributes.values()}


def test_a_failed_request_is_an_error_span(
    traced: Stack, receiver: OtlpReceiver, make_sdk: Callable[..., openai.OpenAI]
) -> None:
    client = make_sdk(traced.base_url, "sk-trace-fail", max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="fail-500", input="x")
    [span] = [s for s in _spans_until(receiver, 1) if s.kind == _SERVER]
    assert span.attributes["http.response.status_code"] == 500
    assert span.status_code == 2  # STATUS_CODE_ERROR


def test_no_endpoint_no_export(stack: Stack) -> None:
    # The suite's own stacks run without OTEL_* variables: nothing is configured.
    assert not any(key.startswith("OTEL_EXPORTER") for key in os.environ)
    assert "OTEL" not in str(stack.settings)


def test_storage_work_is_children_without_contents(
    traced: Stack, receiver: OtlpReceiver, make_sdk: Callable[..., openai.OpenAI]
) -> None:
    client = make_sdk(traced.base_url, "sk-trace-storage", max_retries=0)
    store = client.vector_stores.create(name="traced")
    uploaded = upload(client, "t.txt", "A private paragraph about quokkas.")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=uploaded.id)
    ingested = wait_ingested(client, store.id, uploaded.id)
    assert ingested.status == "completed", ingested.last_error
    client.vector_stores.search(vector_store_id=store.id, query="quokkas")

    def search_span() -> list[ReceivedSpan]:
        return [
            s
            for s in receiver.received()
            if s.attributes.get("openresponses.operation") == "search_vector_store"
        ]

    wait_until(lambda: bool(search_span()), 10, "the search's span")
    [server] = search_span()
    children = [s for s in receiver.received() if s.parent_span_id == server.span_id]
    query = next(s for s in children if s.attributes.get("db.system.name") == "qdrant")
    redis = [s for s in children if s.attributes.get("db.system") == "redis"]
    assert query.name == "query chunks" and query.attributes["db.operation.name"] == "query"
    assert redis, "the store's record is read from Redis inside the request"
    assert {s.trace_id for s in (query, *redis)} == {server.trace_id}
    assert "quokkas" not in repr(receiver.received())
    assert store.id not in repr([s.attributes for s in redis])  # arguments are elided
    # Redis work outside any request (health probes, the ingestion worker) is no trace.
    assert all(
        s.parent_span_id for s in receiver.received() if s.attributes.get("db.system") == "redis"
    )
