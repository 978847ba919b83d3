"""Server-side tools: `file_search` and `mcp` offered to the backend as functions and run
by the gateway, in a loop, buffered or streamed."""

from core.tools.settings import ToolSettings

__all__ = ["ToolSettings"]
