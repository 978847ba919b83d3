"""Every error the gateway gives, in the exact OpenAI shape and status."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from typing import Any

import httpx
import openai
import pytest
import redis
from fake_backend import BackendThread
from harness import RedisServer, Stack, free_port

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
    body: JSON,
    message: str,
    type_: str,
    param: str | None = None,
    code: str | None = None,
    *,
    prefix: bool = False,
) -> None:
    assert list(body) == ["error"]
    error = body["error"]
    assert sorted(error) == ["code", "message", "param", "type"]
    assert (error["type"], error["param"], error["code"]) == (type_, param, code)
    if prefix:
        assert error["message"].startswith(message), error["message"]
    else:
        assert error["message"] == message


def frames(raw: str) -> list[str]:
    return [f for f in raw.split("\n\n") if f]


def events(raw: str) -> list[JSON]:
    """The payloads of an SSE body that must end with `data: [DONE]`."""
    parts = frames(raw)
    assert parts[-1] == "data: [DONE]"
    out = []
    for frame in parts[:-1]:
        event, data = frame.split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == event.removeprefix("event: ")
        out.append(payload)
    return out


INVALID: list[tuple[bytes, str, str | None, str | None]] = [
    (
        b"{not json",
        "We could not parse the JSON body of your request. The API expects a JSON payload, "
        "but what was sent was not valid JSON.",
        None,
        None,
    ),
    (b"", "The request body is empty; the API expects a JSON payload.", None, None),
    (
        b'{"input": "x"}',
        "Missing required parameter: 'model'.",
        "model",
        "missing_required_parameter",
    ),
    (
        b'{"model": "m", "input": 5}',
        "Invalid type for 'input': expected one of a string or array of input items, "
        "but got an integer instead.",
        "input",
        "invalid_type",
    ),
    (
        b'{"model": "m", "input": [{"role": "bogus", "content": "x"}]}',
        "Invalid value: 'bogus'. Supported values are: 'assistant', 'system', 'developer', "
        "and 'user'.",
        "input[0].role",
        "invalid_value",
    ),
    (
        json.dumps(
            {"model": "m", "input": "x", "metadata": {f"k{i}": "v" for i in range(17)}}
        ).encode(),
        "Invalid 'metadata': too many properties. Expected an object with at most 16 "
        "properties, but got an object with 17 properties instead.",
        "metadata",
        "object_above_max_properties",
    ),
    (
        b'{"model": "m", "input": "x", "previous_response_id": "resp_unknown"}',
        "Previous response with id 'resp_unknown' not found.",
        "previous_response_id",
        "previous_response_not_found",
    ),
]


@pytest.mark.parametrize(("body", "message", "param", "code"), INVALID)
def test_invalid_create(
    http: httpx.Client,
    backend: BackendThread,
    body: bytes,
    message: str,
    param: str | None,
    code: str | None,
) -> None:
    backend.clear()
    resp = http.post("/responses", content=body, headers={"content-type": "application/json"})
    assert_error(resp, 400, message, param=param, code=code)
    assert backend.requests == []  # rejected before reaching the backend


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
        (
            0,
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, "
            "but got 0 instead.",
            "integer_below_min_value",
        ),
        (
            101,
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, "
            "but got 101 instead.",
            "integer_above_max_value",
        ),
    ],
)
def test_input_items_limit_bounds(
    client: openai.OpenAI, http: httpx.Client, limit: int, message: str, code: str
) -> None:
    resp = client.responses.create(model="m", input=f"limits {uuid.uuid4().hex}")
    raw = http.get(f"/responses/{resp.id}/input_items", params={"limit": limit})
    assert_error(raw, 400, message, param="limit", code=code)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/responses/a/b/c"), ("GET", "/responses"), ("POST", "/responses/resp_x")],
)
def test_unknown_path_is_404(
    http: httpx.Client, backend: BackendThread, method: str, path: str
) -> None:
    backend.clear()
    resp = http.request(method, path, json={"model": "m", "input": "x"})
    assert_error(resp, 404, f"Invalid URL ({method} /v1{path})")
    assert backend.requests == []


BACKEND_ERRORS: list[tuple[str, int, str, str, str | None, str | None]] = [
    ("fail-400", 400, "The model `fail-400` does not exist.", "invalid_request_error", "model",
     "model_not_found"),
    ("fail-500", 500, "internal failure", "server_error", None, None),
    ("fail-plain", 500, "boom", "server_error", None, None),
    ("fail-vllm", 400, "bad request from vllm", "invalid_request_error", None, None),
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
    assert [p["type"] for p in payloads] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]
    failed = payloads[-1]["response"]
    assert failed["status"] == "failed" and failed["id"] == payloads[0]["response"]["id"]
    stored = http.get(f"/responses/{failed['id']}")
    assert stored.status_code == 200
    assert stored.json()["status"] == "failed"
    assert stored.json()["error"] == failed["error"]


def test_backend_stream_cut(http: httpx.Client, redis_sync: redis.Redis) -> None:
    before = len(redis_sync.keys(STORED))
    body = {"model": "stream-cut", "input": f"cut {uuid.uuid4().hex}", "stream": True}
    with http.stream("POST", "/responses", json=body) as resp:
        raw = resp.read().decode()
    if resp.status_code == 502:
        assert resp.headers["content-type"].startswith("application/json")
        message = "The backend could not be reached"
        assert_error_body(json.loads(raw), message, "server_error", prefix=True)
        assert len(redis_sync.keys(STORED)) == before
        return
    assert resp.status_code == 200
    payloads = events(raw)
    assert payloads[0]["type"] == "response.created"
    assert [p["type"] for p in payloads[-2:]] == ["error", "response.failed"]
    assert payloads[-2]["code"] == "server_error"
    response_id = payloads[-1]["response"]["id"]
    assert payloads[-1]["response"]["status"] == "failed"
    assert http.get(f"/responses/{response_id}").json()["status"] == "failed"


def test_backend_unreachable_is_502(redis_server: RedisServer) -> None:
    gateway = Stack(f"http://127.0.0.1:{free_port()}/v1", redis_server.url)
    try:
        gateway.start()
        with httpx.Client(base_url=gateway.base_url, timeout=30) as raw:
            for stream in (False, True):
                body = {"model": "m", "input": "x", "stream": stream}
                resp = raw.post("/responses", json=body)
                assert_error(
                    resp, 502, "The backend could not be reached", "server_error", prefix=True
                )
    finally:
        gateway.stop()


def _cut_after_first_event(listener: socket.socket, cut: threading.Event) -> None:
    """A backend that streams one event, then drops the connection when told to."""
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


def test_stream_cut_after_first_event_still_terminates(redis_server: RedisServer) -> None:
    """The relay's promise: a stream always ends with error, response.failed and [DONE]."""
    listener = socket.create_server(("127.0.0.1", 0))
    cut = threading.Event()
    server = threading.Thread(target=_cut_after_first_event, args=(listener, cut), daemon=True)
    server.start()
    gateway = Stack(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", redis_server.url)
    try:
        gateway.start()
        with httpx.Client(base_url=gateway.base_url, timeout=30) as raw:
            body = {"model": "m", "input": "x", "stream": True}
            with raw.stream("POST", "/responses", json=body) as resp:
                assert resp.status_code == 200
                chunks = resp.iter_bytes()
                received = next(chunks)  # the client has the first event: now cut
                cut.set()
                try:
                    received += b"".join(chunks)
                except httpx.RemoteProtocolError as error:
                    pytest.fail(f"stream truncated ({error}) after {received!r}")
        payloads = events(received.decode())
        assert [p["type"] for p in payloads] == ["response.created", "error", "response.failed"]
        response_id = payloads[-1]["response"]["id"]
        with httpx.Client(base_url=gateway.base_url, timeout=30) as raw:
            assert raw.get(f"/responses/{response_id}").json()["status"] == "failed"
    finally:
        cut.set()
        gateway.stop()
        listener.close()
        server.join(30)
