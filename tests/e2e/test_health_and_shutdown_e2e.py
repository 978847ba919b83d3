"""The sidecar as a pod: its grpc.health.v1 service follows Redis, a SIGTERM drains it
(NOT_SERVING at once, in-flight streams finish, new ones are refused), and tool-loop
turns go wherever OPENRESPONSES_INTERNAL_URL says."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import grpc
import openai
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import RedisServer, Stack, free_port, wait_until
from support.mcp_servers import McpServerProcess
from support.served_bodies import checked_http

from extproc.health import EXT_PROC_SERVICE

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own, to stop and start again."""
    server = RedisServer().start()
    yield server
    server.stop()


def _health(stack: Stack) -> health_pb2_grpc.HealthStub:
    channel = grpc.insecure_channel(f"127.0.0.1:{stack.settings['extproc_port']}")
    return health_pb2_grpc.HealthStub(channel)


def _watch_until(stub: health_pb2_grpc.HealthStub, service: str, wanted: int) -> None:
    """Follow the Watch stream (the server pushes each change) until `wanted` shows."""
    updates = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=30)
    for update in updates:
        if update.status == wanted:
            updates.cancel()
            return
    raise AssertionError(f"the health of {service!r} never became {wanted}")


def test_health_follows_redis(backend: BackendThread, own_redis: RedisServer) -> None:
    with Stack(f"{backend.url}/v1", own_redis.url).start() as stack:
        stub = _health(stack)
        for service in ("", EXT_PROC_SERVICE):
            assert stub.Check(health_pb2.HealthCheckRequest(service=service)).status == SERVING
        with pytest.raises(grpc.RpcError) as unknown:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        own_redis.stop()
        _watch_until(stub, EXT_PROC_SERVICE, NOT_SERVING)
        own_redis.start()
        _watch_until(stub, EXT_PROC_SERVICE, SERVING)
        # Envoy's own health checks saw the same: requests flow again.
        with checked_http(stack.base_url, headers={"authorization": "Bearer k"}) as http:
            created = http.post("/conversations", json={})
        assert created.status_code == 200


def test_sigterm_drains_in_flight_streams(
    backend: BackendThread,
    redis_server: RedisServer,
    recorder: BackendRecorder,
    make_sdk: Callable[..., openai.OpenAI],
) -> None:
    stack = Stack(f"{backend.url}/v1", redis_server.url, shutdown_grace_seconds="20").start()
    try:
        client = make_sdk(stack.base_url, "sk-drain", max_retries=0)
        answers: list[object] = []

        def slow_request() -> None:
            metadata = {"delay": "2"}
            answers.append(client.responses.create(model="slow", input="hi", metadata=metadata))

        worker = threading.Thread(target=slow_request)
        worker.start()
        wait_until(lambda: len(recorder.requests) == 1, 10, "the slow request at the backend")
        # Watched from before the signal: the listening socket closes as the drain starts.
        watch = _health(stack).Watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
        assert next(watch).status == SERVING
        process = stack.sidecar.process
        assert process is not None
        process.terminate()  # SIGTERM, as Kubernetes sends it
        assert next(watch).status == NOT_SERVING
        watch.cancel()  # a watch is a stream too: the drain would wait for it
        with checked_http(stack.base_url, headers={"authorization": "Bearer k"}) as http:
            refused = http.post("/conversations", json={})
        assert refused.status_code == 503
        assert refused.json()["error"]["type"] == "server_error"
        worker.join(30)
        assert [type(a).__name__ for a in answers] == ["Response"]  # finished, not cut
        assert process.wait(timeout=30) == 0
    finally:
        stack.stop()


def _mcp_call(client: openai.OpenAI, server: McpServerProcess) -> openai.types.responses.Response:
    tool = {
        "type": "mcp",
        "server_label": "calc",
        "server_url": server.url,
        "require_approval": "never",
    }
    return client.responses.create(
        model="m",
        input='call calc__add {"a": 2, "b": 40}',
        tools=[tool],  # type: ignore[list-item]
    )


def test_tool_loop_turns_go_to_the_internal_url(
    backend: BackendThread,
    redis_server: RedisServer,
    servers: dict[str, McpServerProcess],
    make_sdk: Callable[..., openai.OpenAI],
) -> None:
    common = {"mcp_allowed_hosts": "127.0.0.1"}
    # Straight to the backend (a Service, in a cluster) instead of Envoy's listener.
    direct = Stack(
        f"{backend.url}/v1", redis_server.url, internal_url=f"{backend.url}/v1", **common
    )
    with direct.start():
        client = make_sdk(direct.base_url, "sk-internal", max_retries=0)
        assert _mcp_call(client, servers["healthy"]).output_text == "tool said: 42"
    # Nowhere: the follow-up turn cannot be made, so the setting is what is used.
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    broken = Stack(f"{backend.url}/v1", redis_server.url, internal_url=nowhere, **common)
    with broken.start(), pytest.raises(openai.APIStatusError) as failed:
        _mcp_call(make_sdk(broken.base_url, "sk-internal", max_retries=0), servers["healthy"])
    assert failed.value.status_code == 502
