"""`require_approval` on an MCP tool: which of its calls wait for the client's approval.

The hosted API's default is "always". A filter object names tools under `always` and
`never` (by name, or by the server's read-only hint); a tool neither names needs approval,
which keeps the safe default. The setting itself is validated by `core.tools.mcp.models`,
for inline tools and connectors alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.common.models import parse_as
from core.tools.mcp.models import APPROVAL_SETTING, ApprovalFilters

__all__ = ["ApprovalPolicy", "parse_approval"]


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    setting: Literal["always", "never"] | ApprovalFilters | None  # None: the default

    def needs(self, tool: dict[str, Any]) -> bool:
        if self.setting is None or self.setting == "always":
            return True
        if self.setting == "never":
            return False
        return self.setting.needs(tool)


def parse_approval(value: Any, param: str) -> ApprovalPolicy:
    """A `require_approval` value (given at `param`) as a policy."""
    if value is None:
        return ApprovalPolicy(None)
    setting: Literal["always", "never"] | ApprovalFilters = parse_as(APPROVAL_SETTING, value, param)
    return ApprovalPolicy(setting)
