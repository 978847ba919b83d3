"""MCP connectors a tenant registers once and names by id."""

from core.connectors.api import ConnectorsApi

__all__ = ["ConnectorsApi"]
