"""The stored-response operations: retrieve, delete and list input items."""

from __future__ import annotations

import orjson

from core.common.errors import NotFoundError
from core.common.http import Reply, Request
from core.common.listing import page, parse_list_params
from core.ports import ResponseStore

__all__ = ["delete_response", "get_response", "list_input_items"]


def _not_found(response_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{response_id}' not found.")


async def get_response(store: ResponseStore, tenant: str, response_id: str) -> Reply:
    stored = await store.get(tenant, response_id)
    if stored is None:
        raise _not_found(response_id)
    response = orjson.loads(stored.record)
    if "output" not in response:  # kept with the record when it differs from the replay
        response["output"] = orjson.loads(stored.output)
    return Reply(200, orjson.dumps(response))


async def delete_response(store: ResponseStore, tenant: str, response_id: str) -> Reply:
    if not await store.delete(tenant, response_id):
        raise _not_found(response_id)
    return Reply(200, orjson.dumps({"id": response_id, "object": "response", "deleted": True}))


async def list_input_items(
    store: ResponseStore, tenant: str, response_id: str, request: Request
) -> Reply:
    limit, order, after = parse_list_params(request)
    items = await store.input_items(tenant, response_id)
    if items is None:
        raise _not_found(response_id)
    return Reply(200, page(orjson.loads(items), limit, order, after))
