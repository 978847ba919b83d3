"""`include` end to end with the SDK: reasoning `encrypted_content` and answer `logprobs`
shown only when asked (on create, streamed or not, and on retrieve), kept and replayed
to the backend all the same; input image URLs listed only when asked; unknown values a
400 like the hosted API's."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder

JSON = dict[str, Any]
ENCRYPTED = "reasoning.encrypted_content"
LOGPROBS = "message.output_text.logprobs"


def reasoning_of(response: Any) -> Any:
    [item] = [item for item in response.output if item.type == "reasoning"]
    return item


def logprobs_of(response: Any) -> list[Any]:
    [message] = [item for item in response.output if item.type == "message"]
    return list(message.content[0].logprobs or [])


def test_asked_for_they_are_shown_and_a_retrieve_shows_them_only_when_asked(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    created = client.responses.create(
        model="fake-reasoning", input="think", include=[ENCRYPTED, LOGPROBS]
    )
    [request] = recorder.requests
    assert request.body["include"] == [ENCRYPTED, LOGPROBS]  # the backend is asked too
    assert reasoning_of(created).encrypted_content == "enc:think"
    assert [p.token for p in logprobs_of(created)] == ["reply", "to:", "think"]
    plain = client.responses.retrieve(created.id)
    assert reasoning_of(plain).encrypted_content is None
    assert logprobs_of(plain) == []
    full = client.responses.retrieve(created.id, include=[ENCRYPTED, LOGPROBS])
    assert reasoning_of(full).encrypted_content == "enc:think"
    assert len(logprobs_of(full)) == 3


def test_not_asked_for_they_are_hidden_but_kept_for_the_chain(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    # This backend sends both whatever it is asked.
    created = client.responses.create(model="fake-verbose", input="ponder")
    assert reasoning_of(created).encrypted_content is None
    assert logprobs_of(created) == []
    recorder.clear()
    client.responses.create(model="m", input="next", previous_response_id=created.id)
    [request] = recorder.requests
    [replayed] = [item for item in request.body["input"] if item["type"] == "reasoning"]
    assert replayed["encrypted_content"] == "enc:ponder"
    kept = client.responses.retrieve(created.id, include=[ENCRYPTED])
    assert reasoning_of(kept).encrypted_content == "enc:ponder"


def test_a_stream_shows_them_as_asked(client: openai.OpenAI) -> None:
    with client.responses.stream(model="fake-verbose", input="drift") as stream:
        events = list(stream)
        final = stream.get_final_response()
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert [item.type for item in done] == ["reasoning", "message"]
    assert done[0].encrypted_content is None
    [completed] = [e for e in events if e.type == "response.completed"]
    assert reasoning_of(completed.response).encrypted_content is None
    assert logprobs_of(completed.response) == []
    assert reasoning_of(final).encrypted_content is None
    kept = client.responses.retrieve(final.id, include=[ENCRYPTED, LOGPROBS])
    assert reasoning_of(kept).encrypted_content == "enc:drift"
    assert len(logprobs_of(kept)) == 3
    with client.responses.stream(
        model="fake-verbose", input="drift", include=[ENCRYPTED]
    ) as stream:
        shown = stream.get_final_response()
    assert reasoning_of(shown).encrypted_content == "enc:drift"
    assert logprobs_of(shown) == []


def test_store_false_replays_reasoning_to_the_backend_untouched(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    item = {
        "type": "reasoning",
        "id": "rs_client_kept",
        "summary": [],
        "encrypted_content": "enc:from-an-earlier-turn",
    }
    client.responses.create(
        model="m",
        store=False,
        include=[ENCRYPTED],
        input=[item, {"role": "user", "content": "go on"}],
    )
    [request] = recorder.requests
    assert request.body["input"][0] == item


def test_input_image_urls_are_listed_only_when_asked(client: openai.OpenAI) -> None:
    url = "https://example.com/cat.png"
    created = client.responses.create(
        model="m",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": url, "detail": "auto"},
                ],
            }
        ],
    )
    plain = client.responses.input_items.list(created.id).data[0].model_dump()
    assert plain["content"][1]["image_url"] is None
    asked = client.responses.input_items.list(
        created.id, include=["message.input_image.image_url"]
    ).data[0]
    assert asked.model_dump()["content"][1]["image_url"] == url


def test_unknown_values_are_a_400(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="m", input="x", include=["reasoning.everything"])
    error = refused.value.body
    assert isinstance(error, dict)
    assert (error["param"], error["code"]) == ("include[0]", "invalid_value")
    assert recorder.requests == []
    created = client.responses.create(model="m", input="x")
    reply = http.get(f"/responses/{created.id}", params={"include[]": "nope"})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "include"
    reply = http.get(f"/responses/{created.id}/input_items", params={"include": "nope"})
    assert reply.status_code == 400
