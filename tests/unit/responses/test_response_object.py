"""present() and split_for_storage(): the backend's response made the gateway's own."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from core.responses.create_request import CreateRequest, parse_create_request
from core.responses.presentation import TERMINAL_STATUSES, present, split_for_storage


def _request(**fields: Any) -> CreateRequest:
    return parse_create_request(orjson.dumps({"model": "m", "input": "hi", **fields}))


def _backend_response(**fields: Any) -> dict[str, Any]:
    return {
        "id": "resp_backend",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": "backend-model",
        "output": [
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "ünï ✓", "annotations": []}],
            }
        ],
        **fields,
    }


def test_present_overrides_the_stateful_fields() -> None:
    request = _request(previous_response_id="resp_prev", store=True, metadata={"a": "1"})
    response = _backend_response(
        store=False,
        previous_response_id=None,
        metadata={"backend": "x"},
        background=True,
        object="something",
    )
    present(response, request, "resp_gateway")
    assert response["id"] == "resp_gateway"
    assert response["object"] == "response"
    assert response["store"] is True
    assert response["previous_response_id"] == "resp_prev"
    assert response["metadata"] == {"a": "1"}
    assert response["background"] is False


def test_present_with_store_false_and_no_previous() -> None:
    response = _backend_response(store=True, previous_response_id="resp_backend_prev")
    present(response, _request(store=False), "resp_g")
    assert response["store"] is False
    assert response["previous_response_id"] is None
    assert response["metadata"] == {}


def test_present_keeps_backend_fields_it_does_not_own() -> None:
    response = _backend_response(usage={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7})
    original = copy.deepcopy(response)
    present(response, _request(), "resp_g")
    for key in ("created_at", "status", "model", "output"):
        assert response[key] == original[key], key
    # The counts stay; the details the document requires are added as zero.
    assert response["usage"] == {
        **original["usage"],
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def test_present_leaves_out_nulls_the_document_does_not_allow() -> None:
    response = _backend_response(user=None, usage=None)
    del response["created_at"], response["model"]
    present(response, _request(), "resp_g")
    assert "user" not in response
    assert "usage" not in response
    assert isinstance(response["created_at"], int)
    assert response["model"] == _request().body["model"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("instructions", "be brief"),
        ("temperature", 0.3),
        ("top_p", 0.9),
        ("tools", [{"type": "function", "name": "f", "parameters": {}, "strict": True}]),
        ("tool_choice", "required"),
        ("parallel_tool_calls", False),
        ("max_output_tokens", 99),
        ("reasoning", {"effort": "low"}),
        ("text", {"format": {"type": "text"}}),
        ("user", "u-1"),
    ],
)
def test_echoed_fields_are_filled_only_when_the_backend_omitted_them(
    field: str, value: Any
) -> None:
    request = _request(**{field: value})
    omitted = _backend_response()
    present(omitted, request, "resp_g")
    assert omitted[field] == value

    backend_value = {"backend": "value"}
    answered = _backend_response(**{field: backend_value})
    present(answered, request, "resp_g")
    assert answered[field] == backend_value


@pytest.mark.parametrize(("sent", "echoed"), [(None, "disabled"), ("auto", "auto")])
def test_truncation_is_the_clients_whatever_the_backend_says(sent: str | None, echoed: str) -> None:
    # The gateway truncates (the backend is never sent the field), so the backend's
    # own default says nothing about this request.
    request = _request(**({"truncation": sent} if sent else {}))
    response = _backend_response(truncation="disabled" if sent else "auto")
    present(response, request, "resp_g")
    assert response["truncation"] == echoed


def test_backend_null_is_kept_over_the_request_value() -> None:
    # Present but null is an answer: only a missing key is filled from the request.
    response = _backend_response(temperature=None)
    present(response, _request(temperature=0.5), "resp_g")
    assert response["temperature"] is None


def test_request_fields_that_are_not_echoed_are_not_copied() -> None:
    response = _backend_response()
    present(
        response,
        _request(stream=True, include=["message.output_text.logprobs"], model="m2"),
        "resp_g",
    )
    assert "input" not in response
    assert "stream" not in response
    assert "include" not in response
    assert response["model"] == "backend-model"


def test_required_fields_are_filled_when_neither_side_has_them() -> None:
    response: dict[str, Any] = {"id": "x", "status": "completed"}
    present(response, _request(), "resp_g")
    for key in ("error", "incomplete_details", "instructions", "temperature", "top_p"):
        assert key in response and response[key] is None, key
    assert response["output"] == []
    assert response["tools"] == []
    assert response["tool_choice"] == "auto"
    assert response["parallel_tool_calls"] is True


def test_required_defaults_do_not_override_backend_values() -> None:
    error = {"code": "server_error", "message": "boom"}
    response = _backend_response(
        error=error,
        incomplete_details={"reason": "max_output_tokens"},
        tool_choice="none",
        parallel_tool_calls=False,
        tools=[{"type": "web_search"}],
    )
    present(response, _request(), "resp_g")
    assert response["error"] == error
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["tool_choice"] == "none"
    assert response["parallel_tool_calls"] is False
    assert response["tools"] == [{"type": "web_search"}]


def test_terminal_statuses() -> None:
    assert {"completed", "failed", "incomplete", "cancelled"} == TERMINAL_STATUSES
    assert "in_progress" not in TERMINAL_STATUSES
    assert "queued" not in TERMINAL_STATUSES


def test_split_for_storage_round_trips() -> None:
    response = _backend_response()
    response["output"].append(
        {"id": "fc_1", "type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}
    )
    present(response, _request(metadata={"k": "ü"}), "resp_g")
    record, output = split_for_storage(response)
    decoded = orjson.loads(record)
    assert "output" not in decoded
    assert len(output) == 2
    decoded["output"] = [orjson.loads(item) for item in output]
    assert decoded == response


def test_split_for_storage_keeps_item_order_and_encodes_each_item_alone() -> None:
    items = [{"id": f"msg_{i}", "type": "message"} for i in range(5)]
    record, output = split_for_storage({"id": "r", "output": items})
    assert orjson.loads(record) == {"id": "r"}
    assert [orjson.loads(item) for item in output] == items
    assert output == [orjson.dumps(item) for item in items]


@pytest.mark.parametrize("output", [{}, {"output": None}, {"output": []}], ids=str)
def test_split_for_storage_without_output(output: dict[str, Any]) -> None:
    response: dict[str, Any] = {"id": "r", "status": "failed", **output}
    record, items = split_for_storage(response)
    assert items == []
    assert orjson.loads(record) == {"id": "r", "status": "failed"}


def test_echoed_function_tools_get_the_hosted_apis_defaults() -> None:
    request = parse_create_request(
        orjson.dumps({"model": "m", "input": "x", "tools": [{"type": "function", "name": "f"}]})
    )
    response: dict[str, Any] = {"output": []}
    present(response, request, "resp_1")
    assert response["tools"] == [
        {"type": "function", "name": "f", "strict": True, "parameters": None}
    ]
