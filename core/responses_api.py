"""The stored-response operations: retrieve, delete and list input items."""

from __future__ import annotations

from typing import Any

import orjson

from core.errors import InvalidRequestError, NotFoundError
from core.http import Reply, Request
from storage.protocols import ResponseStore

__all__ = ["delete_response", "get_response", "list_input_items", "page", "parse_list_params"]


def _not_found(response_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{response_id}' not found.")


async def get_response(store: ResponseStore, tenant: str, response_id: str) -> Reply:
    stored = await store.get(tenant, response_id)
    if stored is None:
        raise _not_found(response_id)
    response = orjson.loads(stored.record)
    response["output"] = orjson.loads(stored.output)
    return Reply(200, orjson.dumps(response))


async def delete_response(store: ResponseStore, tenant: str, response_id: str) -> Reply:
    if not await store.delete(tenant, response_id):
        raise _not_found(response_id)
    return Reply(200, orjson.dumps({"id": response_id, "object": "response", "deleted": True}))


def _one(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1] if values else None


def parse_list_params(
    request: Request, default: int = 20, maximum: int = 100
) -> tuple[int, str, str | None]:
    """`limit` (1 to `maximum`), `order` (asc|desc, default desc) and `after`."""
    raw_limit = _one(request, "limit")
    limit = default
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise InvalidRequestError(
                f"Invalid 'limit': expected an integer, but got '{raw_limit}' instead.",
                param="limit",
                code="invalid_type",
            ) from None
        if not 1 <= limit <= maximum:
            bound = "below minimum" if limit < 1 else "above maximum"
            expected = ">= 1" if limit < 1 else f"<= {maximum}"
            raise InvalidRequestError(
                f"Invalid 'limit': integer {bound} value. Expected a value {expected}, "
                f"but got {limit} instead.",
                param="limit",
                code="integer_below_min_value" if limit < 1 else "integer_above_max_value",
            )
    order = _one(request, "order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidRequestError(
            f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    return limit, order, _one(request, "after")


def page(
    items: list[dict[str, Any]], limit: int, order: str, after: str | None, key: str = "id"
) -> bytes:
    """A cursor page in the list shape shared by every list endpoint; `key` names the
    field the cursor (`after`, `first_id`, `last_id`) refers to."""
    ordered = items if order == "asc" else items[::-1]
    start = 0
    if after is not None:
        start = next(
            (i + 1 for i, item in enumerate(ordered) if item.get(key) == after), len(ordered)
        )
    data = ordered[start : start + limit]
    return orjson.dumps(
        {
            "object": "list",
            "data": data,
            "first_id": data[0].get(key) if data else None,
            "last_id": data[-1].get(key) if data else None,
            "has_more": start + limit < len(ordered),
        }
    )


async def list_input_items(
    store: ResponseStore, tenant: str, response_id: str, request: Request
) -> Reply:
    limit, order, after = parse_list_params(request)
    items = await store.input_items(tenant, response_id)
    if items is None:
        raise _not_found(response_id)
    return Reply(200, page(orjson.loads(items), limit, order, after))
