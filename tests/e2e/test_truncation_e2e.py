"""`truncation` through Envoy with the official SDK, against the fake backend's
vLLM-style context windows (`ctx-<N>` models, one token per word: see
`support.fake_context`).

Every test uses a model name of its own, so what the sidecar learnt of one test's model
never helps another. Turns are built of "apple" words: each user turn is `WORDS` words,
each answer (`reply to: ...`) two more.
"""

from __future__ import annotations

import uuid
from typing import Any

import openai
import pytest
from support.fake_backend import BackendRecorder

WORDS = 20
TEXT = " ".join(["apple"] * WORDS)


def model(window: int, *, tokenizer: bool = True) -> str:
    """A model of the test's own with this window; without a tokenizer endpoint, the
    sidecar has no way to learn its window but the backend's overflow error."""
    return f"ctx-{window}-{'' if tokenizer else 'notok-'}{uuid.uuid4().hex[:8]}"


def posts(recorder: BackendRecorder) -> list[Any]:
    return [r for r in recorder.requests if r.method == "POST" and r.path == "/v1/responses"]


def texts(sent: Any) -> list[str]:
    """The text of each item the backend was sent."""
    out = []
    for item in sent.body["input"]:
        content = item.get("content")
        out.append(content if isinstance(content, str) else content[0]["text"])
    return out


def chain(client: openai.OpenAI, name: str, turns: int) -> str:
    """A chain of `turns` responses (no truncation needed): the last one's id."""
    previous = None
    for _ in range(turns):
        kwargs = {"previous_response_id": previous} if previous else {}
        previous = client.responses.create(model=name, input=TEXT, **kwargs).id
    return previous or ""


def test_auto_drops_the_oldest_turns_of_a_chain(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    name = model(100)
    previous = chain(client, name, 2)  # 62 words: a third turn makes 104 > 100
    recorder.clear()
    third = client.responses.create(
        model=name, input=TEXT, previous_response_id=previous, truncation="auto"
    )
    assert third.status == "completed" and third.truncation == "auto"
    [sent] = posts(recorder)  # the window was known (the tokenizer said): no failed call
    assert "truncation" not in sent.body
    assert texts(sent) == [TEXT, f"reply to: {TEXT}", TEXT]  # the first turn dropped
    assert sum(len(t.split()) for t in texts(sent)) <= 100
    # The chain itself keeps every item: a model with room sees them all.
    recorder.clear()
    client.responses.create(model="fake-model", input="more", previous_response_id=third.id)
    [everything] = posts(recorder)
    assert len(everything.body["input"]) == 7


def test_disabled_overflow_is_context_length_exceeded(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    name = model(100)
    previous = chain(client, name, 2)
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model=name, input=TEXT, previous_response_id=previous)
    assert raised.value.status_code == 400
    error = raised.value.body
    assert isinstance(error, dict)
    assert error["code"] == "context_length_exceeded"
    assert error["type"] == "invalid_request_error" and error["param"] == "input"
    assert "maximum context length is 100 tokens" in error["message"]
    assert len(posts(recorder)) == 3  # two turns and the one that overflowed, no retry


def test_first_overflow_teaches_the_window_then_one_call_per_request(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    name = model(100, tokenizer=False)
    previous = chain(client, name, 2)
    recorder.clear()
    third = client.responses.create(
        model=name, input=TEXT, previous_response_id=previous, truncation="auto"
    )
    assert third.status == "completed"
    first, retry = posts(recorder)  # sent whole, refused, sent again trimmed
    assert len(first.body["input"]) == 5 and len(retry.body["input"]) < 5
    assert texts(retry)[-1] == TEXT
    recorder.clear()
    fourth = client.responses.create(
        model=name, input=TEXT, previous_response_id=third.id, truncation="auto"
    )
    assert fourth.output_text == f"reply to: {TEXT}"
    [only] = posts(recorder)  # the window is known now: trimmed before sending
    assert sum(len(t.split()) for t in texts(only)) <= 100
    assert texts(only)[-1] == TEXT


def test_nothing_to_drop_is_context_length_exceeded(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    name = model(60)
    client.responses.create(model=name, input="learn the window")
    recorder.clear()
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model=name, input=" ".join(["apple"] * 70), truncation="auto")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "context_length_exceeded"
    assert posts(recorder) == []  # refused before reaching the backend


def test_auto_trims_a_long_conversation_and_the_conversation_keeps_everything(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    name = model(100)
    conversation = client.conversations.create()
    for _ in range(2):
        client.responses.create(model=name, input=TEXT, conversation=conversation.id)
    recorder.clear()
    third = client.responses.create(
        model=name, input=TEXT, conversation=conversation.id, truncation="auto"
    )
    assert third.status == "completed"
    [sent] = posts(recorder)
    assert texts(sent) == [TEXT, f"reply to: {TEXT}", TEXT]
    items = client.conversations.items.list(conversation.id, limit=100)
    assert len(items.data) == 6


def test_streaming_with_auto_streams_the_trimmed_retry(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    name = model(100, tokenizer=False)
    previous = chain(client, name, 2)
    recorder.clear()
    with client.responses.create(
        model=name, input=TEXT, previous_response_id=previous, truncation="auto", stream=True
    ) as stream:
        events = list(stream)
    kinds = [event.type for event in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    done = events[-1].response  # type: ignore[union-attr]
    assert done.output_text == f"reply to: {TEXT}" and done.truncation == "auto"
    assert len(posts(recorder)) == 2  # the overflow, then the trimmed stream
    assert client.responses.retrieve(done.id).status == "completed"
    # Now the window is known: the next stream is trimmed first, one call.
    recorder.clear()
    with client.responses.create(
        model=name, input=TEXT, previous_response_id=done.id, truncation="auto", stream=True
    ) as stream:
        last = list(stream)[-1]
    assert last.type == "response.completed"
    [only] = posts(recorder)
    assert only.body["stream"] is True and texts(only)[-1] == TEXT


def test_an_unknown_truncation_value_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(
            model="fake-model",
            input="hi",
            extra_body={"truncation": "sometimes"},
        )
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["param"] == "truncation"
    assert raised.value.body["code"] == "invalid_value"
