"""The Connectors API: MCP servers a tenant registers once and then names by id.

A connector keeps the server's URL, the headers sent to it, which of its tools may be
used and when they need approval. Headers are credentials: they are stored (a response
that uses the connector needs them) but no endpoint returns them; the object lists
their names only. Whether the server's address is allowed (not private, loopback...)
is checked when a response calls it, on what its name resolves to at that time.
"""

from __future__ import annotations

import time

import orjson

from core.common.errors import InvalidRequestError
from core.common.http import Call, Reply, deleted
from core.common.ids import new_id
from core.common.listing import list_body, page_request
from core.common.models import parse_body
from core.connectors.lookup import connector_not_found, find_connector
from core.connectors.models import ConnectorCreate, ConnectorObject, ConnectorUpdate, same_origin
from core.ports import ConnectorStore, StoredConnector
from core.routes import Route

__all__ = ["ConnectorsApi"]


def _stored(obj: ConnectorObject, headers: dict[str, str]) -> StoredConnector:
    """The connector with `header_names` derived from the headers, so they never drift."""
    shown = obj.model_copy(update={"header_names": sorted(headers)})
    return StoredConnector(obj=shown.model_dump(), headers=headers)


class ConnectorsApi:
    def __init__(self, store: ConnectorStore) -> None:
        self._store = store

    def routes(self) -> list[Route]:
        one = "/v1/connectors/{connector_id}"
        return [
            Route("POST", "/v1/connectors", self.create, "create_connector", needs_body=True),
            Route("GET", "/v1/connectors", self.list, "list_connectors"),
            Route("GET", one, self.retrieve, "get_connector"),
            Route("POST", one, self.update, "update_connector", needs_body=True),
            Route("DELETE", one, self.delete, "delete_connector"),
        ]

    async def create(self, call: Call) -> Reply:
        fields = parse_body(ConnectorCreate, call.body)
        obj = ConnectorObject.model_validate(
            {"id": new_id("conn"), "created_at": int(time.time()), **fields.changes()}
        )
        connector = _stored(obj, fields.credentials({}))
        await self._store.create(call.tenant, connector)
        return Reply(200, orjson.dumps(connector.obj))

    async def list(self, call: Call) -> Reply:
        cursor = page_request(call.request)
        page = await self._store.page(
            call.tenant, cursor.limit, cursor.descending, cursor.after, cursor.before
        )
        return Reply(200, list_body([orjson.loads(item) for item in page.items], page.has_more))

    async def retrieve(self, call: Call) -> Reply:
        (connector_id,) = call.ids
        found = await find_connector(self._store, call.tenant, connector_id)
        return Reply(200, orjson.dumps(found.obj))

    async def update(self, call: Call) -> Reply:
        tenant = call.tenant
        (connector_id,) = call.ids
        fields = parse_body(ConnectorUpdate, call.body)
        current = await find_connector(self._store, tenant, connector_id)
        obj = ConnectorObject.model_validate({**current.obj, **fields.changes()})
        moved = not same_origin(current.server_url, obj.server_url)
        if moved and current.headers and "headers" not in fields.model_fields_set:
            # Stored credentials were given for the old server: never hand them to another.
            raise InvalidRequestError(
                "Moving a connector to another origin needs its 'headers' again (an empty "
                "object for none): stored headers are not sent to a different server.",
                param="headers",
                code="missing_required_parameter",
            )
        connector = _stored(obj, fields.credentials(current.headers))
        if not await self._store.update(tenant, connector):
            raise connector_not_found(connector_id)
        return Reply(200, orjson.dumps(connector.obj))

    async def delete(self, call: Call) -> Reply:
        (connector_id,) = call.ids
        if not await self._store.delete(call.tenant, connector_id):
            raise connector_not_found(connector_id)
        return deleted(connector_id, "connector.deleted")
