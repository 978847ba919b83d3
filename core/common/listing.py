"""The list shape every list endpoint shares, and its query parameters."""

from __future__ import annotations

from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.http import Request

__all__ = ["list_body", "page", "parse_list_params"]


def list_body(data: list[dict[str, Any]], has_more: bool, key: str = "id") -> bytes:
    """`{object: list, data, first_id, last_id, has_more}`; `key` names the cursor field."""
    return orjson.dumps(
        {
            "object": "list",
            "data": data,
            "first_id": data[0].get(key) if data else None,
            "last_id": data[-1].get(key) if data else None,
            "has_more": has_more,
        }
    )


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
    return list_body(ordered[start : start + limit], start + limit < len(ordered), key)
