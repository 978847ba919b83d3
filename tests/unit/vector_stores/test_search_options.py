"""Unit tests: the search options shared by `/vector_stores/{id}/search` and the
`file_search` tool, attribute filters, and the vector store bodies
(`core.vector_stores.models`, `core.vector_stores.filters`, `core.tools.models`)."""

from __future__ import annotations

from typing import Any

import pytest

from core.common.errors import InvalidRequestError
from core.common.models import parse
from core.tools.models import FileSearchToolSpec
from core.vector_stores.filters import MAX_DEPTH
from core.vector_stores.models import (
    FileBatchCreate,
    SearchRequest,
    VectorStoreCreate,
    VectorStoreFileCreate,
    VectorStoreFileUpdate,
)

JSON = dict[str, Any]


def cmp(kind: str, key: str, value: Any) -> JSON:
    return {"type": kind, "key": key, "value": value}


def nested(depth: int) -> JSON:
    spec = cmp("eq", "k", 1)
    for _ in range(depth - 1):
        spec = {"type": "and", "filters": [spec]}
    return spec


def refusal(model: Any, data: JSON, prefix: str = "") -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as refused:
        parse(model, data, prefix)
    assert refused.value.status == 400
    return refused.value


# (options, param below the body or tool, code)
BAD_OPTIONS: list[tuple[JSON, str, str]] = [
    ({"max_num_results": 0}, "max_num_results", "integer_below_min_value"),
    ({"max_num_results": 51}, "max_num_results", "integer_above_max_value"),
    ({"max_num_results": "5"}, "max_num_results", "invalid_type"),
    ({"max_num_results": True}, "max_num_results", "invalid_type"),
    ({"max_num_results": 2.5}, "max_num_results", "invalid_type"),
    ({"ranking_options": {"score_threshold": "x"}}, "ranking_options.score_threshold",
     "invalid_type"),
    ({"ranking_options": {"score_threshold": 5}}, "ranking_options.score_threshold",
     "invalid_value"),
    ({"ranking_options": {"score_threshold": -0.1}}, "ranking_options.score_threshold",
     "invalid_value"),
    ({"ranking_options": "fast"}, "ranking_options", "invalid_type"),
    ({"ranking_options": {"ranker": 1}}, "ranking_options.ranker", "invalid_type"),
    ({"ranking_options": {"hybrid_search": {"embedding_weight": "1", "text_weight": 1}}},
     "ranking_options.hybrid_search.embedding_weight", "invalid_type"),
    ({"ranking_options": {"hybrid_search": {"embedding_weight": 1, "text_weight": -1}}},
     "ranking_options.hybrid_search.text_weight", "invalid_value"),
    ({"ranking_options": {"hybrid_search": {"embedding_weight": 0, "text_weight": 0}}},
     "ranking_options.hybrid_search", "invalid_value"),
    ({"filters": "team = red"}, "filters", "invalid_type"),
    ({"filters": [cmp("eq", "team", "red")]}, "filters", "invalid_type"),
    ({"filters": {"key": "team", "value": "red"}}, "filters.type", "missing_required_parameter"),
    ({"filters": cmp("like", "team", "r")}, "filters.type", "invalid_value"),
    ({"filters": {"type": "eq", "key": "team"}}, "filters.value", "missing_required_parameter"),
    ({"filters": cmp("eq", "", "red")}, "filters.key", "invalid_value"),
    ({"filters": cmp("eq", 1, "red")}, "filters.key", "invalid_type"),
    ({"filters": cmp("eq", "team", ["red"])}, "filters.value", "invalid_type"),
    ({"filters": cmp("eq", "team", None)}, "filters.value", "invalid_type"),
    ({"filters": cmp("gt", "n", "5")}, "filters.value", "invalid_type"),
    ({"filters": cmp("in", "team", "red")}, "filters.value", "invalid_type"),
    ({"filters": cmp("nin", "team", ["red", {}])}, "filters.value[1]", "invalid_type"),
    ({"filters": {**cmp("eq", "team", "red"), "extra": 1}}, "filters.extra", "unknown_parameter"),
    ({"filters": {"type": "and", "filters": []}}, "filters.filters", "invalid_value"),
    ({"filters": {"type": "or", "filters": "x"}}, "filters.filters", "invalid_type"),
    ({"filters": {"type": "and", "filters": [cmp("eq", "a", 1), cmp("eq", "", 1)]}},
     "filters.filters[1].key", "invalid_value"),
    ({"filters": {"type": "and", "filters": [{"type": "or", "filters": [{"type": "eq"}]}]}},
     "filters.filters[0].filters[0].key", "missing_required_parameter"),
    ({"filters": nested(MAX_DEPTH + 1)}, "filters", "invalid_value"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "param", "code"), BAD_OPTIONS)
def test_same_answer_on_search_and_tool(options: JSON, param: str, code: str) -> None:
    on_search = refusal(SearchRequest, {"query": "q", **options})
    tool = {"type": "file_search", "vector_store_ids": ["vs_1"], **options}
    on_tool = refusal(FileSearchToolSpec, tool, "tools[0]")
    assert (on_search.param, on_search.code) == (param, code)
    assert (on_tool.param, on_tool.code) == (f"tools[0].{param}", code)
    assert on_tool.message == on_search.message.replace(f"'{param}", f"'tools[0].{param}")


@pytest.mark.parametrize(
    ("filters", "plain"),
    [
        (cmp("eq", "n", 5), cmp("eq", "n", 5)),
        (cmp("in", "n", [1, "a", True]), cmp("in", "n", [1, "a", True])),
        (nested(MAX_DEPTH), nested(MAX_DEPTH)),
        (
            {"type": "or", "filters": [cmp("gte", "n", 1.5), cmp("ne", "ok", False)]},
            {"type": "or", "filters": [cmp("gte", "n", 1.5), cmp("ne", "ok", False)]},
        ),
    ],
)
def test_valid_filters_reach_the_index_as_given(filters: JSON, plain: JSON) -> None:
    request = parse(SearchRequest, {"query": "q", "filters": filters})
    assert request.filter_dict() == plain


def test_defaults_and_weights() -> None:
    request = parse(SearchRequest, {"query": "q", "rewrite_query": True})
    assert (request.query, request.max_num_results, request.threshold) == (["q"], 10, 0.0)
    assert request.filter_dict() is None and request.weights is None
    hybrid = {"hybrid_search": {"embedding_weight": 2, "text_weight": 0}, "ranker": "auto"}
    tool = {"type": "file_search", "vector_store_ids": ["vs_1"], "ranking_options": hybrid}
    assert parse(FileSearchToolSpec, tool, "tools[0]").weights == (2.0, 0.0)


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        (None, "query", "invalid_type"),
        (5, "query", "invalid_type"),
        ([], "query", "invalid_value"),
        ([""], "query[0]", "invalid_value"),
        (["a", "  "], "query[1]", "invalid_value"),
        (["a", 1], "query[1]", "invalid_type"),
    ],
)
def test_bad_queries(query: Any, param: str, code: str) -> None:
    error = refusal(SearchRequest, {"query": query})
    assert (error.param, error.code) == (param, code)
    assert (refusal(SearchRequest, {}).param, refusal(SearchRequest, {}).code) == (
        "query", "missing_required_parameter"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("tool", "param", "code"),
    [
        ({}, "tools[0].vector_store_ids", "missing_required_parameter"),
        ({"vector_store_ids": "vs_1"}, "tools[0].vector_store_ids", "invalid_type"),
        ({"vector_store_ids": []}, "tools[0].vector_store_ids", "invalid_value"),
        ({"vector_store_ids": [7]}, "tools[0].vector_store_ids[0]", "invalid_type"),
    ],
)
def test_tool_store_ids(tool: JSON, param: str, code: str) -> None:
    error = refusal(FileSearchToolSpec, {"type": "file_search", **tool}, "tools[0]")
    assert (error.param, error.code) == (param, code)


# (model, body, param, code)
BAD_BODIES: list[tuple[Any, JSON, str, str]] = [
    (VectorStoreCreate, {"file_ids": "f"}, "file_ids", "invalid_type"),
    (VectorStoreCreate, {"file_ids": ["f"] * 501}, "file_ids", "array_above_max_length"),
    (VectorStoreCreate, {"name": 1}, "name", "invalid_type"),
    (VectorStoreCreate, {"expires_after": {"anchor": "created_at", "days": 1}},
     "expires_after.anchor", "invalid_value"),
    (VectorStoreCreate, {"expires_after": {"anchor": "last_active_at", "days": 366}},
     "expires_after.days", "integer_above_max_value"),
    (VectorStoreCreate, {"chunking_strategy": {"type": "static"}}, "chunking_strategy.static",
     "missing_required_parameter"),
    (VectorStoreFileCreate, {}, "file_id", "missing_required_parameter"),
    (VectorStoreFileCreate, {"file_id": "f", "attributes": {"k": [1]}}, "attributes.k",
     "invalid_type"),
    (VectorStoreFileCreate, {"file_id": "f", "attributes": {"k": "v" * 513}}, "attributes.k",
     "string_above_max_length"),
    (VectorStoreFileCreate, {"file_id": "f", "attributes": {f"k{i}": 1 for i in range(17)}},
     "attributes", "object_above_max_properties"),
    (VectorStoreFileUpdate, {}, "attributes", "missing_required_parameter"),
    (FileBatchCreate, {}, "file_ids", "missing_required_parameter"),
    (FileBatchCreate, {"file_ids": []}, "file_ids", "invalid_value"),
    (FileBatchCreate, {"files": [{"attributes": {}}]}, "files[0].file_id",
     "missing_required_parameter"),
    (FileBatchCreate, {"files": [{"file_id": "f", "attributes": {"bad": ["list"]}}]},
     "files[0].attributes.bad", "invalid_type"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "body", "param", "code"), BAD_BODIES)
def test_bad_bodies(model: Any, body: JSON, param: str, code: str) -> None:
    error = refusal(model, body)
    assert (error.param, error.code) == (param, code)


def test_attributes_keep_their_types() -> None:
    attributes = {"n": 5, "x": 1.5, "ok": True, "s": "v"}
    file = parse(VectorStoreFileCreate, {"file_id": "f", "attributes": attributes})
    assert file.attributes == attributes
    assert isinstance(file.attributes["n"], int) and not isinstance(file.attributes["n"], bool)


def test_batch_entries_fall_back_to_the_shared_fields() -> None:
    static = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 0}}
    batch = parse(
        FileBatchCreate,
        {
            "files": [{"file_id": "a"}, {"file_id": "b", "attributes": None}],
            "attributes": {"shared": 1},
            "chunking_strategy": static,
        },
    )
    (a_id, a_strategy, a_attrs), (b_id, b_strategy, b_attrs) = batch.entries()
    assert (a_id, a_attrs, b_id, b_attrs) == ("a", {"shared": 1}, "b", {})
    assert a_strategy is not None and a_strategy == b_strategy
    ids = parse(FileBatchCreate, {"file_ids": ["x", "y"], "attributes": {"s": "t"}}).entries()
    assert [(f, a) for f, _, a in ids] == [("x", {"s": "t"}), ("y", {"s": "t"})]
