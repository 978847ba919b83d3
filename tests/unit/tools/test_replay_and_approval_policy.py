"""Unit tests: client-view tool items turned into backend items (`core.responses.replay`), and
`require_approval` policies (`core.tools.mcp.approval_policy`)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.common.errors import InvalidRequestError
from core.responses.replay import for_backend
from core.tools.mcp.approval_policy import ApprovalPolicy, parse_approval

JSON = dict[str, Any]
PARAM = "tools[0].require_approval"


def joined(*items: Any) -> bytes:
    return b",".join(orjson.dumps(item) for item in items)


def translated(*items: Any) -> list[Any]:
    out = for_backend(joined(*items))
    return list(orjson.loads(b"[" + out + b"]"))


USER = {"id": "msg_1", "type": "message", "role": "user", "content": [
    {"type": "input_text", "text": "hi"}
]}  # fmt: skip
MCP_CALL = {
    "id": "mcp_1",
    "type": "mcp_call",
    "status": "completed",
    "server_label": "calc",
    "name": "add",
    "arguments": '{"a":2,"b":40}',
    "output": "42",
    "error": None,
}


# --------------------------------------------------------------------------- for_backend


def test_items_without_a_marker_are_returned_as_they_are() -> None:
    plain = joined(
        USER,
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": "ok"},
    )
    assert for_backend(plain) is plain
    empty = b""
    assert for_backend(empty) is empty
    # Text that merely mentions an item type is escaped in JSON, so it is no marker.
    quoted = joined({**USER, "content": [{"type": "input_text", "text": '"type":"mcp_call"'}]})
    assert for_backend(quoted) is quoted


def test_mcp_call_with_output_becomes_a_function_call_and_its_output() -> None:
    assert translated(USER, MCP_CALL) == [
        USER,
        {"type": "function_call", "call_id": "mcp_1", "name": "calc__add",
         "arguments": '{"a":2,"b":40}'},
        {"type": "function_call_output", "call_id": "mcp_1", "output": "42"},
    ]  # fmt: skip


def test_mcp_call_with_error_reports_the_error() -> None:
    failed = {**MCP_CALL, "status": "failed", "output": None, "error": "boom"}
    call, output = translated(failed)
    assert call["type"] == "function_call" and call["name"] == "calc__add"
    assert output == {"type": "function_call_output", "call_id": "mcp_1", "output": "Error: boom"}


def test_mcp_call_names_and_arguments_are_made_safe() -> None:
    odd = {**MCP_CALL, "name": "do.it now", "arguments": None, "output": None}
    call, output = translated(odd)
    assert call["name"] == "calc__do_it_now"
    assert call["arguments"] == "{}"
    assert output["output"] == ""
    long = {**MCP_CALL, "server_label": "s" * 60, "name": "t" * 60}
    assert len(translated(long)[0]["name"]) == 64


def test_file_search_call_with_results() -> None:
    search = {
        "id": "fs_1",
        "type": "file_search_call",
        "status": "completed",
        "queries": ["refund policy"],
        "results": [
            {"file_id": "file_a", "filename": "a.txt", "text": "30 days", "score": 0.9,
             "attributes": {"k": "v"}},
        ],
    }  # fmt: skip
    call, output = translated(search)
    assert call == {
        "type": "function_call", "call_id": "fs_1", "name": "file_search",
        "arguments": '{"queries":["refund policy"]}',
    }  # fmt: skip
    assert output["type"] == "function_call_output" and output["call_id"] == "fs_1"
    assert orjson.loads(output["output"]) == [
        {"file_id": "file_a", "filename": "a.txt", "text": "30 days"}
    ]


def test_file_search_call_without_results() -> None:
    search = {"id": "fs_2", "type": "file_search_call", "status": "completed",
              "queries": None, "results": None}  # fmt: skip
    call, output = translated(search)
    assert call["arguments"] == '{"queries":[]}'
    assert output["output"] == "The search results of this earlier call were not kept."


def test_listings_and_approvals_are_dropped() -> None:
    listed = {"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "calc", "tools": []}
    request = {"id": "mcpr_1", "type": "mcp_approval_request", "server_label": "calc",
               "name": "add", "arguments": "{}"}  # fmt: skip
    answer = {"id": "mcpa_1", "type": "mcp_approval_response", "approval_request_id": "mcpr_1",
              "approve": True}  # fmt: skip
    assistant = {"id": "msg_2", "type": "message", "role": "assistant", "content": []}
    assert translated(USER, listed, request, answer, MCP_CALL, assistant) == [
        USER,
        {"type": "function_call", "call_id": "mcp_1", "name": "calc__add",
         "arguments": '{"a":2,"b":40}'},
        {"type": "function_call_output", "call_id": "mcp_1", "output": "42"},
        assistant,
    ]  # fmt: skip
    assert for_backend(joined(listed, request, answer)) == b""


def test_other_items_beside_translated_ones_are_kept_unchanged() -> None:
    reasoning = {"id": "rs_1", "type": "reasoning", "summary": [], "content": None}
    unknown_mcp = {"id": "x_1", "type": "mcp_something_new", "value": 1}
    assert translated(reasoning, unknown_mcp, MCP_CALL)[:2] == [reasoning, unknown_mcp]


# --------------------------------------------------------------------------- parse_approval

ADD: JSON = {"name": "add"}
ECHO: JSON = {"name": "echo", "annotations": None}
READ: JSON = {"name": "read", "annotations": {"readOnlyHint": True}}
WRITE: JSON = {"name": "write", "annotations": {"readOnlyHint": False}}
TOOLS = (ADD, ECHO, READ, WRITE)


def needing(policy: ApprovalPolicy) -> set[str]:
    return {tool["name"] for tool in TOOLS if policy.needs(tool)}


@pytest.mark.parametrize("value", [None, "always"])
def test_always_is_the_default(value: Any) -> None:
    assert needing(parse_approval(value, PARAM)) == {"add", "echo", "read", "write"}


def test_never() -> None:
    assert needing(parse_approval("never", PARAM)) == set()


@pytest.mark.parametrize(
    ("value", "needs"),
    [
        ({"never": {"tool_names": ["add"]}}, {"echo", "read", "write"}),
        ({"always": {"tool_names": ["echo"]}}, {"add", "echo", "read", "write"}),
        ({"never": {"tool_names": ["add", "echo"]}, "always": {"tool_names": ["read"]}},
         {"read", "write"}),
        ({"never": {"tool_names": []}}, {"add", "echo", "read", "write"}),
        ({}, {"add", "echo", "read", "write"}),
        ({"never": {"read_only": True}}, {"add", "echo", "write"}),
        # Tools without the hint are not read-only.
        ({"never": {"read_only": False}}, {"read"}),
        ({"always": {"read_only": True}, "never": {"read_only": False}}, {"read"}),
        # Names and the hint together: both must hold.
        ({"never": {"tool_names": ["read", "add"], "read_only": True}}, {"add", "echo", "write"}),
    ],
)  # fmt: skip
def test_filter_objects(value: JSON, needs: set[str]) -> None:
    assert needing(parse_approval(value, PARAM)) == needs


# One parser for inline tools and connectors: the connector's strictness (unknown fields
# are unknown parameters, a filter names something, no tool both always and never).
@pytest.mark.parametrize(
    ("value", "param", "code"),
    [
        ("sometimes", PARAM, "invalid_value"),
        (1, PARAM, "invalid_type"),
        (True, PARAM, "invalid_type"),
        (["never"], PARAM, "invalid_type"),
        ({"maybe": {"tool_names": ["a"]}}, f"{PARAM}.maybe", "unknown_parameter"),
        ({"always": ["a"]}, f"{PARAM}.always", "invalid_type"),
        ({"always": "a"}, f"{PARAM}.always", "invalid_type"),
        ({"never": {"names": ["a"]}}, f"{PARAM}.never.names", "unknown_parameter"),
        ({"never": {"tool_names": "a"}}, f"{PARAM}.never.tool_names", "invalid_type"),
        ({"never": {"tool_names": [1]}}, f"{PARAM}.never.tool_names[0]", "invalid_type"),
        ({"always": {"read_only": "yes"}}, f"{PARAM}.always.read_only", "invalid_type"),
        ({"never": {}}, f"{PARAM}.never.tool_names", "missing_required_parameter"),
        ({"always": {"tool_names": ["a"]}, "never": {"tool_names": ["a", "b"]}}, PARAM,
         "invalid_value"),
    ],
)  # fmt: skip
def test_invalid_shapes(value: Any, param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_approval(value, PARAM)
    assert (refused.value.status, refused.value.param, refused.value.code) == (400, param, code)
