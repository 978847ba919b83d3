"""`POST /v1/responses/input_tokens`, answered by the gateway, with the official SDK.

The fake backend's tokenizer counts one token per word (`support.fake_context`); the
gateway adds `ITEM_OVERHEAD` per item (and for the instructions) for the chat template.
"""

from __future__ import annotations

import uuid

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder

from core.responses.tokens import ITEM_OVERHEAD


def tokenized(recorder: BackendRecorder) -> list[str]:
    return [r.body["prompt"] for r in recorder.requests if r.path == "/tokenize"]


def test_counts_a_chain(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    first = client.responses.create(model="fake-model", input="one two three")
    recorder.clear()
    counted = client.responses.input_tokens.count(
        model="fake-model", previous_response_id=first.id, input="four five"
    )
    assert counted.object == "response.input_tokens"
    # 3 words of input, 5 of answer ("reply to: one two three"), 2 new: three items.
    assert counted.input_tokens == 3 + 5 + 2 + 3 * ITEM_OVERHEAD
    [prompt] = tokenized(recorder)  # counted by the backend's tokenizer, nothing created
    assert "reply to: one two three" in prompt
    assert not [r for r in recorder.requests if r.path == "/v1/responses"]


def test_counts_a_conversation(client: openai.OpenAI) -> None:
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "a b c"}]
    )
    counted = client.responses.input_tokens.count(
        model="fake-model", conversation=conversation.id, input="d e"
    )
    assert counted.input_tokens == 3 + 2 + 2 * ITEM_OVERHEAD


def test_counts_a_prompt(client: openai.OpenAI, http: httpx.Client) -> None:
    template = {
        "name": uuid.uuid4().hex,
        "instructions": "answer as {{persona}}",
        "input": [{"role": "user", "content": "Topic: {{topic}}"}],
    }
    made = http.post("/prompts", json=template)
    assert made.status_code == 200, made.text
    prompt = {"id": made.json()["id"], "variables": {"persona": "a pirate", "topic": "ships"}}
    counted = client.responses.input_tokens.count(
        model="fake-model", input="go on", extra_body={"prompt": prompt}
    )
    # instructions (4 words) + the template's message (2) + the input (2).
    assert counted.input_tokens == 4 + 2 + 2 + 3 * ITEM_OVERHEAD


def test_without_a_tokenizer_it_is_the_cl100k_estimate(client: openai.OpenAI) -> None:
    counted = client.responses.input_tokens.count(input="hello world")
    assert counted.input_tokens == 2 + ITEM_OVERHEAD  # no model named: cl100k says 2


def test_bad_bodies_get_create_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.input_tokens.count(model="fake-model", previous_response_id="resp_x")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.input_tokens.count(
            model="fake-model", input="x", conversation="conv_1", previous_response_id="resp_1"
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "mutually_exclusive_parameters"
    with pytest.raises(openai.NotFoundError):
        client.responses.input_tokens.count(model="fake-model", conversation="conv_missing")
