"""Finding a registered connector, for its API and for `mcp` tools that name one."""

from __future__ import annotations

from core.common.errors import NotFoundError
from core.ports import ConnectorStore, StoredConnector

__all__ = ["connector_not_found", "find_connector"]


def connector_not_found(connector_id: str, param: str = "connector_id") -> NotFoundError:
    return NotFoundError(f"No connector found with id '{connector_id}'.", param=param)


async def find_connector(
    store: ConnectorStore, tenant: str, connector_id: str, param: str = "connector_id"
) -> StoredConnector:
    """The tenant's connector; another tenant's id is not found (at `param`)."""
    found = await store.get(tenant, connector_id)
    if found is None:
        raise connector_not_found(connector_id, param=param)
    return found
