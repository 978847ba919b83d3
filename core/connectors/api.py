"""The Connectors API: MCP servers a tenant registers once and then names by id.

A connector keeps the server's URL, the headers sent to it, which of its tools may be
used and when they need approval. Headers are credentials: they are stored (a response
that uses the connector needs them) but no endpoint returns them; the object lists
their names only. Whether the server's address is allowed (not private, loopback...)
is checked when a response calls it, on what its name resolves to at that time.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.http import Call, Reply
from core.common.ids import new_id
from core.common.listing import list_body, page_request
from core.common.validation import json_object, metadata, missing
from core.connectors.fields import (
    allowed_tools,
    credentials,
    optional_text,
    reject_unknown,
    require_approval,
    same_origin,
    server_url,
)
from core.ports import ConnectorStore, StoredConnector
from core.routes import Route

__all__ = ["ConnectorsApi", "connector_not_found"]

_FIELDS = frozenset(
    (
        "server_url",
        "name",
        "description",
        "headers",
        "authorization",
        "allowed_tools",
        "require_approval",
        "metadata",
    )
)


def connector_not_found(connector_id: str, param: str = "connector_id") -> NotFoundError:
    return NotFoundError(f"No connector found with id '{connector_id}'.", param=param)


def _stored(obj: dict[str, Any], headers: dict[str, str]) -> StoredConnector:
    """The connector with `header_names` derived from the headers, so they never drift."""
    return StoredConnector(obj={**obj, "header_names": sorted(headers)}, headers=headers)


def _apply(obj: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The object with the fields given (all optional here) checked and set."""
    changed = dict(obj)
    if "server_url" in fields:
        changed["server_url"] = server_url(fields["server_url"])
    for key in ("name", "description"):
        if key in fields:
            changed[key] = optional_text(fields[key], key)
    if "allowed_tools" in fields:
        changed["allowed_tools"] = allowed_tools(fields["allowed_tools"])
    if "require_approval" in fields:
        changed["require_approval"] = require_approval(fields["require_approval"])
    if "metadata" in fields:
        changed["metadata"] = metadata(fields["metadata"])
    return changed


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

    async def _connector(self, tenant: str, connector_id: str) -> StoredConnector:
        found = await self._store.get(tenant, connector_id)
        if found is None:
            raise connector_not_found(connector_id)
        return found

    async def create(self, call: Call) -> Reply:
        tenant = call.tenant
        body = call.body
        fields = json_object(body)
        reject_unknown(fields, _FIELDS)
        if fields.get("server_url") is None:
            raise missing("server_url")
        blank = {
            "id": new_id("conn"),
            "object": "connector",
            "created_at": int(time.time()),
            "name": None,
            "description": None,
            "server_url": None,
            "header_names": [],
            "allowed_tools": None,
            "require_approval": None,
            "metadata": {},
        }
        connector = _stored(_apply(blank, fields), credentials(fields, {}))
        await self._store.create(tenant, connector)
        return Reply(200, orjson.dumps(connector.obj))

    async def list(self, call: Call) -> Reply:
        tenant = call.tenant
        request = call.request
        cursor = page_request(request)
        page = await self._store.page(
            tenant, cursor.limit, cursor.descending, cursor.after, cursor.before
        )
        return Reply(200, list_body([orjson.loads(item) for item in page.items], page.has_more))

    async def retrieve(self, call: Call) -> Reply:
        tenant = call.tenant
        (connector_id,) = call.ids
        return Reply(200, orjson.dumps((await self._connector(tenant, connector_id)).obj))

    async def update(self, call: Call) -> Reply:
        tenant = call.tenant
        (connector_id,) = call.ids
        body = call.body
        fields = json_object(body)
        reject_unknown(fields, _FIELDS)
        current = await self._connector(tenant, connector_id)
        obj = _apply(current.obj, fields)
        moved = not same_origin(current.server_url, obj["server_url"])
        if moved and current.headers and "headers" not in fields:
            # Stored credentials were given for the old server: never hand them to another.
            raise InvalidRequestError(
                "Moving a connector to another origin needs its 'headers' again (an empty "
                "object for none): stored headers are not sent to a different server.",
                param="headers",
                code="missing_required_parameter",
            )
        connector = _stored(obj, credentials(fields, current.headers))
        if not await self._store.update(tenant, connector):
            raise connector_not_found(connector_id)
        return Reply(200, orjson.dumps(connector.obj))

    async def delete(self, call: Call) -> Reply:
        tenant = call.tenant
        (connector_id,) = call.ids
        if not await self._store.delete(tenant, connector_id):
            raise connector_not_found(connector_id)
        deleted = {"id": connector_id, "object": "connector.deleted", "deleted": True}
        return Reply(200, orjson.dumps(deleted))
