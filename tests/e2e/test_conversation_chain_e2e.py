"""`previous_response_id` after a response created in a conversation, end to end:
SDK -> Envoy -> sidecar -> Redis, against the fake backend.

The chain replays the conversation's items that the first response saw (those before its
turn), then the chain's own input and output items, whatever its depth or branch.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import openai
from support.fake_backend import BackendRecorder

JSON = dict[str, Any]


def message(text: str, role: str = "user") -> JSON:
    part = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def text_of(item: JSON) -> str:
    return "".join(part["text"] for part in item["content"])


def all_items(http: httpx.Client, conversation_id: str) -> list[JSON]:
    resp = http.get(
        f"/conversations/{conversation_id}/items", params={"limit": 100, "order": "asc"}
    )
    assert resp.status_code == 200, resp.text
    items: list[JSON] = resp.json()["data"]
    return items


def sent_input(recorder: BackendRecorder) -> list[JSON]:
    """The `input` of the one /v1/responses request the backend got in this test (since the
    recorder was last cleared)."""
    [sent] = [r.body["input"] for r in recorder.requests if r.path == "/v1/responses"]
    assert isinstance(sent, list)
    return sent


def output_of(response: Any) -> list[JSON]:
    return [item.model_dump(exclude_none=True) for item in response.output]


def test_a_chain_after_a_conversation_response_replays_what_it_saw(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder
) -> None:
    m = uuid.uuid4().hex[:12]
    conversation = client.conversations.create()
    added = client.conversations.items.create(
        conversation.id, items=[message(f"first {m}"), message(f"second {m}", "assistant")]
    )
    history = all_items(http, conversation.id)
    assert [item["id"] for item in history] == [item.id for item in added.data]

    recorder.clear()
    r1 = client.responses.create(model="m", input=f"one {m}", conversation=conversation.id)
    sent1 = sent_input(recorder)
    assert sent1[:2] == history and [text_of(i) for i in sent1[2:]] == [f"one {m}"]
    # Items the conversation gets after r1 (its own turn, and this one) are not r1's past.
    client.conversations.items.create(conversation.id, items=[message(f"late {m}")])

    recorder.clear()
    r2 = client.responses.create(model="m", input=f"two {m}", previous_response_id=r1.id)
    sent2 = sent_input(recorder)
    assert sent2[:-1] == [*history, sent1[2], *output_of(r1)]
    assert text_of(sent2[-1]) == f"two {m}"
    assert r2.previous_response_id == r1.id and r2.conversation is None
    # r2 is not in the conversation: its turn is not added to it.
    assert [text_of(i) for i in all_items(http, conversation.id)] == [
        f"first {m}",
        f"second {m}",
        f"one {m}",
        f"reply to: one {m}",
        f"late {m}",
    ]

    recorder.clear()
    r3 = client.responses.create(model="m", input=f"three {m}", previous_response_id=r2.id)
    sent3 = sent_input(recorder)
    assert sent3[:-1] == [*sent2, *output_of(r2)]
    assert text_of(sent3[-1]) == f"three {m}"

    # The conversation is read as it is now: an item deleted from it since is no longer
    # replayed by any response chained after r1 (here a branch off r2, whose tip is r3).
    client.conversations.items.delete(history[0]["id"], conversation_id=conversation.id)
    recorder.clear()
    streamed = client.responses.create(
        model="m", input=f"branch {m}", previous_response_id=r2.id, stream=True
    )
    events = list(streamed)
    assert events[-1].type == "response.completed"
    assert sent_input(recorder)[:-1] == sent3[1:-1]

    recorder.clear()
    client.responses.create(model="m", input=f"four {m}", previous_response_id=r3.id)
    assert sent_input(recorder)[:-1] == [*sent3[1:], *output_of(r3)]


def test_a_deleted_conversation_leaves_the_chains_own_items(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    m = uuid.uuid4().hex[:12]
    conversation = client.conversations.create(items=[message(f"gone {m}")])
    r1 = client.responses.create(model="m", input=f"one {m}", conversation=conversation.id)
    client.conversations.delete(conversation.id)
    recorder.clear()
    client.responses.create(model="m", input=f"two {m}", previous_response_id=r1.id)
    sent = sent_input(recorder)
    assert [text_of(i) for i in sent] == [f"one {m}", f"reply to: one {m}", f"two {m}"]


def test_a_response_in_an_empty_conversation_chains_its_own_items(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    m = uuid.uuid4().hex[:12]
    conversation = client.conversations.create()
    r1 = client.responses.create(model="m", input=f"one {m}", conversation=conversation.id)
    client.conversations.items.create(conversation.id, items=[message(f"late {m}")])
    recorder.clear()
    client.responses.create(model="m", input=f"two {m}", previous_response_id=r1.id)
    sent = sent_input(recorder)
    assert [text_of(i) for i in sent] == [f"one {m}", f"reply to: one {m}", f"two {m}"]
