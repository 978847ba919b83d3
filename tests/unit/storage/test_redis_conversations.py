"""RedisConversationStore against a real redis-server: records, positions, unique item ids,
races, tenants. Paging is in test_redis_conversation_paging.py."""

from __future__ import annotations

import asyncio

import orjson
import redis
from support.redis_conversation_helpers import (
    Pair,
    context_items,
    ids,
    item,
    items,
    joined,
    key_kinds,
    new_conversation,
    record,
)

from core.common.ids import new_id
from core.ports import ItemPage
from storage.redis.conversations import RedisConversationStore
from storage.tenant_keys import tenant_prefix


async def test_create_get_and_context(conversations: RedisConversationStore, tenant: str) -> None:
    created = items("create", 3)
    conversation_id = await new_conversation(conversations, tenant, created)
    assert await conversations.get(tenant, conversation_id) == record(conversation_id)
    # Items come back byte for byte, ready to splice into a request's input.
    assert await context_items(conversations, tenant, conversation_id) == joined(created)
    page = await conversations.list_items(tenant, conversation_id, 20, False, None)
    assert page == ItemPage(items=[i for _, i in created], has_more=False)


async def test_conversation_without_items(
    conversations: RedisConversationStore, tenant: str
) -> None:
    conversation_id = await new_conversation(conversations, tenant, [])
    assert await conversations.get(tenant, conversation_id) == record(conversation_id)
    assert await context_items(conversations, tenant, conversation_id) == b""
    for descending in (False, True):
        page = await conversations.list_items(tenant, conversation_id, 20, descending, None)
        assert page == ItemPage(items=[], has_more=False)


async def test_replace_overwrites_only_the_record(
    conversations: RedisConversationStore, tenant: str
) -> None:
    created = items("replace", 2)
    conversation_id = await new_conversation(conversations, tenant, created)
    updated = record(conversation_id, topic="neu ✓")
    assert await conversations.replace(tenant, conversation_id, updated)
    assert await conversations.get(tenant, conversation_id) == updated
    assert await context_items(conversations, tenant, conversation_id) == joined(created)


async def test_unknown_conversation(
    conversations: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    missing = new_id("conv")
    assert await conversations.get(tenant, missing) is None
    assert await context_items(conversations, tenant, missing) is None
    assert await conversations.list_items(tenant, missing, 20, True, None) is None
    assert await conversations.get_item(tenant, missing, "msg_x") is None
    assert await conversations.delete_item(tenant, missing, "msg_x") is None
    assert not await conversations.replace(tenant, missing, record(missing))
    assert await conversations.append(tenant, missing, items("ghost", 2)) is None
    assert await conversations.append(tenant, missing, []) is None
    assert not await conversations.delete(tenant, missing)
    assert key_kinds(redis_sync, missing) == []  # nothing was created on the way


async def test_delete_removes_all_four_keys(
    conversations: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    created = items("delete", 3)
    conversation_id = await new_conversation(conversations, tenant, created)
    assert key_kinds(redis_sync, conversation_id) == ["c", "ci", "co", "cx"]
    assert await conversations.delete(tenant, conversation_id)
    assert key_kinds(redis_sync, conversation_id) == []
    assert await conversations.get(tenant, conversation_id) is None
    assert await context_items(conversations, tenant, conversation_id) is None
    assert await conversations.get_item(tenant, conversation_id, created[0][0]) is None
    # Not even an id the deleted conversation held counts as taken now.
    assert await conversations.append(tenant, conversation_id, [created[0]]) is None
    assert not await conversations.delete(tenant, conversation_id)
    assert key_kinds(redis_sync, conversation_id) == []


async def test_append_keeps_positions(conversations: RedisConversationStore, tenant: str) -> None:
    first, second, third = items("a", 2), items("b", 3), items("c", 1)
    conversation_id = await new_conversation(conversations, tenant, first)
    assert await conversations.append(tenant, conversation_id, second) == []
    # A deleted item leaves a gap; nothing moves and later items still go last.
    assert await conversations.delete_item(tenant, conversation_id, second[1][0]) == (
        record(conversation_id),
        True,
    )
    assert await conversations.append(tenant, conversation_id, third) == []
    kept = [*first, second[0], second[2], *third]
    assert await context_items(conversations, tenant, conversation_id) == joined(kept)
    page = await conversations.list_items(tenant, conversation_id, 100, False, None)
    assert page is not None and ids(page.items) == [item_id for item_id, _ in kept]
    assert await conversations.append(tenant, conversation_id, []) == []  # nothing to add is fine
    assert await context_items(conversations, tenant, conversation_id) == joined(kept)


async def test_get_and_delete_item(conversations: RedisConversationStore, tenant: str) -> None:
    created = items("item", 3)
    conversation_id = await new_conversation(conversations, tenant, created)
    stored = record(conversation_id)
    target_id, target = created[1]
    assert await conversations.get_item(tenant, conversation_id, target_id) == (stored, target)
    assert await conversations.get_item(tenant, conversation_id, "msg_missing") == (stored, None)
    assert await conversations.delete_item(tenant, conversation_id, "msg_missing") == (
        stored,
        False,
    )
    assert await conversations.delete_item(tenant, conversation_id, target_id) == (stored, True)
    assert await conversations.get_item(tenant, conversation_id, target_id) == (stored, None)
    assert await conversations.delete_item(tenant, conversation_id, target_id) == (stored, False)
    rest = [created[0][1], created[2][1]]
    assert await context_items(conversations, tenant, conversation_id) == b",".join(rest)
    assert await conversations.list_items(tenant, conversation_id, 20, True, None) == ItemPage(
        items=rest[::-1], has_more=False
    )


async def test_an_id_given_twice_is_refused_and_nothing_is_written(
    conversations: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    first = item("first", 0, item_id="msg_same")
    conversation_id = await new_conversation(conversations, tenant, [first, *items("other", 1)])
    key = f"{tenant_prefix(tenant)}c:{conversation_id}"
    before = (await context_items(conversations, tenant, conversation_id), redis_sync.hgetall(key))
    fresh, again = item("fresh", 1), item("again", 2, item_id="msg_same")
    assert await conversations.append(tenant, conversation_id, [fresh, again]) == ["msg_same"]
    # Not even the fresh item, nor a position: the record and counter are untouched.
    assert (
        await context_items(conversations, tenant, conversation_id),
        redis_sync.hgetall(key),
    ) == before
    stored = record(conversation_id)
    assert await conversations.get_item(tenant, conversation_id, "msg_same") == (stored, first[1])
    assert await conversations.get_item(tenant, conversation_id, fresh[0]) == (stored, None)
    # The same batch without the clash goes in whole, straight after what was there.
    assert await conversations.append(tenant, conversation_id, [fresh]) == []
    assert (
        await context_items(conversations, tenant, conversation_id) == before[0] + b"," + fresh[1]
    )
    assert redis_sync.hget(key, "n") == b"3"


async def test_append_names_every_id_already_there_in_batch_order(
    conversations: RedisConversationStore, tenant: str
) -> None:
    a, b, c = items("held", 3)
    conversation_id = await new_conversation(conversations, tenant, [a, b, c])
    batch = [item("new", 0), item("c again", 1, c[0]), item("new", 2), item("a again", 3, a[0])]
    assert await conversations.append(tenant, conversation_id, batch) == [c[0], a[0]]
    assert await context_items(conversations, tenant, conversation_id) == joined([a, b, c])
    # Ids are opaque: anything a client brings is compared as it is.
    odd = item("odd", 0, item_id="has.dot/ünï cödé ✓")
    assert await conversations.append(tenant, conversation_id, [odd]) == []
    assert await conversations.append(tenant, conversation_id, [item("x", 1, odd[0])]) == [odd[0]]
    assert await conversations.get_item(tenant, conversation_id, odd[0]) == (
        record(conversation_id),
        odd[1],
    )


async def test_a_deleted_items_id_can_be_used_again(
    conversations: RedisConversationStore, tenant: str
) -> None:
    a, b = items("reuse", 2)
    conversation_id = await new_conversation(conversations, tenant, [a, b])
    assert await conversations.delete_item(tenant, conversation_id, a[0]) == (
        record(conversation_id),
        True,
    )
    again = item("back", 9, item_id=a[0])
    assert await conversations.append(tenant, conversation_id, [again]) == []
    # It comes back last, as a new item: the old position stays a gap.
    assert await context_items(conversations, tenant, conversation_id) == joined([b, again])
    assert await conversations.get_item(tenant, conversation_id, a[0]) == (
        record(conversation_id),
        again[1],
    )


async def test_concurrent_appends_lose_and_duplicate_nothing(
    conversations: RedisConversationStore, tenant: str
) -> None:
    conversation_id = await new_conversation(conversations, tenant, [])
    batches = [items(f"batch{b}", 3) for b in range(50)]
    all_ids = [item_id for batch in batches for item_id, _ in batch]
    assert len(set(all_ids)) == 150  # every batch brings ids of its own
    results = await asyncio.gather(
        *(conversations.append(tenant, conversation_id, batch) for batch in batches)
    )
    assert results == [[]] * 50
    context = await context_items(conversations, tenant, conversation_id)
    assert context is not None
    stored = [one["id"] for one in orjson.loads(b"[" + context + b"]")]
    assert sorted(stored) == sorted(all_ids)
    by_first = {batch[0][0]: [item_id for item_id, _ in batch] for batch in batches}
    # Every call's items are together and in order: the list is 50 whole batches.
    chunks = [stored[i : i + 3] for i in range(0, 150, 3)]
    assert sorted(chunk[0] for chunk in chunks) == sorted(by_first)
    for chunk in chunks:
        assert chunk == by_first[chunk[0]]


async def test_concurrent_appends_of_one_id_admit_exactly_one(
    conversations: RedisConversationStore, tenant: str
) -> None:
    conversation_id = await new_conversation(conversations, tenant, [])
    shared = new_id("msg")
    batches: list[list[Pair]] = [
        [item(f"own{b}", b), item(f"shared{b}", b, shared)] for b in range(30)
    ]
    results = await asyncio.gather(
        *(conversations.append(tenant, conversation_id, batch) for batch in batches)
    )
    assert sorted(map(tuple, results)) == [()] + [(shared,)] * 29
    [winner] = [batch for batch, taken in zip(batches, results, strict=True) if taken == []]
    assert await context_items(conversations, tenant, conversation_id) == joined(winner)


async def test_tenants_are_isolated(conversations: RedisConversationStore, tenant: str) -> None:
    other = f"{tenant}-other"
    mine = items("mine", 2)
    conversation_id = await new_conversation(conversations, tenant, mine)
    stored = record(conversation_id)
    item_id = mine[0][0]
    assert await conversations.get(other, conversation_id) is None
    assert await context_items(conversations, other, conversation_id) is None
    assert await conversations.list_items(other, conversation_id, 20, False, None) is None
    assert await conversations.get_item(other, conversation_id, item_id) is None
    assert await conversations.delete_item(other, conversation_id, item_id) is None
    assert await conversations.append(other, conversation_id, items("theirs", 1)) is None
    assert not await conversations.replace(other, conversation_id, b"{}")
    assert not await conversations.delete(other, conversation_id)
    assert await conversations.get(tenant, conversation_id) == stored
    assert await context_items(conversations, tenant, conversation_id) == joined(mine)
    # The same id in another tenant is another conversation, where item ids are free.
    theirs = [item("theirs", 0, item_id)]
    await conversations.create(other, conversation_id, b'{"theirs":true}', theirs)
    assert await context_items(conversations, other, conversation_id) == theirs[0][1]
    assert await conversations.append(other, conversation_id, [item("x", 1, mine[1][0])]) == []
    assert await context_items(conversations, tenant, conversation_id) == joined(mine)
    assert await conversations.get(tenant, conversation_id) == stored
