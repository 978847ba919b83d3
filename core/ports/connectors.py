"""What the engine needs to keep registered MCP connectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from core.ports.conversations import ItemPage

__all__ = ["ConnectorStore", "StoredConnector"]


@dataclass(frozen=True, slots=True)
class StoredConnector:
    """A registered MCP server: its public object and the headers sent to it.

    `obj` is what clients see (`header_names` lists the headers' names); `headers` are
    credentials, lower-cased names to values, for calling the server only. They are left
    out of the repr so that logging a connector never logs them.
    """

    obj: dict[str, Any]
    headers: dict[str, str] = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def server_url(self) -> str:
        return str(self.obj["server_url"])


class ConnectorStore(Protocol):
    """Registered MCP connectors, scoped by tenant: another tenant's id is not found.

    Listings hold public objects only; the headers come back from `get` alone.
    """

    async def create(self, tenant: str, connector: StoredConnector) -> None: ...

    async def get(self, tenant: str, connector_id: str) -> StoredConnector | None: ...

    async def update(self, tenant: str, connector: StoredConnector) -> bool:
        """Overwrite the object and headers if the connector still exists."""

    async def delete(self, tenant: str, connector_id: str) -> bool: ...

    async def page(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage:
        """Encoded public objects in creation order (newest first when `descending`)."""
