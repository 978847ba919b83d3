"""Unit tests: one validator per MCP concept (`core.tools.mcp.models`), as the inline
`mcp` tool and connector bodies (`core.connectors.models`) both use it."""

from __future__ import annotations

from typing import Any

import pytest

from core.common.errors import InvalidRequestError
from core.common.models import parse
from core.connectors.models import ConnectorCreate, ConnectorUpdate
from core.tools.mcp.models import McpToolSpec

JSON = dict[str, Any]
SECRET = "s3cr3t-value"
URL = "https://mcp.example.com/mcp"


def tool(**fields: Any) -> JSON:
    return {"type": "mcp", "server_label": "docs", "server_url": URL, **fields}


# (fields shared by both, param below the tool or body, code)
SHARED: list[tuple[JSON, str, str]] = [
    ({"headers": ["x"]}, "headers", "invalid_type"),
    ({"headers": {"x-key": 5}}, "headers.x-key", "invalid_type"),
    ({"headers": {"bad name": SECRET}}, "headers.bad name", "invalid_value"),
    ({"headers": {"host": SECRET}}, "headers.host", "invalid_value"),
    ({"headers": {"x-key": f"{SECRET}\r\nx-evil: 1"}}, "headers.x-key", "invalid_value"),
    ({"headers": {"X-Key": SECRET, "x-key": SECRET}}, "headers.x-key", "invalid_value"),
    ({"headers": {f"x-{i}": SECRET for i in range(33)}}, "headers",
     "object_above_max_properties"),
    ({"authorization": 7}, "authorization", "invalid_type"),
    ({"authorization": " "}, "authorization", "invalid_value"),
    ({"authorization": f"{SECRET}\nx-evil: 1"}, "authorization", "invalid_value"),
    ({"authorization": SECRET, "headers": {"Authorization": SECRET}}, "authorization",
     "conflicting_parameters"),
    ({"allowed_tools": "search"}, "allowed_tools", "invalid_type"),
    ({"allowed_tools": [1]}, "allowed_tools[0]", "invalid_type"),
    ({"allowed_tools": [""]}, "allowed_tools[0]", "invalid_value"),
    ({"allowed_tools": ["t"] * 257}, "allowed_tools", "array_above_max_length"),
    ({"allowed_tools": {"tool_names": ["a"], "mode": 1}}, "allowed_tools.mode",
     "unknown_parameter"),
    ({"allowed_tools": {"read_only": None}}, "allowed_tools.tool_names",
     "missing_required_parameter"),
    ({"require_approval": "ALWAYS"}, "require_approval", "invalid_value"),
    ({"require_approval": ["never"]}, "require_approval", "invalid_type"),
    ({"require_approval": {"never": {"read_only": "yes"}}}, "require_approval.never.read_only",
     "invalid_type"),
    ({"require_approval": {"always": {"tool_names": ["x", "y"]}, "never": {"tool_names": ["y"]}}},
     "require_approval", "invalid_value"),
    ({"require_approval": {"sometimes": {"read_only": True}}}, "require_approval.sometimes",
     "unknown_parameter"),
    ({"require_approval": {"always": {"tool_names": [2]}}},
     "require_approval.always.tool_names[0]", "invalid_type"),
    ({"server_url": 5}, "server_url", "invalid_type"),
    ({"server_url": "ftp://mcp.example.com"}, "server_url", "invalid_value"),
    ({"server_url": f"https://user:{SECRET}@mcp.example.com"}, "server_url", "invalid_value"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "param", "code"), SHARED)
def test_same_rule_for_inline_tools_and_connectors(fields: JSON, param: str, code: str) -> None:
    results = []
    for model, data, prefix in (
        (McpToolSpec, tool(**fields), "tools[0]"),
        (ConnectorCreate, {"server_url": URL, **fields}, ""),
        (ConnectorUpdate, fields, ""),
    ):
        with pytest.raises(InvalidRequestError) as refused:
            parse(model, data, prefix)
        error = refused.value
        expected = f"{prefix}.{param}" if prefix else param
        assert (error.status, error.param, error.code) == (400, expected, code)
        results.append(error.message.replace("tools[0].", ""))
    assert len(set(results)) == 1  # the same message, but for the path


@pytest.mark.parametrize(("fields", "param", "code"), SHARED)
def test_credentials_never_appear_in_messages(fields: JSON, param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse(McpToolSpec, tool(**fields), "tools[0]")
    assert SECRET not in refused.value.message


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"server_label": "no spaces"}, "tools[0].server_label", "invalid_value"),
        ({"server_label": 3}, "tools[0].server_label", "invalid_type"),
        ({"server_url": None}, "tools[0].server_url", "missing_required_parameter"),
        ({"connector_id": "conn_1"}, "tools[0].connector_id", "conflicting_parameters"),
        ({"connector_id": 1, "server_url": None}, "tools[0].connector_id", "invalid_type"),
    ],
)
def test_tool_target(fields: JSON, param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse(McpToolSpec, tool(**fields), "tools[0]")
    assert (refused.value.param, refused.value.code) == (param, code)


def test_tool_headers_are_lower_cased_with_the_bearer_token() -> None:
    spec = parse(McpToolSpec, tool(headers={"X-Key": "k"}, authorization=" tok "), "tools[0]")
    assert spec.sent_headers() == {"x-key": "k", "authorization": "Bearer tok"}
    assert parse(McpToolSpec, tool(headers=None), "tools[0]").sent_headers() == {}


def test_filters_with_read_only_are_allowed_for_both() -> None:
    rule = {"never": {"read_only": True}, "always": {"tool_names": ["write"]}}
    allowed = {"tool_names": ["read"], "read_only": True}
    spec = parse(McpToolSpec, tool(require_approval=rule, allowed_tools=allowed), "tools[0]")
    assert spec.allowed_tools is not None
    assert spec.allowed_tools.matches({"name": "read", "annotations": {"readOnlyHint": True}})
    assert not spec.allowed_tools.matches({"name": "read"})
    body = parse(ConnectorCreate, {"server_url": URL, "require_approval": rule})
    assert body.changes()["require_approval"] == rule


def test_connector_changes_in_stored_form() -> None:
    body = parse(
        ConnectorUpdate,
        {"allowed_tools": {"tool_names": ["a"]}, "require_approval": "never", "name": None},
    )
    assert body.changes() == {"allowed_tools": ["a"], "require_approval": "never", "name": None}
    assert parse(ConnectorUpdate, {"authorization": "t"}).credentials({"x": "1"}) == {
        "x": "1", "authorization": "Bearer t"
    }  # fmt: skip
    assert parse(ConnectorUpdate, {"authorization": None}).credentials({"authorization": "a"}) == {}
    with pytest.raises(InvalidRequestError) as refused:
        parse(ConnectorCreate, {"name": "x"})
    assert (refused.value.param, refused.value.code) == ("server_url", "missing_required_parameter")
