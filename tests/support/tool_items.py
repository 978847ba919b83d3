"""Small readers for tool-turn tests: item types, what the backend was sent."""

from __future__ import annotations

from typing import Any

from support.fake_backend import BackendRecorder

JSON = dict[str, Any]


def types(items: list[Any]) -> list[str]:
    return [item["type"] if isinstance(item, dict) else item.type for item in items]


def backend_inputs(recorder: BackendRecorder) -> list[list[JSON]]:
    return [request.body["input"] for request in recorder.requests]


def no_mcp_items(items: list[JSON]) -> bool:
    return not any(str(item.get("type")).startswith("mcp_") for item in items)
