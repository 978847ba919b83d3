"""What the operator decides about server-side tools."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ToolSettings"]


@dataclass(frozen=True, slots=True)
class ToolSettings:
    mcp_allowed_hosts: str = ""  # hosts or CIDRs MCP servers may be on although private
    mcp_timeout: float = 30.0  # seconds one MCP listing or call may take
