"""`include`: which values are accepted (as the hosted API lists them), and what a client
is shown of a reasoning item's `encrypted_content`, an answer's `logprobs` and an input
image's URL on create, retrieve and the input-item listing, while the store keeps all."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from support.api_calls import call
from support.memory import memory_stores

from core.common.errors import InvalidRequestError
from core.common.http import Request
from core.ports import Stores
from core.responses.api import ResponsesApi
from core.responses.create_flow import CreateResponseFlow
from core.responses.include import (
    INCLUDABLE,
    parse_include,
    query_include,
    shown_items,
    shown_response,
)
from core.tools.settings import ToolSettings

JSON = dict[str, Any]
LOGPROBS = [{"token": "ok", "logprob": -0.1, "bytes": [111, 107], "top_logprobs": []}]


@pytest.fixture
def stores_for_include() -> Stores:
    return memory_stores()


def reasoning(encrypted: str | None = "enc:secret") -> JSON:
    return {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "encrypted_content": encrypted,
        "status": "completed",
    }


def answer_message() -> JSON:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "ok", "annotations": [], "logprobs": LOGPROBS}],
    }


def backend_answer() -> bytes:
    output = [reasoning(), answer_message()]
    return orjson.dumps({"id": "b", "object": "response", "status": "completed", "output": output})


def test_create_accepts_the_hosted_values_and_refuses_others() -> None:
    assert parse_include(None) == frozenset()
    assert parse_include(list(INCLUDABLE)) == frozenset(INCLUDABLE)
    with pytest.raises(InvalidRequestError) as refused:
        parse_include(["reasoning.encrypted_content", "reasoning.secret"])
    assert (refused.value.param, refused.value.code) == ("include[1]", "invalid_value")
    assert refused.value.message.startswith("Invalid value: 'reasoning.secret'. Supported")
    assert "'message.output_text.logprobs'" in refused.value.message
    with pytest.raises(InvalidRequestError) as refused:
        parse_include("reasoning.encrypted_content")
    assert (refused.value.param, refused.value.code) == ("include", "invalid_type")
    with pytest.raises(InvalidRequestError) as refused:
        parse_include([3])
    assert refused.value.param == "include[0]"


def test_a_query_takes_include_repeated_or_bracketed() -> None:
    query = {"include[]": ["reasoning.encrypted_content"], "include": [INCLUDABLE[0]]}
    request = Request("GET", "/", query, {})
    assert query_include(request) == {"reasoning.encrypted_content", INCLUDABLE[0]}
    with pytest.raises(InvalidRequestError) as refused:
        query_include(Request("GET", "/", {"include[]": ["nope"]}, {}))
    assert (refused.value.status, refused.value.param) == (400, "include")


def test_what_is_not_asked_for_is_shown_empty_and_the_original_kept() -> None:
    response = {"id": "r", "output": [reasoning(), answer_message()]}
    shown = shown_response(response, frozenset())
    assert shown["output"][0]["encrypted_content"] is None
    assert shown["output"][1]["content"][0]["logprobs"] == []
    assert response["output"] == [reasoning(), answer_message()]  # untouched
    both = frozenset(("reasoning.encrypted_content", "message.output_text.logprobs"))
    assert shown_response(response, both) is response
    plain = {"id": "r", "output": [reasoning(None)]}
    assert shown_response(plain, frozenset()) is plain


def test_input_image_urls_are_listed_only_when_asked() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"}
    items = [{"type": "message", "role": "user", "content": [image]}]
    assert shown_items(items, frozenset())[0]["content"][0]["image_url"] is None
    asked = frozenset(("message.input_image.image_url",))
    assert shown_items(items, asked)[0]["content"][0] == image


async def test_create_retrieve_and_listing_show_what_include_asks_and_store_all(
    stores_for_include: Stores, tenant: str
) -> None:
    stores = stores_for_include
    flow = CreateResponseFlow(stores, tenant)
    replayed = reasoning("enc:earlier")
    body = {"model": "m", "input": [replayed, {"role": "user", "content": "hi"}]}
    sent = orjson.loads(await flow.prepare(orjson.dumps(body)))
    assert sent["input"][0] == replayed  # the backend gets it untouched
    created = orjson.loads(await flow.finish_json(backend_answer()))
    assert created["output"][0]["encrypted_content"] is None
    assert created["output"][1]["content"][0]["logprobs"] == []

    api = ResponsesApi(stores, None, None, ToolSettings(), None)
    plain = await call(api.retrieve, tenant, created["id"])
    assert plain.json == created
    asked = ["reasoning.encrypted_content", "message.output_text.logprobs"]
    full = await call(api.retrieve, tenant, created["id"], query={"include[]": asked})
    assert full.json["output"][0]["encrypted_content"] == "enc:secret"
    assert full.json["output"][1]["content"][0]["logprobs"] == LOGPROBS
    listed = await call(api.input_items, tenant, created["id"], query={"order": "asc"})
    assert listed.json["data"][0]["encrypted_content"] is None
    query = {"order": "asc", "include[]": asked[0]}
    listed = await call(api.input_items, tenant, created["id"], query=query)
    assert listed.json["data"][0]["encrypted_content"] == "enc:earlier"

    # A later turn replays both reasoning items, with their encrypted content, to the
    # backend, although the client never asked to see them.
    follow = CreateResponseFlow(stores, tenant)
    body = {"model": "m", "input": "more", "previous_response_id": created["id"]}
    sent = orjson.loads(await follow.prepare(orjson.dumps(body)))
    reasoning_items = [item for item in sent["input"] if item["type"] == "reasoning"]
    assert [item["encrypted_content"] for item in reasoning_items] == [
        "enc:earlier",
        "enc:secret",
    ]


async def test_a_create_with_an_unknown_include_is_refused(
    stores_for_include: Stores, tenant: str
) -> None:
    flow = CreateResponseFlow(stores_for_include, tenant)
    body = {"model": "m", "input": "x", "include": ["message.output_text.everything"]}
    with pytest.raises(InvalidRequestError) as refused:
        await flow.prepare(orjson.dumps(body))
    assert (refused.value.param, refused.value.code) == ("include[0]", "invalid_value")
