"""Vector store search end to end on the lexical-only stack (no embeddings configured):
ranking, result shape, limits, attribute filters, thresholds, tenancy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.harness import Stack
from support.served_bodies import checked_http
from support.vector_fixtures import new_key, sdk_for, upload, wait_ingested, word

RESULT_KEYS = {"file_id", "filename", "score", "attributes", "content"}
TEXTS = {
    "red": "crimson apples ripen slowly in autumn orchards",
    "blue": "cobalt ocean waves crash against the rocky shore",
    "green": "emerald forests grow beside cold mountain rivers",
}
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "red": {"team": "red", "n": 1, "ok": True},
    "blue": {"team": "blue", "n": 5, "ok": False},
    "green": {"team": "green", "n": 10},
}


class Corpus:
    def __init__(self, stack: Stack) -> None:
        self.key = new_key()
        self.client = sdk_for(stack, self.key)
        self.tag = word()  # in every file, so a query for it matches them all
        self.store = self.client.vector_stores.create(name="corpus")
        self.ids: dict[str, str] = {}
        self.texts = {name: f"{self.tag} {text}" for name, text in TEXTS.items()}
        for name, text in self.texts.items():
            f = upload(self.client, f"{name}.txt", text)
            self.client.vector_stores.files.create(
                vector_store_id=self.store.id, file_id=f.id, attributes=ATTRIBUTES[name]
            )
            self.ids[name] = f.id
        for file_id in self.ids.values():
            assert wait_ingested(self.client, self.store.id, file_id).status == "completed"
        self.http = checked_http(
            stack.base_url, headers={"authorization": f"Bearer {self.key}"}, timeout=30
        )

    def search(self, **body: Any) -> httpx.Response:
        return self.http.post(f"/vector_stores/{self.store.id}/search", json=body)

    def names(self, **body: Any) -> set[str]:
        response = self.search(**body)
        assert response.status_code == 200, response.text
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[hit["file_id"]] for hit in response.json()["data"]}


@pytest.fixture(scope="module")
def search_corpus(stack: Stack) -> Iterator[Corpus]:
    made = Corpus(stack)
    yield made
    made.http.close()
    made.client.close()


def test_ranking_and_result_shape(stack: Stack, search_corpus: Corpus) -> None:
    assert "embeddings_url" not in stack.settings  # lexical search only
    hits = search_corpus.client.vector_stores.search(
        search_corpus.store.id, query="cobalt ocean waves"
    )
    assert hits.data[0].file_id == search_corpus.ids["blue"]
    raw = search_corpus.search(query="cobalt ocean waves").json()
    assert raw["object"] == "vector_store.search_results.page"
    assert (raw["search_query"], raw["has_more"], raw["next_page"]) == (
        ["cobalt ocean waves"], False, None
    )  # fmt: skip
    top = raw["data"][0]
    assert set(top) == RESULT_KEYS
    assert (top["filename"], top["attributes"]) == ("blue.txt", ATTRIBUTES["blue"])
    assert top["content"] == [{"type": "text", "text": search_corpus.texts["blue"]}]
    every = search_corpus.search(query=search_corpus.tag).json()["data"]
    assert {hit["file_id"] for hit in every} == set(search_corpus.ids.values())
    scores = [hit["score"] for hit in raw["data"] + every]
    assert all(0 <= score <= 1 for score in scores)
    assert [h["score"] for h in every] == sorted((h["score"] for h in every), reverse=True)


def test_query_as_an_array(search_corpus: Corpus) -> None:
    queries = ["crimson apples", "emerald forests"]
    page = search_corpus.client.vector_stores.search(
        search_corpus.store.id, query=queries, max_num_results=2
    )
    assert {h.file_id for h in page.data} == {search_corpus.ids["red"], search_corpus.ids["green"]}
    assert search_corpus.search(query=queries).json()["search_query"] == queries
    for bad in ([], [""], "  ", [1], None):
        assert search_corpus.search(query=bad).status_code == 400


def test_max_num_results_bounds(search_corpus: Corpus) -> None:
    assert len(search_corpus.search(query=search_corpus.tag, max_num_results=1).json()["data"]) == 1
    assert (
        len(search_corpus.search(query=search_corpus.tag, max_num_results=50).json()["data"]) == 3
    )
    for bad in (0, 51, -1, "5", True, 2.5):
        response = search_corpus.search(query=search_corpus.tag, max_num_results=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["param"] == "max_num_results"


def cmp(kind: str, key: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "key": key, "value": value}


def both(*filters: Any) -> dict[str, Any]:
    return {"type": "and", "filters": list(filters)}


def either(*filters: Any) -> dict[str, Any]:
    return {"type": "or", "filters": list(filters)}


FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    (cmp("eq", "team", "red"), {"red"}),
    (cmp("eq", "n", 5), {"blue"}),
    (cmp("eq", "ok", True), {"red"}),
    (cmp("ne", "team", "red"), {"blue", "green"}),
    (cmp("ne", "ok", True), {"blue", "green"}),  # green has no `ok`
    (cmp("gt", "n", 5), {"green"}),
    (cmp("gte", "n", 5), {"blue", "green"}),
    (cmp("lt", "n", 5), {"red"}),
    (cmp("lte", "n", 5.0), {"red", "blue"}),
    (cmp("in", "team", ["red", "green", "pink"]), {"red", "green"}),
    (cmp("in", "n", [1, 10]), {"red", "green"}),
    (cmp("nin", "team", ["red"]), {"blue", "green"}),
    (cmp("eq", "missing", "x"), set()),
    (both(cmp("gte", "n", 1), cmp("lt", "n", 10)), {"red", "blue"}),
    (either(cmp("eq", "team", "red"), cmp("gt", "n", 8)), {"red", "green"}),
    (
        both(
            either(cmp("eq", "team", "blue"), cmp("eq", "team", "green")),
            either(cmp("eq", "ok", False), cmp("gte", "n", 10)),
            cmp("nin", "n", [5]),
        ),
        {"green"},
    ),
]


@pytest.mark.parametrize(("filters", "expected"), FILTERS)
def test_attribute_filters(
    search_corpus: Corpus, filters: dict[str, Any], expected: set[str]
) -> None:
    assert search_corpus.names(query=search_corpus.tag, filters=filters) == expected
    hits = search_corpus.client.vector_stores.search(
        search_corpus.store.id,
        query=search_corpus.tag,
        filters=filters,  # type: ignore[arg-type]
    )
    assert all(h.attributes == ATTRIBUTES[h.filename[:-4]] for h in hits.data)


@pytest.mark.parametrize(
    "filters",
    [
        {"type": "eq", "key": "team"},
        {"type": "like", "key": "team", "value": "r"},
        {"key": "team", "value": "red"},
        {"type": "eq", "key": "", "value": "red"},
        {"type": "eq", "key": "team", "value": ["red"]},
        {"type": "eq", "key": "team", "value": None},
        {"type": "gt", "key": "n", "value": "5"},
        {"type": "in", "key": "team", "value": "red"},
        {"type": "and", "filters": []},
        {"type": "or", "filters": "x"},
        {"type": "and", "filters": [{"type": "eq", "key": "n"}]},
        "team = red",
        [cmp("eq", "team", "red")],
    ],
)
def test_malformed_filters_are_400(search_corpus: Corpus, filters: Any) -> None:
    response = search_corpus.search(query=search_corpus.tag, filters=filters)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_score_threshold(search_corpus: Corpus) -> None:
    query = f"{search_corpus.tag} crimson apples"  # matches all three, red best
    scores = [h["score"] for h in search_corpus.search(query=query).json()["data"]]
    assert len(scores) == 3 and scores[0] > scores[1]
    cut = (scores[0] + scores[1]) / 2
    kept = search_corpus.search(query=query, ranking_options={"score_threshold": cut})
    assert [h["file_id"] for h in kept.json()["data"]] == [search_corpus.ids["red"]]
    none = search_corpus.search(query=search_corpus.tag, ranking_options={"score_threshold": 1})
    assert none.json()["data"] == []
    for bad in (-0.1, 1.5, "0.5"):
        assert (
            search_corpus.search(query="x", ranking_options={"score_threshold": bad}).status_code
            == 400
        )


def test_rewrite_query_and_ranker_are_accepted(search_corpus: Corpus) -> None:
    plain = search_corpus.client.vector_stores.search(search_corpus.store.id, query="ocean shore")
    rewritten = search_corpus.client.vector_stores.search(
        search_corpus.store.id,
        query="ocean shore",
        rewrite_query=True,
        ranking_options={"ranker": "auto"},
    )
    assert [h.file_id for h in rewritten.data] == [h.file_id for h in plain.data]
    assert rewritten.data[0].file_id == search_corpus.ids["blue"]


def test_other_tenants_get_404_on_every_route(stack: Stack, search_corpus: Corpus) -> None:
    vs, fid = search_corpus.store.id, search_corpus.ids["red"]
    # A file outside the corpus: re-adding a corpus file would reset its attributes.
    extra = upload(search_corpus.client, "extra.txt", "unrelated batch text").id
    batch = search_corpus.client.vector_stores.file_batches.create(vs, file_ids=[extra])
    wait_ingested(search_corpus.client, vs, extra)
    with sdk_for(stack) as intruder:
        theirs = upload(intruder, "theirs.txt", "intruder text").id
        assert vs not in [s.id for s in intruder.vector_stores.list().data]
    routes: list[tuple[str, str, Any]] = [
        ("GET", f"/vector_stores/{vs}", None),
        ("POST", f"/vector_stores/{vs}", {"name": "stolen"}),
        ("POST", f"/vector_stores/{vs}/search", {"query": search_corpus.tag}),
        ("GET", f"/vector_stores/{vs}/files", None),
        ("POST", f"/vector_stores/{vs}/files", {"file_id": theirs}),
        ("GET", f"/vector_stores/{vs}/files/{fid}", None),
        ("POST", f"/vector_stores/{vs}/files/{fid}", {"attributes": {"team": "x"}}),
        ("GET", f"/vector_stores/{vs}/files/{fid}/content", None),
        ("POST", f"/vector_stores/{vs}/file_batches", {"file_ids": [theirs]}),
        ("GET", f"/vector_stores/{vs}/file_batches/{batch.id}", None),
        ("GET", f"/vector_stores/{vs}/file_batches/{batch.id}/files", None),
        ("POST", f"/vector_stores/{vs}/file_batches/{batch.id}/cancel", None),
        ("DELETE", f"/vector_stores/{vs}/files/{fid}", None),
        ("DELETE", f"/vector_stores/{vs}", None),
    ]
    headers = {"authorization": f"Bearer {new_key()}"}
    with checked_http(stack.base_url, headers=headers, timeout=30) as other:
        for method, path, body in routes:
            response = other.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["type"] == "invalid_request_error"
    owner = search_corpus.client.vector_stores
    assert owner.retrieve(vs).name == "corpus"
    assert owner.files.retrieve(fid, vector_store_id=vs).attributes == ATTRIBUTES["red"]
    assert owner.file_batches.retrieve(batch.id, vector_store_id=vs).id == batch.id
    assert {h.file_id for h in owner.search(vs, query=search_corpus.tag).data} == set(
        search_corpus.ids.values()
    )
