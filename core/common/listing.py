"""Cursor pages: one set of query parameters and one set of rules for every list endpoint.

`after` and `before` are item ids (or, for prompt versions, version numbers). A cursor
that names no item of the list gives an empty page, on every endpoint: the stores'
scripts page the same way as `window` does here in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.http import Request

__all__ = ["PageRequest", "list_body", "page_request", "window"]


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    descending: bool
    after: str | None = None
    before: str | None = None


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


def _limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidRequestError(
            f"Invalid 'limit': expected an integer, but got '{raw}' instead.",
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
    return limit


def page_request(request: Request, default: int = 20, maximum: int = 100) -> PageRequest:
    """`limit` (1 to `maximum`), `order` (asc|desc, default desc), `after` and `before`."""
    limit = _limit(request.one("limit"), default, maximum)
    order = request.one("order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidRequestError(
            f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    return PageRequest(limit, order == "desc", request.one("after"), request.one("before"))


def window(
    items: list[dict[str, Any]], page: PageRequest, key: str = "id"
) -> tuple[list[dict[str, Any]], bool]:
    """The page of `items` (oldest first) that `page` asks for, and whether more follow."""
    ordered = items[::-1] if page.descending else items
    cursors = [item.get(key) for item in ordered]
    start, stop = 0, len(ordered)
    if page.after is not None:
        if page.after not in cursors:
            return [], False
        start = cursors.index(page.after) + 1
    if page.before is not None:
        if page.before not in cursors:
            return [], False
        stop = cursors.index(page.before)
    chosen = ordered[start:stop]
    return chosen[: page.limit], len(chosen) > page.limit
