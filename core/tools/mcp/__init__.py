"""MCP servers as a tool: listing and calling over streamable HTTP, where they may be, and
which calls wait for the client's approval."""

__all__: list[str] = []
