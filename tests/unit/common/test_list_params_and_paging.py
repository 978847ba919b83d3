"""The list endpoints' query parameters and paging."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.common.errors import InvalidRequestError
from core.common.http import Request
from core.common.listing import page, parse_list_params

_RID = "resp_0123456789abcdef"


# List parameters


def _request(query: str) -> Request:
    return Request.from_target("GET", f"/v1/responses/{_RID}/input_items?{query}", {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", (20, "desc", None)),
        ("limit=1", (1, "desc", None)),
        ("limit=100", (100, "desc", None)),
        ("limit=7&order=asc", (7, "asc", None)),
        ("order=desc&after=msg_1", (20, "desc", "msg_1")),
        ("limit=5&limit=9", (9, "desc", None)),
        ("order=", (20, "desc", None)),
        ("after=", (20, "desc", "")),
    ],
)
def test_parse_list_params(query: str, expected: tuple[int, str, str | None]) -> None:
    assert parse_list_params(_request(query)) == expected


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        ("limit=0", "limit", "integer_below_min_value"),
        ("limit=-5", "limit", "integer_below_min_value"),
        ("limit=101", "limit", "integer_above_max_value"),
        ("limit=ten", "limit", "invalid_type"),
        ("limit=", "limit", "invalid_type"),
        ("limit=1.5", "limit", "invalid_type"),
        ("order=sideways", "order", "invalid_value"),
        ("order=ASC", "order", "invalid_value"),
    ],
)
def test_parse_list_params_rejects(query: str, param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_list_params(_request(query))
    assert caught.value.status == 400
    assert (caught.value.param, caught.value.code) == (param, code)


# Paging

_ITEMS = [{"id": f"msg_{i}", "n": i} for i in range(5)]


def _page(limit: int, order: str, after: str | None) -> dict[str, Any]:
    result = orjson.loads(page(_ITEMS, limit, order, after))
    assert isinstance(result, dict)
    return result


def _ids(result: dict[str, Any]) -> list[str]:
    return [item["id"] for item in result["data"]]


@pytest.mark.parametrize(
    ("limit", "order", "after", "ids", "has_more"),
    [
        (20, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3", "msg_4"], False),
        (20, "desc", None, ["msg_4", "msg_3", "msg_2", "msg_1", "msg_0"], False),
        (2, "asc", None, ["msg_0", "msg_1"], True),
        (2, "desc", None, ["msg_4", "msg_3"], True),
        (2, "asc", "msg_1", ["msg_2", "msg_3"], True),
        (2, "asc", "msg_2", ["msg_3", "msg_4"], False),
        (2, "desc", "msg_3", ["msg_2", "msg_1"], True),
        (2, "desc", "msg_1", ["msg_0"], False),
        (5, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3", "msg_4"], False),
        (4, "asc", None, ["msg_0", "msg_1", "msg_2", "msg_3"], True),
        (1, "asc", "msg_4", [], False),
        (1, "desc", "msg_0", [], False),
    ],
)
def test_page(limit: int, order: str, after: str | None, ids: list[str], has_more: bool) -> None:
    result = _page(limit, order, after)
    assert result["object"] == "list"
    assert _ids(result) == ids
    assert result["has_more"] is has_more
    assert result["first_id"] == (ids[0] if ids else None)
    assert result["last_id"] == (ids[-1] if ids else None)


def test_page_data_is_the_items_themselves() -> None:
    assert _page(2, "asc", "msg_0")["data"] == _ITEMS[1:3]


def test_unknown_after_gives_an_empty_page() -> None:
    for order in ("asc", "desc"):
        result = _page(20, order, "msg_unknown")
        assert result == {
            "object": "list",
            "data": [],
            "first_id": None,
            "last_id": None,
            "has_more": False,
        }


def test_page_of_no_items() -> None:
    assert orjson.loads(page([], 20, "desc", None)) == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_paging_through_with_cursors_visits_every_item_once() -> None:
    items = [{"id": f"msg_{i:03}"} for i in range(47)]
    for order in ("asc", "desc"):
        seen: list[str] = []
        after: str | None = None
        while True:
            result = orjson.loads(page(items, 10, order, after))
            seen += [item["id"] for item in result["data"]]
            if not result["has_more"]:
                break
            after = result["last_id"]
        expected = [item["id"] for item in items]
        assert seen == (expected if order == "asc" else expected[::-1])
