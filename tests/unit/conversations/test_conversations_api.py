"""ConversationsApi on the in-memory conversation store: no Envoy, no Redis."""

from __future__ import annotations

from typing import Any

import pytest
from support.api_calls import call
from support.memory import MemoryConversationStore

from core.common.errors import InvalidRequestError, NotFoundError
from core.conversations.api import ConversationsApi

JSON = dict[str, Any]


@pytest.fixture
def conversations_api() -> ConversationsApi:
    return ConversationsApi(MemoryConversationStore())


def message(text: str, item_id: str | None = None) -> JSON:
    found: JSON = {"type": "message", "role": "user", "content": text}
    return found if item_id is None else {**found, "id": item_id}


def texts(listing: JSON) -> list[str]:
    return [item["content"][0]["text"] for item in listing["data"]]


async def new_conversation(api: ConversationsApi, tenant: str, *words: str) -> str:
    created = await call(api.create, tenant, body={"items": [message(w) for w in words]})
    return str(created.json["id"])


async def test_create_and_retrieve(conversations_api: ConversationsApi, tenant: str) -> None:
    body = {"metadata": {"topic": "ünï ✓"}, "items": [message("hello")]}
    created = await call(conversations_api.create, tenant, body=body)
    assert created.status == 200
    conversation = created.json
    assert conversation["id"].startswith("conv_")
    assert (conversation["object"], conversation["metadata"]) == (
        "conversation",
        {"topic": "ünï ✓"},
    )
    found = await call(conversations_api.retrieve, tenant, conversation["id"])
    assert found.json == conversation
    empty = await call(conversations_api.create, tenant, body=b"")
    assert empty.json["metadata"] == {}


async def test_items_are_listed_newest_first_unless_asked(
    conversations_api: ConversationsApi, tenant: str
) -> None:
    conversation_id = await new_conversation(conversations_api, tenant, "one", "two")
    added = await call(
        conversations_api.add_items,
        tenant,
        conversation_id,
        body={"items": [message("three"), message("four")]},
    )
    assert added.json["object"] == "list" and texts(added.json) == ["three", "four"]
    assert all(item["id"].startswith("msg_") for item in added.json["data"])
    newest_first = await call(conversations_api.list_items, tenant, conversation_id)
    assert texts(newest_first.json) == ["four", "three", "two", "one"]
    oldest_first = await call(
        conversations_api.list_items, tenant, conversation_id, query={"order": "asc"}
    )
    assert texts(oldest_first.json) == ["one", "two", "three", "four"]


async def test_items_page_with_after(conversations_api: ConversationsApi, tenant: str) -> None:
    words = [f"w{n}" for n in range(5)]
    conversation_id = await new_conversation(conversations_api, tenant, *words)
    query = {"order": "asc", "limit": "2"}
    first = await call(conversations_api.list_items, tenant, conversation_id, query=query)
    assert (texts(first.json), first.json["has_more"]) == (words[:2], True)
    assert first.json["first_id"] == first.json["data"][0]["id"]
    after = {**query, "after": first.json["last_id"]}
    second = await call(conversations_api.list_items, tenant, conversation_id, query=after)
    assert (texts(second.json), second.json["has_more"]) == (words[2:4], True)
    last = {**query, "after": second.json["last_id"]}
    third = await call(conversations_api.list_items, tenant, conversation_id, query=last)
    assert (texts(third.json), third.json["has_more"]) == (words[4:], False)
    with pytest.raises(InvalidRequestError) as bad:
        await call(conversations_api.list_items, tenant, conversation_id, query={"limit": "0"})
    assert (bad.value.param, bad.value.code) == ("limit", "integer_below_min_value")


async def test_get_and_delete_an_item(conversations_api: ConversationsApi, tenant: str) -> None:
    conversation_id = await new_conversation(conversations_api, tenant)
    items = [message("keep", "msg_keep"), message("drop", "msg_drop")]
    await call(conversations_api.add_items, tenant, conversation_id, body={"items": items})
    found = await call(conversations_api.get_item, tenant, conversation_id, "msg_drop")
    assert (found.json["id"], found.json["content"][0]["text"]) == ("msg_drop", "drop")
    deleted = await call(conversations_api.delete_item, tenant, conversation_id, "msg_drop")
    assert deleted.json["id"] == conversation_id  # the conversation, as the API answers
    listed = await call(conversations_api.list_items, tenant, conversation_id)
    assert [item["id"] for item in listed.json["data"]] == ["msg_keep"]
    for handler in (conversations_api.get_item, conversations_api.delete_item):
        with pytest.raises(NotFoundError) as missing:
            await call(handler, tenant, conversation_id, "msg_drop")
        assert missing.value.param == "item_id"


async def test_item_ids_are_unique(conversations_api: ConversationsApi, tenant: str) -> None:
    conversation_id = await new_conversation(conversations_api, tenant)
    once = {"items": [message("a", "msg_same")]}
    await call(conversations_api.add_items, tenant, conversation_id, body=once)
    twice = {"items": [message("b", "msg_other"), message("c", "msg_same")]}
    with pytest.raises(InvalidRequestError) as clash:
        await call(conversations_api.add_items, tenant, conversation_id, body=twice)
    assert (clash.value.param, clash.value.code) == ("items", "duplicate_item_id")
    within = {"items": [message("d", "msg_new"), message("e", "msg_new")]}
    with pytest.raises(InvalidRequestError):
        await call(conversations_api.add_items, tenant, conversation_id, body=within)
    listed = await call(conversations_api.list_items, tenant, conversation_id)
    assert [item["id"] for item in listed.json["data"]] == ["msg_same"]  # nothing added


async def test_update_and_delete(conversations_api: ConversationsApi, tenant: str) -> None:
    conversation_id = await new_conversation(conversations_api, tenant, "x")
    updated = await call(
        conversations_api.update, tenant, conversation_id, body={"metadata": {"k": "v"}}
    )
    assert updated.json["metadata"] == {"k": "v"}
    assert (await call(conversations_api.retrieve, tenant, conversation_id)).json == updated.json
    deleted = await call(conversations_api.delete, tenant, conversation_id)
    assert deleted.json == {
        "id": conversation_id,
        "object": "conversation.deleted",
        "deleted": True,
    }
    for handler in (conversations_api.retrieve, conversations_api.list_items):
        with pytest.raises(NotFoundError) as gone:
            await call(handler, tenant, conversation_id)
        assert gone.value.param == "conversation_id"


async def test_another_tenant_finds_nothing(
    conversations_api: ConversationsApi, tenant: str
) -> None:
    conversation_id = await new_conversation(conversations_api, tenant, "mine")
    other = f"{tenant}-other"
    with pytest.raises(NotFoundError):
        await call(conversations_api.retrieve, other, conversation_id)
    with pytest.raises(NotFoundError):
        await call(conversations_api.add_items, other, conversation_id, body={"items": []})
    listed = await call(conversations_api.list_items, tenant, conversation_id)
    assert texts(listed.json) == ["mine"]


async def test_search_results_are_shown_only_on_request(
    conversations_api: ConversationsApi, tenant: str
) -> None:
    search = {
        "type": "file_search_call",
        "id": "fs_1",
        "status": "completed",
        "queries": ["q"],
        "results": [{"file_id": "file_1", "text": "found", "score": 1.0}],
    }
    conversation_id = await new_conversation(conversations_api, tenant)
    await call(conversations_api.add_items, tenant, conversation_id, body={"items": [search]})
    plain = await call(conversations_api.get_item, tenant, conversation_id, "fs_1")
    assert plain.json["results"] is None
    include = {"include[]": "file_search_call.results"}
    shown = await call(conversations_api.get_item, tenant, conversation_id, "fs_1", query=include)
    assert shown.json["results"][0]["text"] == "found"
    listed = await call(conversations_api.list_items, tenant, conversation_id, query=include)
    assert listed.json["data"][0]["results"][0]["file_id"] == "file_1"
