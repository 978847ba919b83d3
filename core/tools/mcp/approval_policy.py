"""`require_approval` on an MCP tool: which of its calls wait for the client's approval.

The hosted API's default is "always". A filter object names tools under `always` and
`never` (by name, or by the server's read-only hint); a tool neither names needs approval,
which keeps the safe default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.common.errors import InvalidRequestError
from core.common.validation import invalid_type

__all__ = ["ApprovalPolicy", "parse_approval"]


@dataclass(frozen=True, slots=True)
class _Filter:
    names: frozenset[str] | None
    read_only: bool | None

    def matches(self, tool: dict[str, Any]) -> bool:
        if self.names is not None and tool.get("name") not in self.names:
            return False
        if self.read_only is not None:
            hints = tool.get("annotations") or {}
            return bool(hints.get("readOnlyHint")) == self.read_only
        return self.names is not None


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    default: bool  # whether a tool needs approval when no filter names it
    always: _Filter | None = None
    never: _Filter | None = None

    def needs(self, tool: dict[str, Any]) -> bool:
        if self.never is not None and self.never.matches(tool):
            return False
        if self.always is not None and self.always.matches(tool):
            return True
        return self.default


def _filter(value: Any, param: str) -> _Filter | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"tool_names", "read_only"}:
        raise invalid_type(param, "an object with tool_names or read_only", value)
    names = value.get("tool_names")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise invalid_type(f"{param}.tool_names", "an array of strings", names)
    read_only = value.get("read_only")
    if read_only is not None and not isinstance(read_only, bool):
        raise invalid_type(f"{param}.read_only", "a boolean", read_only)
    return _Filter(frozenset(names) if names is not None else None, read_only)


def parse_approval(value: Any, param: str) -> ApprovalPolicy:
    if value is None or value == "always":
        return ApprovalPolicy(default=True)
    if value == "never":
        return ApprovalPolicy(default=False)
    if isinstance(value, str):
        raise InvalidRequestError(
            f"Invalid value: '{value}'. Supported values are: 'always' and 'never'.",
            param=param,
            code="invalid_value",
        )
    if not isinstance(value, dict) or set(value) - {"always", "never"}:
        raise invalid_type(param, "'always', 'never' or an approval filter object", value)
    return ApprovalPolicy(
        default=True,
        always=_filter(value.get("always"), f"{param}.always"),
        never=_filter(value.get("never"), f"{param}.never"),
    )
