"""The ConversationStore contract, run against Redis and the in-memory fake alike, so the
fake the core unit tests use cannot drift from what production does."""

from __future__ import annotations

import pytest
from support.memory import MemoryConversationStore
from support.redis_conversation_helpers import (
    context_items,
    ids,
    item,
    items,
    joined,
    new_conversation,
    record,
)

from core.ports import ConversationStore, ItemPage
from storage.redis.conversations import RedisConversationStore


@pytest.fixture(params=["redis", "memory"])
def conversation_store(
    request: pytest.FixtureRequest, conversations: RedisConversationStore
) -> ConversationStore:
    return conversations if request.param == "redis" else MemoryConversationStore()


async def test_items_come_back_byte_for_byte_in_order(
    conversation_store: ConversationStore, tenant: str
) -> None:
    created = items("create", 3)
    conversation_id = await new_conversation(conversation_store, tenant, created)
    assert await conversation_store.get(tenant, conversation_id) == record(conversation_id)
    assert await conversation_store.context(tenant, conversation_id) == (joined(created), 3)
    page = await conversation_store.list_items(tenant, conversation_id, 20, False, None)
    assert page == ItemPage(items=[encoded for _, encoded in created], has_more=False)
    empty = await new_conversation(conversation_store, tenant, [])
    assert await conversation_store.context(tenant, empty) == (b"", 0)


async def test_unknown_conversation(conversation_store: ConversationStore, tenant: str) -> None:
    missing = "conv_missing"
    assert await conversation_store.get(tenant, missing) is None
    assert await conversation_store.context(tenant, missing) is None
    assert await conversation_store.context_until(tenant, missing, 5) == b""
    assert await conversation_store.append(tenant, missing, items("x", 1)) is None
    assert await conversation_store.list_items(tenant, missing, 20, False, None) is None
    assert await conversation_store.get_item(tenant, missing, "msg_x") is None
    assert await conversation_store.delete_item(tenant, missing, "msg_x") is None
    assert not await conversation_store.replace(tenant, missing, record(missing))
    assert not await conversation_store.delete(tenant, missing)


async def test_a_batch_with_a_taken_id_adds_nothing(
    conversation_store: ConversationStore, tenant: str
) -> None:
    first = item("first", 0, item_id="msg_same")
    conversation_id = await new_conversation(conversation_store, tenant, [first])
    fresh, again = item("fresh", 1), item("again", 2, item_id="msg_same")
    assert await conversation_store.append(tenant, conversation_id, [fresh, again]) == ["msg_same"]
    assert await context_items(conversation_store, tenant, conversation_id) == first[1]
    assert await conversation_store.append(tenant, conversation_id, [fresh]) == []
    assert await conversation_store.context(tenant, conversation_id) == (
        joined([first, fresh]),
        2,
    )
    assert await conversation_store.append(tenant, conversation_id, []) == []


async def test_positions_survive_deletes(
    conversation_store: ConversationStore, tenant: str
) -> None:
    created = items("kept", 4)
    conversation_id = await new_conversation(conversation_store, tenant, created)
    stored = record(conversation_id)
    assert await conversation_store.delete_item(tenant, conversation_id, created[1][0]) == (
        stored,
        True,
    )
    assert await conversation_store.delete_item(tenant, conversation_id, created[1][0]) == (
        stored,
        False,
    )
    # The newest item gone: the context's position is the newest one left.
    assert await conversation_store.delete_item(tenant, conversation_id, created[3][0])
    kept = [created[0], created[2]]
    assert await conversation_store.context(tenant, conversation_id) == (joined(kept), 3)
    # A later item takes the next position, never a freed one.
    later = items("later", 1)
    assert await conversation_store.append(tenant, conversation_id, later) == []
    assert await conversation_store.context(tenant, conversation_id) == (
        joined([*kept, *later]),
        5,
    )
    # A prefix is read as it is now.
    assert await conversation_store.context_until(tenant, conversation_id, 4) == joined(kept)
    assert await conversation_store.context_until(tenant, conversation_id, 0) == b""
    assert await conversation_store.get_item(tenant, conversation_id, created[1][0]) == (
        stored,
        None,
    )
    assert await conversation_store.get_item(tenant, conversation_id, created[2][0]) == (
        stored,
        created[2][1],
    )
    assert await conversation_store.delete(tenant, conversation_id)
    assert await conversation_store.context_until(tenant, conversation_id, 5) == b""


async def test_pages_in_both_orders(conversation_store: ConversationStore, tenant: str) -> None:
    created = items("page", 5)
    item_ids = [item_id for item_id, _ in created]
    conversation_id = await new_conversation(conversation_store, tenant, created)

    async def page(limit: int, descending: bool, after: str | None) -> tuple[list[str], bool]:
        found = await conversation_store.list_items(
            tenant, conversation_id, limit, descending, after
        )
        assert found is not None
        return ids(found.items), found.has_more

    assert await page(2, False, None) == (item_ids[:2], True)
    assert await page(2, False, item_ids[1]) == (item_ids[2:4], True)
    assert await page(2, False, item_ids[3]) == (item_ids[4:], False)
    assert await page(5, False, None) == (item_ids, False)
    assert await page(2, True, None) == (item_ids[::-1][:2], True)
    assert await page(10, True, item_ids[2]) == (item_ids[1::-1], False)
    assert await page(10, True, item_ids[0]) == ([], False)
    assert await page(10, False, "msg_unknown") == ([], False)
    assert await page(10, True, "msg_unknown") == ([], False)


async def test_replace_and_delete(conversation_store: ConversationStore, tenant: str) -> None:
    created = items("replace", 2)
    conversation_id = await new_conversation(conversation_store, tenant, created)
    updated = record(conversation_id, topic="neu ✓")
    assert await conversation_store.replace(tenant, conversation_id, updated)
    assert await conversation_store.get(tenant, conversation_id) == updated
    assert await context_items(conversation_store, tenant, conversation_id) == joined(created)
    assert await conversation_store.delete(tenant, conversation_id)
    assert await conversation_store.get(tenant, conversation_id) is None
    assert not await conversation_store.delete(tenant, conversation_id)


async def test_tenants_are_isolated(conversation_store: ConversationStore, tenant: str) -> None:
    other = f"{tenant}-other"
    mine = items("mine", 2)
    conversation_id = await new_conversation(conversation_store, tenant, mine)
    assert await conversation_store.get(other, conversation_id) is None
    assert await conversation_store.append(other, conversation_id, items("x", 1)) is None
    assert await conversation_store.get_item(other, conversation_id, mine[0][0]) is None
    assert not await conversation_store.delete(other, conversation_id)
    # The same id in another tenant is another conversation.
    theirs = items("theirs", 1)
    await conversation_store.create(other, conversation_id, b'{"theirs":true}', theirs)
    assert await context_items(conversation_store, other, conversation_id) == theirs[0][1]
    assert await context_items(conversation_store, tenant, conversation_id) == joined(mine)
