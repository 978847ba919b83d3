"""Every error the gateway gives, in the exact OpenAI shape and status."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import redis
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import RedisServer, Stack, free_port
from support.served_bodies import checked_http

JSON = dict[str, Any]
STORED = "or:*r:*"


def assert_error(
    resp: httpx.Response,
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    *,
    prefix: bool = False,
) -> None:
    """`resp` is exactly `{"error": {message, type, param, code}}` with this status."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert_error_body(resp.json(), message, type_, param, code, prefix=prefix)


def assert_error_body(
    body: JSON, message: str, type_: str, param: str | None, code: str | None, *, prefix: bool
) -> None:
    assert list(body) == ["error"]
    error = body["error"]
    assert sorted(error) == ["code", "message", "param", "type"]
    assert (error["type"], error["param"], error["code"]) == (type_, param, code)
    assert error["message"].startswith(message) if prefix else error["message"] == message


def events(raw: str) -> list[JSON]:
    """The payloads of an SSE body that must end with `data: [DONE]`."""
    frames = [f for f in raw.split("\n\n") if f]
    assert frames[-1] == "data: [DONE]"
    out = []
    for frame in frames[:-1]:
        event, data = frame.split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == event.removeprefix("event: ")
        out.append(payload)
    return out


INVALID: list[tuple[bytes, str, str | None, str | None]] = [
    (b"{not json", "We could not parse the JSON body of your request. The API expects a JSON "
     "payload, but what was sent was not valid JSON.", None, None),
    (b"", "The request body is empty; the API expects a JSON payload.", None, None),
    (b'{"input": "x"}', "Missing required parameter: 'model'.", "model",
     "missing_required_parameter"),
    (b'{"model": "m", "input": 5}', "Invalid type for 'input': expected one of a string or "
     "array of input items, but got an integer instead.", "input", "invalid_type"),
    (b'{"model": "m", "input": [{"role": "bogus", "content": "x"}]}', "Invalid value: 'bogus'. "
     "Supported values are: 'assistant', 'system', 'developer', and 'user'.", "input[0].role",
     "invalid_value"),
    (json.dumps({"model": "m", "input": "x", "metadata": {f"k{i}": "v" for i in range(17)}})
     .encode(), "Invalid 'metadata': too many properties. Expected an object with at most 16 "
     "properties, but got an object with 17 properties instead.", "metadata",
     "object_above_max_properties"),
    (b'{"model": "m", "input": "x", "previous_response_id": "resp_unknown"}', "Previous "
     "response with id 'resp_unknown' not found.", "previous_response_id",
     "previous_response_not_found"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message", "param", "code"), INVALID)
def test_invalid_create(
    http: httpx.Client,
    recorder: BackendRecorder,
    body: bytes,
    message: str,
    param: str | None,
    code: str | None,
) -> None:
    resp = http.post("/responses", content=body, headers={"content-type": "application/json"})
    assert_error(resp, 400, message, param=param, code=code)
    assert recorder.requests == []  # rejected before reaching the backend


def test_invalid_create_through_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model="m", input="x", previous_response_id="resp_unknown")
    assert error.value.status_code == 400
    assert error.value.code == "previous_response_not_found"


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("DELETE", ""), ("GET", "/input_items")]
)
def test_unknown_response_is_404(http: httpx.Client, method: str, suffix: str) -> None:
    resp = http.request(method, f"/responses/resp_missing{suffix}")
    assert_error(resp, 404, "Response with id 'resp_missing' not found.")


@pytest.mark.parametrize(
    ("limit", "message", "code"),
    [
        (0, "below minimum value. Expected a value >= 1, but got 0", "integer_below_min_value"),
        (
            101,
            "above maximum value. Expected a value <= 100, but got 101",
            "integer_above_max_value",
        ),
    ],
)
def test_input_items_limit_bounds(
    client: openai.OpenAI, http: httpx.Client, limit: int, message: str, code: str
) -> None:
    resp = client.responses.create(model="m", input=f"limits {uuid.uuid4().hex}")
    raw = http.get(f"/responses/{resp.id}/input_items", params={"limit": limit})
    message = f"Invalid 'limit': integer {message} instead."
    assert_error(raw, 400, message, param="limit", code=code)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/responses/a/b/c"), ("GET", "/responses"), ("POST", "/responses/resp_x")],
)
def test_unknown_path_is_404(
    http: httpx.Client, recorder: BackendRecorder, method: str, path: str
) -> None:
    resp = http.request(method, path, json={"model": "m", "input": "x"})
    assert_error(resp, 404, f"Invalid URL ({method} /v1{path})")
    assert recorder.requests == []


BACKEND_ERRORS: list[tuple[str, int, str, str, str | None, str | None]] = [
    ("fail-400", 400, "The model `fail-400` does not exist.", "invalid_request_error", "model",
     "model_not_found"),
    ("fail-500", 500, "internal failure", "server_error", None, None),
    ("fail-plain", 500, "boom", "server_error", None, None),
    ("fail-vllm", 400, "bad request from vllm", "invalid_request_error", None, None),
    # vLLM's overflow, as the hosted API reports it with truncation "disabled".
    ("fail-context", 400, "This model's maximum context length is 4096 tokens. However, your "
     "request has 5120 input tokens. Please reduce the length of the input messages.",
     "invalid_request_error", "input", "context_length_exceeded"),
]  # fmt: skip


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model", "status", "message", "type_", "param", "code"), BACKEND_ERRORS)
def test_backend_error_passed_through(
    http: httpx.Client,
    redis_sync: redis.Redis,
    model: str,
    status: int,
    message: str,
    type_: str,
    param: str | None,
    code: str | None,
    stream: bool,
) -> None:
    before = len(redis_sync.keys(STORED))
    resp = http.post("/responses", json={"model": model, "input": "x", "stream": stream})
    assert_error(resp, status, message, type_, param, code)
    assert len(redis_sync.keys(STORED)) == before  # a failed call stores nothing


def test_context_overflow_through_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as overflow:
        client.responses.create(model="fail-context", input="a long story", truncation="disabled")
    assert (overflow.value.code, overflow.value.param) == ("context_length_exceeded", "input")


def test_backend_errors_through_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model="fail-400", input="x")
    assert (bad.value.code, bad.value.param) == ("model_not_found", "model")
    with pytest.raises(openai.InternalServerError) as failed:
        client.responses.create(model="fail-500", input="x")
    assert failed.value.status_code == 500
    assert failed.value.body == {
        "message": "internal failure",
        "type": "server_error",
        "param": None,
        "code": None,
    }


@pytest.mark.parametrize("stream", [False, True])
def test_backend_timeout_is_504(http: httpx.Client, redis_sync: redis.Redis, stream: bool) -> None:
    before = len(redis_sync.keys(STORED))
    body = {"model": "slow", "input": "x", "metadata": {"delay": "5"}, "stream": stream}
    resp = http.post("/responses", json=body)
    assert_error(resp, 504, "The backend did not answer in time", "server_error", prefix=True)
    assert len(redis_sync.keys(STORED)) == before


def test_backend_stream_failure(http: httpx.Client) -> None:
    body = {"model": "stream-fail", "input": f"fail {uuid.uuid4().hex}", "stream": True}
    with http.stream("POST", "/responses", json=body) as resp:
        assert resp.status_code == 200
        payloads = events(resp.read().decode())
    kinds = [p["type"] for p in payloads]
    assert kinds == ["response.created", "response.in_progress", "response.failed"]
    failed = payloads[-1]["response"]
    assert failed["status"] == "failed" and failed["id"] == payloads[0]["response"]["id"]
    stored = http.get(f"/responses/{failed['id']}")
    assert stored.status_code == 200
    assert stored.json()["status"] == "failed"
    assert stored.json()["error"] == failed["error"]


def test_backend_stream_cut(http: httpx.Client, redis_sync: redis.Redis) -> None:
    """The fake backend resets right after its first events: depending on whether the
    response headers got through first, the client sees a 502 or a cut stream; either
    way nothing is stored as completed."""
    before = set(redis_sync.keys(STORED))
    body = {"model": "stream-cut", "input": f"cut {uuid.uuid4().hex}", "stream": True}
    try:
        with http.stream("POST", "/responses", json=body) as resp:
            raw = resp.read().decode()
    except httpx.RemoteProtocolError:
        assert resp.status_code == 200  # cut after the headers: Envoy resets the client
    else:
        assert resp.status_code == 502
        assert resp.headers["content-type"].startswith("application/json")
        message = "The backend could not be reached"
        assert_error_body(json.loads(raw), message, "server_error", None, None, prefix=True)
    for key in set(redis_sync.keys(STORED)) - before:
        record = json.loads(redis_sync.hget(key, "obj") or b"{}")
        assert record.get("status") != "completed"


@contextlib.contextmanager
def other_stack(backend_url: str, redis_server: RedisServer) -> Iterator[Stack]:
    """A gateway of its own in front of `backend_url`, sharing the session's Redis."""
    gateway = Stack(backend_url, redis_server.url)
    try:
        yield gateway.start()
    finally:
        gateway.stop()


def test_backend_unreachable_is_502(redis_server: RedisServer) -> None:
    with (
        other_stack(f"http://127.0.0.1:{free_port()}/v1", redis_server) as gateway,
        checked_http(gateway.base_url, timeout=30) as raw,
    ):
        for stream in (False, True):
            resp = raw.post("/responses", json={"model": "m", "input": "x", "stream": stream})
            message = "The backend could not be reached"
            assert_error(resp, 502, message, "server_error", prefix=True)


def test_sidecar_down_is_an_openai_error(
    redis_server: RedisServer, backend: BackendThread, recorder: BackendRecorder
) -> None:
    """Envoy fails closed when the processor is gone, still in the OpenAI error shape."""
    with (
        other_stack(f"{backend.url}/v1", redis_server) as gateway,
        checked_http(gateway.base_url, timeout=30) as raw,
    ):
        gateway.sidecar.stop()
        recorder.clear()
        for method in ("GET", "POST"):
            resp = raw.request(method, "/responses/resp_x", json={"model": "m", "input": "x"})
            assert resp.status_code == 503
            assert recorder.requests == []  # never leaked to the backend
            assert resp.headers.get("content-type", "").startswith("application/json"), resp
            error = resp.json()["error"]
            assert sorted(error) == ["code", "message", "param", "type"]
            assert error["type"] == "server_error" and error["message"]


def _cut_after_first_event(listener: socket.socket, cut: threading.Event) -> None:
    """A backend that streams one event, then drops the connection when told to."""
    with contextlib.suppress(OSError):
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            event = b'event: response.created\ndata: {"type":"response.created","response":'
            event += b'{"status":"in_progress","output":[]},"sequence_number":0}\n\n'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (len(event), event)
            )
            cut.wait(30)


def test_stream_cut_after_first_event_is_stored_as_failed(redis_server: RedisServer) -> None:
    """A backend that resets mid-stream: Envoy resets the client's stream too (nothing can
    follow an upstream reset), and the response the client saw is stored as failed."""
    listener = socket.create_server(("127.0.0.1", 0))
    cut = threading.Event()
    server = threading.Thread(target=_cut_after_first_event, args=(listener, cut), daemon=True)
    server.start()
    try:
        with (
            other_stack(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", redis_server) as gw,
            checked_http(gw.base_url, timeout=30) as raw,
        ):
            body = {"model": "m", "input": "x", "stream": True}
            with raw.stream("POST", "/responses", json=body) as resp:
                assert resp.status_code == 200
                chunks = resp.iter_bytes()
                received = next(chunks)  # the client has the first event: now cut
                cut.set()
                with pytest.raises(httpx.RemoteProtocolError):
                    b"".join(chunks)
            event, data = received.decode().strip().split("\n")
            assert event == "event: response.created"
            response_id = json.loads(data.removeprefix("data: "))["response"]["id"]
            # The failed record is written as Envoy closes the processor's stream.
            stored = raw.get(f"/responses/{response_id}")
            deadline = time.monotonic() + 10
            while stored.status_code == 404 and time.monotonic() < deadline:
                stored = raw.get(f"/responses/{response_id}")
            assert stored.status_code == 200, stored.text
            assert stored.json()["status"] == "failed"
            assert stored.json()["error"]["code"] == "server_error"
    finally:
        cut.set()
        listener.close()
        server.join(30)


def test_backend_503_is_relayed_not_mistaken_for_a_processor_outage(http: httpx.Client) -> None:
    # Envoy maps its own 503s (processor down) to a message of its own; the backend's
    # 503 must keep the backend's words.
    for stream in (False, True):
        body = {"model": "fail-503", "input": f"busy {uuid.uuid4().hex}", "stream": stream}
        resp = http.post("/responses", json=body)
        assert resp.status_code == 503
        assert resp.json() == {
            "error": {
                "message": "backend overloaded",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
