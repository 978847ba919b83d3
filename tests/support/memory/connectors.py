"""MCP connectors in memory, with the semantics of `RedisConnectorStore`."""

from __future__ import annotations

import orjson

from core.ports import ItemPage, StoredConnector
from support.memory.paging import Sequence

__all__ = ["MemoryConnectorStore"]


def _copy(connector: StoredConnector) -> StoredConnector:
    """What a round trip through JSON gives back, as Redis stores it."""
    obj, headers = orjson.loads(orjson.dumps(connector.obj)), dict(connector.headers)
    return StoredConnector(obj=obj, headers=headers)


class MemoryConnectorStore:
    def __init__(self) -> None:
        self._connectors: dict[tuple[str, str], StoredConnector] = {}
        self._order: dict[str, Sequence] = {}

    async def create(self, tenant: str, connector: StoredConnector) -> None:
        self._connectors[(tenant, connector.id)] = _copy(connector)
        self._order.setdefault(tenant, Sequence()).add(connector.id)

    async def get(self, tenant: str, connector_id: str) -> StoredConnector | None:
        found = self._connectors.get((tenant, connector_id))
        return None if found is None else _copy(found)

    async def update(self, tenant: str, connector: StoredConnector) -> bool:
        if (tenant, connector.id) not in self._connectors:
            return False
        self._connectors[(tenant, connector.id)] = _copy(connector)
        return True

    async def delete(self, tenant: str, connector_id: str) -> bool:
        self._order.get(tenant, Sequence()).discard(connector_id)
        return self._connectors.pop((tenant, connector_id), None) is not None

    async def page(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage:
        order = self._order.get(tenant, Sequence())
        ids, more = order.page(limit, descending, after, before)
        objects = [self._connectors[(tenant, i)].obj for i in ids]
        return ItemPage(items=[orjson.dumps(obj) for obj in objects], has_more=more)
