"""CreateResponseFlow on the in-memory stores: what the backend is sent for a chain or a
conversation, and what is stored afterwards. No Envoy, no Redis, no backend: the test
plays the backend by handing the flow its answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from support.memory import memory_stores

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.ids import new_id
from core.ports import Stores
from core.responses.create_flow import CreateResponseFlow

JSON = dict[str, Any]


@pytest.fixture
def memory() -> Stores:
    return memory_stores()


def texts(items: list[JSON]) -> list[str]:
    return [item["content"][0]["text"] for item in items]


def backend_answer(text: str, status: str = "completed") -> bytes:
    """What a stateless backend answers: one assistant message."""
    message = {
        "type": "message",
        "id": new_id("msg"),
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return orjson.dumps(
        {"id": "resp_backend", "object": "response", "status": status, "output": [message]}
    )


class Turn:
    """One create: the body the backend was sent and the response the client got."""

    def __init__(self, sent: JSON, response: JSON) -> None:
        self.sent = sent
        self.response = response

    @property
    def id(self) -> str:
        return str(self.response["id"])


async def create(
    stores: Stores, tenant: str, answer: str = "ok", status: str = "completed", **body: Any
) -> Turn:
    flow = CreateResponseFlow(stores, tenant)
    sent = orjson.loads(await flow.prepare(orjson.dumps({"model": "m", **body})))
    response = orjson.loads(await flow.finish_json(backend_answer(answer, status)))
    assert response["id"] == flow.response_id
    return Turn(sent, response)


async def new_conversation(stores: Stores, tenant: str, *words: str) -> str:
    conversation_id = new_id("conv")
    items = [
        orjson.dumps(
            {
                "id": new_id("msg"),
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": word}],
            }
        )
        for word in words
    ]
    record = orjson.dumps({"id": conversation_id, "object": "conversation", "metadata": {}})
    pairs = [(orjson.loads(item)["id"], item) for item in items]
    await stores.conversations.create(tenant, conversation_id, record, pairs)
    return conversation_id


async def conversation_texts(stores: Stores, tenant: str, conversation_id: str) -> list[str]:
    found = await stores.conversations.context(tenant, conversation_id)
    assert found is not None
    return texts(orjson.loads(b"[" + found[0] + b"]"))


async def test_a_first_response_is_sent_stateless_and_stored(memory: Stores, tenant: str) -> None:
    turn = await create(
        memory, tenant, answer="hi", input="hello", temperature=0.5, metadata={"k": "v"}
    )
    assert turn.sent["store"] is False
    assert {"previous_response_id", "conversation", "metadata"}.isdisjoint(turn.sent)
    assert (turn.sent["model"], turn.sent["temperature"]) == ("m", 0.5)
    assert texts(turn.sent["input"]) == ["hello"]
    assert turn.response["store"] is True and turn.response["metadata"] == {"k": "v"}
    stored = await memory.responses.get(tenant, turn.id)
    assert stored is not None
    assert texts(orjson.loads(stored.output)) == ["hi"]
    assert orjson.loads(stored.record)["id"] == turn.id
    assert texts(orjson.loads(await memory.responses.input_items(tenant, turn.id) or b"")) == [
        "hello"
    ]


async def test_previous_response_id_replays_the_chain(memory: Stores, tenant: str) -> None:
    first = await create(memory, tenant, answer="one back", input="one")
    second = await create(
        memory, tenant, answer="two back", input="two", previous_response_id=first.id
    )
    assert texts(second.sent["input"]) == ["one", "one back", "two"]
    assert "previous_response_id" not in second.sent
    assert second.response["previous_response_id"] == first.id
    # A branch from the first response does not see the second.
    branch = await create(memory, tenant, input="other", previous_response_id=first.id)
    assert texts(branch.sent["input"]) == ["one", "one back", "other"]
    third = await create(memory, tenant, input="three", previous_response_id=second.id)
    assert texts(third.sent["input"]) == ["one", "one back", "two", "two back", "three"]


async def test_an_unknown_previous_response_is_refused(memory: Stores, tenant: str) -> None:
    first = await create(memory, tenant, input="mine")
    for owner, previous in ((tenant, "resp_unknown"), (f"{tenant}-other", first.id)):
        flow = CreateResponseFlow(memory, owner)
        body = {"model": "m", "input": "x", "previous_response_id": previous}
        with pytest.raises(InvalidRequestError) as refused:
            await flow.prepare(orjson.dumps(body))
        assert (refused.value.param, refused.value.code) == (
            "previous_response_id",
            "previous_response_not_found",
        )


async def test_a_conversation_is_replayed_and_gets_the_turn(memory: Stores, tenant: str) -> None:
    conversation_id = await new_conversation(memory, tenant, "earlier", "before")
    turn = await create(
        memory, tenant, answer="answer", input="now", conversation={"id": conversation_id}
    )
    assert texts(turn.sent["input"]) == ["earlier", "before", "now"]
    assert "conversation" not in turn.sent
    assert turn.response["conversation"] == {"id": conversation_id}
    assert await conversation_texts(memory, tenant, conversation_id) == [
        "earlier",
        "before",
        "now",
        "answer",
    ]
    # The next turn in the conversation sees the one before.
    later = await create(memory, tenant, input="later", conversation=conversation_id)
    assert texts(later.sent["input"]) == ["earlier", "before", "now", "answer", "later"]


async def test_an_unknown_conversation_is_refused(memory: Stores, tenant: str) -> None:
    flow = CreateResponseFlow(memory, tenant)
    body = {"model": "m", "input": "x", "conversation": "conv_unknown"}
    with pytest.raises(NotFoundError) as refused:
        await flow.prepare(orjson.dumps(body))
    assert refused.value.param == "conversation"


async def test_a_chain_begun_in_a_conversation_replays_it_as_it_is_now(
    memory: Stores, tenant: str
) -> None:
    conversation_id = await new_conversation(memory, tenant, "kept", "dropped")
    first = await create(
        memory, tenant, answer="first back", input="first", conversation=conversation_id
    )
    listed = await memory.conversations.list_items(tenant, conversation_id, 10, False, None)
    assert listed is not None
    dropped_id = orjson.loads(listed.items[1])["id"]
    assert await memory.conversations.delete_item(tenant, conversation_id, dropped_id)
    # Added to the conversation after the chain began: never part of the chain.
    await create(memory, tenant, input="elsewhere", conversation=conversation_id)
    second = await create(memory, tenant, input="second", previous_response_id=first.id)
    assert texts(second.sent["input"]) == ["kept", "first", "first back", "second"]


async def test_store_false_persists_nothing(memory: Stores, tenant: str) -> None:
    turn = await create(memory, tenant, input="forget me", store=False)
    assert turn.sent["store"] is False and turn.response["store"] is False
    assert await memory.responses.get(tenant, turn.id) is None
    assert await memory.responses.load_context(tenant, turn.id) is None
    flow = CreateResponseFlow(memory, tenant)
    with pytest.raises(InvalidRequestError):
        await flow.prepare(
            orjson.dumps({"model": "m", "input": "x", "previous_response_id": turn.id})
        )


async def test_a_failed_response_is_stored_but_not_added_to_the_conversation(
    memory: Stores, tenant: str
) -> None:
    conversation_id = await new_conversation(memory, tenant, "start")
    turn = await create(
        memory, tenant, status="failed", input="doomed", conversation=conversation_id
    )
    assert await memory.responses.get(tenant, turn.id) is not None
    assert await conversation_texts(memory, tenant, conversation_id) == ["start"]


async def test_an_unfinished_response_is_not_persisted(memory: Stores, tenant: str) -> None:
    conversation_id = await new_conversation(memory, tenant, "start")
    flow = CreateResponseFlow(memory, tenant)
    body = {"model": "m", "input": "x", "conversation": conversation_id}
    await flow.prepare(orjson.dumps(body))
    response = orjson.loads(backend_answer("partial", status="in_progress"))
    flow.present(response)
    await flow.persist(response)
    assert await memory.responses.get(tenant, flow.response_id) is None
    assert await conversation_texts(memory, tenant, conversation_id) == ["start"]


async def test_persist_renames_items_the_conversation_already_holds(
    memory: Stores, tenant: str
) -> None:
    conversation_id = await new_conversation(memory, tenant, "start")
    listed = await memory.conversations.list_items(tenant, conversation_id, 10, False, None)
    assert listed is not None
    held = orjson.loads(listed.items[0])
    # The client replays an item the conversation holds: it joins again under a new id.
    await create(memory, tenant, input=[held], conversation=conversation_id)
    page = await memory.conversations.list_items(tenant, conversation_id, 10, False, None)
    assert page is not None
    replayed = [orjson.loads(item) for item in page.items]
    assert texts(replayed) == ["start", "start", "ok"]
    assert len({item["id"] for item in replayed}) == 3 and replayed[1]["id"].startswith("msg_")
