"""The list endpoints' query parameters and paging."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.common.errors import InvalidRequestError
from core.common.http import Request
from core.common.listing import PageRequest, list_body, page_request, window

_RID = "resp_0123456789abcdef"


# List parameters


def _request(query: str) -> Request:
    return Request.from_target("GET", f"/v1/responses/{_RID}/input_items?{query}", {})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", PageRequest(20, True)),
        ("limit=1", PageRequest(1, True)),
        ("limit=100", PageRequest(100, True)),
        ("limit=7&order=asc", PageRequest(7, False)),
        ("order=desc&after=msg_1", PageRequest(20, True, "msg_1")),
        ("limit=5&limit=9", PageRequest(9, True)),
        ("order=", PageRequest(20, True)),
        ("after=", PageRequest(20, True, "")),
        ("before=msg_2&after=msg_0", PageRequest(20, True, "msg_0", "msg_2")),
    ],
)
def test_page_request(query: str, expected: PageRequest) -> None:
    assert page_request(_request(query)) == expected


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
def test_page_request_rejects(query: str, param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        page_request(_request(query))
    assert caught.value.status == 400
    assert (caught.value.param, caught.value.code) == (param, code)


# Paging

_ITEMS = [{"id": f"msg_{i}", "n": i} for i in range(5)]


def page(
    items: list[dict[str, Any]],
    limit: int,
    order: str,
    after: str | None,
    before: str | None = None,
) -> bytes:
    return list_body(*window(items, PageRequest(limit, order == "desc", after, before)))


def _page(limit: int, order: str, after: str | None, before: str | None = None) -> dict[str, Any]:
    result = orjson.loads(page(_ITEMS, limit, order, after, before))
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


@pytest.mark.parametrize(
    ("order", "after", "before", "ids", "has_more"),
    [
        ("asc", None, "msg_3", ["msg_0", "msg_1", "msg_2"], False),
        ("asc", "msg_0", "msg_4", ["msg_1", "msg_2", "msg_3"], False),
        ("desc", None, "msg_1", ["msg_4", "msg_3", "msg_2"], False),
        ("desc", "msg_4", "msg_0", ["msg_3", "msg_2", "msg_1"], False),
        ("asc", "msg_3", "msg_1", [], False),
    ],
)
def test_before_bounds_the_page(
    order: str, after: str | None, before: str, ids: list[str], has_more: bool
) -> None:
    result = _page(20, order, after, before)
    assert _ids(result) == ids
    assert result["has_more"] is has_more


def test_before_with_a_limit_says_more_follow() -> None:
    result = _page(2, "asc", None, "msg_4")
    assert (_ids(result), result["has_more"]) == (["msg_0", "msg_1"], True)


def test_unknown_before_gives_an_empty_page_as_unknown_after_does() -> None:
    for order in ("asc", "desc"):
        assert _ids(_page(20, order, None, "msg_unknown")) == []
        assert _page(20, order, None, "msg_unknown")["has_more"] is False
