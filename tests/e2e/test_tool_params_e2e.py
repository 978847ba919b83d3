"""Wrongly typed or out-of-range tool and search parameters end to end: a 400 naming the
JSON path of the value, the same answer from the file_search tool and from
`/vector_stores/{id}/search`, and nothing sent to the backend."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.fake_backend import BackendRecorder
from support.harness import Stack
from support.served_bodies import checked_http

JSON = dict[str, Any]


@pytest.fixture(scope="module")
def store_id(stack: Stack) -> str:
    with checked_http(
        stack.base_url, headers={"authorization": "Bearer sk-test-tenant-a"}, timeout=30
    ) as raw:
        reply = raw.post("/vector_stores", json={"name": "params"})
        assert reply.status_code == 200, reply.text
        return str(reply.json()["id"])


def refused(reply: httpx.Response, param: str, code: str) -> JSON:
    assert reply.status_code == 400, reply.text
    error: JSON = reply.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    return error


def with_tool(http: httpx.Client, recorder: BackendRecorder, tool: JSON) -> httpx.Response:
    recorder.clear()
    reply = http.post("/responses", json={"model": "m", "input": "hi", "tools": [tool]})
    assert recorder.requests == []  # refused before the backend is asked
    return reply


BAD_FILTER = {"type": "and", "filters": [{"type": "eq", "key": "a", "value": 1},
                                         {"type": "eq", "key": "", "value": 1}]}  # fmt: skip
# (search options, param below the tool or body, code)
SHARED: list[tuple[JSON, str, str]] = [
    ({"ranking_options": {"score_threshold": "x"}}, "ranking_options.score_threshold",
     "invalid_type"),
    ({"ranking_options": {"score_threshold": 5}}, "ranking_options.score_threshold",
     "invalid_value"),
    ({"filters": BAD_FILTER}, "filters.filters[1].key", "invalid_value"),
    ({"filters": {"type": "like", "key": "a", "value": 1}}, "filters.type", "invalid_value"),
    ({"filters": {"type": "gt", "key": "n", "value": "5"}}, "filters.value", "invalid_type"),
    ({"max_num_results": "5"}, "max_num_results", "invalid_type"),
    ({"max_num_results": 0}, "max_num_results", "integer_below_min_value"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "param", "code"), SHARED)
def test_tool_and_search_give_the_same_answer(
    http: httpx.Client,
    recorder: BackendRecorder,
    store_id: str,
    options: JSON,
    param: str,
    code: str,
) -> None:
    tool = {"type": "file_search", "vector_store_ids": [store_id], **options}
    on_tool = refused(with_tool(http, recorder, tool), f"tools[0].{param}", code)
    search = http.post(f"/vector_stores/{store_id}/search", json={"query": "q", **options})
    on_search = refused(search, param, code)
    assert on_tool["message"] == on_search["message"].replace(f"'{param}", f"'tools[0].{param}")


@pytest.mark.parametrize(
    ("tool", "param", "code"),
    [
        ({"type": "file_search", "vector_store_ids": "vs_1"}, "tools[0].vector_store_ids",
         "invalid_type"),
        ({"type": "file_search", "vector_store_ids": [7]}, "tools[0].vector_store_ids[0]",
         "invalid_type"),
        ({"type": "file_search"}, "tools[0].vector_store_ids", "missing_required_parameter"),
        ({"allowed_tools": 5}, "tools[0].allowed_tools", "invalid_type"),
        ({"allowed_tools": ["a", 1]}, "tools[0].allowed_tools[1]", "invalid_type"),
        ({"require_approval": 5}, "tools[0].require_approval", "invalid_type"),
        ({"require_approval": "sometimes"}, "tools[0].require_approval", "invalid_value"),
        ({"require_approval": {"never": {"tool_names": "a"}}},
         "tools[0].require_approval.never.tool_names", "invalid_type"),
        ({"headers": ["x"]}, "tools[0].headers", "invalid_type"),
        ({"headers": {"x-key": 1}}, "tools[0].headers.x-key", "invalid_type"),
        ({"authorization": 1}, "tools[0].authorization", "invalid_type"),
    ],
)  # fmt: skip
def test_wrong_types_are_400s_with_their_param(
    http: httpx.Client, recorder: BackendRecorder, tool: JSON, param: str, code: str
) -> None:
    if "type" not in tool:
        tool = {"type": "mcp", "server_label": "x", "server_url": "https://mcp.example.com/mcp",
                **tool}  # fmt: skip
    refused(with_tool(http, recorder, tool), param, code)


def test_header_values_are_never_echoed_in_errors(
    http: httpx.Client, recorder: BackendRecorder
) -> None:
    secret = "hdr-secret-value"
    tool = {
        "type": "mcp", "server_label": "x", "server_url": "https://mcp.example.com/mcp",
        "headers": {"x-key": f"{secret}\r\nx-evil: 1"},
    }  # fmt: skip
    reply = with_tool(http, recorder, tool)
    refused(reply, "tools[0].headers.x-key", "invalid_value")
    assert secret not in reply.text
