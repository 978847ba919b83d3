"""backend_body: the stateless body the backend gets for a parsed create request."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.responses.backend_errors import backend_error
from core.responses.context_windows import parse_overflow
from core.responses.create_request import CreateRequest, backend_body, parse_create_request

_USER = {"role": "user", "content": "hi"}


def _parse(**fields: Any) -> CreateRequest:
    return parse_create_request(orjson.dumps({"model": "m", "input": "hi", **fields}))


def _items(request: CreateRequest) -> list[dict[str, Any]]:
    return [orjson.loads(item) for item in request.input_items]


def _full_request() -> CreateRequest:
    return parse_create_request(
        orjson.dumps(
            {
                "model": "gpt-x",
                "input": [_USER, {"type": "function_call_output", "call_id": "c", "output": "ok"}],
                "previous_response_id": "resp_prev",
                "metadata": {"k": "v"},
                "conversation": None,
                "prompt": None,
                "store": True,
                "stream": True,
                "instructions": "be brief ✓",
                "tools": [{"type": "function", "name": "f", "parameters": {}}],
                "temperature": 0.25,
                "max_output_tokens": 64,
            }
        )
    )


def test_backend_body_puts_context_then_new_items_in_input() -> None:
    request = _full_request()
    context = [
        orjson.dumps({"id": "msg_old", "type": "message", "role": "user", "content": "é"}),
        orjson.dumps({"id": "msg_ans", "type": "message", "role": "assistant", "content": []}),
    ]
    raw = backend_body(request, b",".join(context))
    body = orjson.loads(raw)
    assert body["input"] == [orjson.loads(item) for item in [*context, *request.input_items]]
    assert b'"input":[' + b",".join([*context, *request.input_items]) + b"]}" in raw


def test_backend_body_is_stateless() -> None:
    body = orjson.loads(backend_body(_full_request(), b""))
    assert body["store"] is False
    for field in ("previous_response_id", "metadata", "conversation", "prompt"):
        assert field not in body, field


def test_backend_body_keeps_other_fields() -> None:
    body = orjson.loads(backend_body(_full_request(), b""))
    assert body["model"] == "gpt-x"
    assert body["instructions"] == "be brief ✓"
    assert body["tools"] == [{"type": "function", "name": "f", "parameters": {}}]
    assert body["temperature"] == 0.25
    assert body["max_output_tokens"] == 64
    assert body["stream"] is True


def test_backend_body_with_store_false_request() -> None:
    request = _parse(store=False, stream=False)
    body = orjson.loads(backend_body(request, b""))
    assert body["store"] is False
    assert body["stream"] is False
    assert body["input"] == _items(request)


def test_backend_body_of_a_continuation_without_new_input() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    context = [orjson.dumps({"id": "msg_1", "type": "message", "role": "user", "content": "x"})]
    raw = backend_body(request, b",".join(context))
    body = orjson.loads(raw)
    assert body == {"model": "m", "store": False, "input": [orjson.loads(context[0])]}
    assert raw.endswith(b'"input":[' + context[0] + b"]}")


def test_backend_body_of_a_continuation_with_several_context_items_and_no_new_input() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    context = [
        orjson.dumps({"id": f"msg_{i}", "type": "message", "content": "x"}) for i in range(3)
    ]
    raw = backend_body(request, b",".join(context))
    assert raw.endswith(b'"input":[' + b",".join(context) + b"]}")
    assert orjson.loads(raw)["input"] == [orjson.loads(item) for item in context]


def test_backend_body_with_no_items_at_all_is_valid_json() -> None:
    request = parse_create_request(orjson.dumps({"model": "m", "previous_response_id": "resp_1"}))
    assert orjson.loads(backend_body(request, b"")) == {"model": "m", "store": False, "input": []}


def test_backend_body_splices_stored_bytes_unchanged() -> None:
    # A stored item is forwarded byte for byte (no re-encoding).
    stored = b'{"id":"msg_1","type":"message","role":"user","content":"\xc3\xa9"}'
    raw = backend_body(_parse(), stored)
    assert b'"input":[' + stored + b"," in raw
    assert orjson.loads(raw)["input"][0]["content"] == "é"


@pytest.mark.parametrize(
    ("status", "body", "code", "window"),
    [
        (
            400,
            b'{"object":"error","message":"This model\'s maximum context length is 2048 tokens. '
            b'However, your request has 3000 input tokens.","type":"BadRequestError","code":400}',
            "context_length_exceeded",
            2048,
        ),
        (
            400,
            b'{"error":{"message":"Too long.","type":"invalid_request_error",'
            b'"code":"context_length_exceeded","param":"messages"}}',
            "context_length_exceeded",
            None,
        ),
        (400, b'{"object":"error","message":"bad request","code":400}', None, None),
        (500, b"maximum context length is 10 tokens", None, 10),
    ],
)
def test_context_overflow_is_context_length_exceeded(
    status: int, body: bytes, code: str | None, window: int | None
) -> None:
    error = backend_error(status, body)
    assert error.code == code
    found = parse_overflow(error.message)
    assert (found.window if found else None) == window
    if code is not None:
        assert (error.status, error.type_, error.param) == (400, "invalid_request_error", "input")
