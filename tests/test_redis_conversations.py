"""RedisConversationStore against a real redis-server: positions, paging, races, round trips."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis
from harness import RedisServer
from redis.asyncio import Redis

from core.ids import new_id
from storage.protocols import ItemPage
from storage.redis_client import connect
from storage.redis_conversations import RedisConversationStore

Pair = tuple[str, bytes]


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[RedisConversationStore]:
    client: Redis = connect(redis_server.url)
    yield RedisConversationStore(client)
    await client.aclose()


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex}"


def _record(conversation_id: str, **metadata: str) -> bytes:
    return orjson.dumps({"id": conversation_id, "object": "conversation", "metadata": metadata})


def _item(tag: str, n: int, item_id: str | None = None) -> Pair:
    item_id = item_id or new_id("msg")
    text = f"{tag} {n} — ünïcödé ✓"
    item = {"id": item_id, "type": "message", "role": "user", "content": text}
    return item_id, orjson.dumps(item)


def _items(tag: str, count: int) -> list[Pair]:
    return [_item(tag, n) for n in range(count)]


def _ids(items: list[bytes]) -> list[str]:
    return [orjson.loads(item)["id"] for item in items]


async def _new(store: RedisConversationStore, tenant: str, items: list[Pair]) -> str:
    conversation_id = new_id("conv")
    await store.create(tenant, conversation_id, _record(conversation_id), items)
    return conversation_id


def _keys(sync: redis.Redis, conversation_id: str) -> list[str]:
    found = sync.scan_iter(match=f"or:*:*:{conversation_id}", count=1000)
    return sorted(key.decode().rsplit(":", 2)[-2] for key in found)


async def test_create_get_and_context(store: RedisConversationStore, tenant: str) -> None:
    items = _items("create", 3)
    conversation_id = await _new(store, tenant, items)
    assert await store.get(tenant, conversation_id) == _record(conversation_id)
    # Items come back byte for byte, ready to splice into a request's input.
    assert await store.context(tenant, conversation_id) == b",".join(i for _, i in items)
    page = await store.list_items(tenant, conversation_id, 20, False, None)
    assert page == ItemPage(items=[i for _, i in items], has_more=False)


async def test_conversation_without_items(store: RedisConversationStore, tenant: str) -> None:
    conversation_id = await _new(store, tenant, [])
    assert await store.get(tenant, conversation_id) == _record(conversation_id)
    assert await store.context(tenant, conversation_id) == b""
    for descending in (False, True):
        page = await store.list_items(tenant, conversation_id, 20, descending, None)
        assert page == ItemPage(items=[], has_more=False)


async def test_replace_overwrites_only_the_record(
    store: RedisConversationStore, tenant: str
) -> None:
    items = _items("replace", 2)
    conversation_id = await _new(store, tenant, items)
    updated = _record(conversation_id, topic="neu ✓")
    assert await store.replace(tenant, conversation_id, updated)
    assert await store.get(tenant, conversation_id) == updated
    assert await store.context(tenant, conversation_id) == b",".join(i for _, i in items)


async def test_unknown_conversation(
    store: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    missing = new_id("conv")
    assert await store.get(tenant, missing) is None
    assert await store.context(tenant, missing) is None
    assert await store.list_items(tenant, missing, 20, True, None) is None
    assert await store.get_item(tenant, missing, "msg_x") is None
    assert await store.delete_item(tenant, missing, "msg_x") is None
    assert not await store.replace(tenant, missing, _record(missing))
    assert not await store.append(tenant, missing, _items("ghost", 2))
    assert not await store.delete(tenant, missing)
    assert _keys(redis_sync, missing) == []  # nothing was created on the way


async def test_delete_removes_all_four_keys(
    store: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    items = _items("delete", 3)
    conversation_id = await _new(store, tenant, items)
    assert _keys(redis_sync, conversation_id) == ["c", "ci", "co", "cx"]
    assert await store.delete(tenant, conversation_id)
    assert _keys(redis_sync, conversation_id) == []
    assert await store.get(tenant, conversation_id) is None
    assert await store.context(tenant, conversation_id) is None
    assert await store.get_item(tenant, conversation_id, items[0][0]) is None
    assert not await store.append(tenant, conversation_id, _items("late", 1))
    assert not await store.delete(tenant, conversation_id)
    assert _keys(redis_sync, conversation_id) == []


async def test_append_keeps_positions(store: RedisConversationStore, tenant: str) -> None:
    first, second, third = _items("a", 2), _items("b", 3), _items("c", 1)
    conversation_id = await _new(store, tenant, first)
    assert await store.append(tenant, conversation_id, second)
    # A deleted item leaves a gap; nothing moves and later items still go last.
    assert await store.delete_item(tenant, conversation_id, second[1][0]) == (
        _record(conversation_id),
        True,
    )
    assert await store.append(tenant, conversation_id, third)
    kept = [*first, second[0], second[2], *third]
    assert await store.context(tenant, conversation_id) == b",".join(i for _, i in kept)
    page = await store.list_items(tenant, conversation_id, 100, False, None)
    assert page is not None and _ids(page.items) == [item_id for item_id, _ in kept]
    assert await store.append(tenant, conversation_id, [])  # nothing to add is fine


async def test_list_items_pages(store: RedisConversationStore, tenant: str) -> None:
    items = _items("page", 10)
    ids = [item_id for item_id, _ in items]
    conversation_id = await _new(store, tenant, items)

    async def page(limit: int, descending: bool, after: int | None) -> tuple[list[str], bool]:
        cursor = None if after is None else ids[after]
        found = await store.list_items(tenant, conversation_id, limit, descending, cursor)
        assert found is not None
        return _ids(found.items), found.has_more

    assert await page(3, False, None) == (ids[:3], True)
    assert await page(3, True, None) == (ids[::-1][:3], True)
    assert await page(10, False, None) == (ids, False)
    assert await page(11, True, None) == (ids[::-1], False)
    assert await page(9, False, None) == (ids[:9], True)
    assert await page(3, False, 2) == (ids[3:6], True)
    assert await page(3, False, 6) == (ids[7:10], False)
    assert await page(3, False, 7) == (ids[8:], False)
    assert await page(3, True, 7) == ([ids[6], ids[5], ids[4]], True)
    assert await page(3, True, 3) == ([ids[2], ids[1], ids[0]], False)
    assert await page(3, True, 2) == ([ids[1], ids[0]], False)
    assert await page(5, False, 9) == ([], False)
    assert await page(5, True, 0) == ([], False)
    # The page holds the stored bytes themselves.
    found = await store.list_items(tenant, conversation_id, 2, False, ids[4])
    assert found == ItemPage(items=[items[5][1], items[6][1]], has_more=True)


@pytest.mark.parametrize("descending", [False, True])
async def test_unknown_after_gives_an_empty_page(
    store: RedisConversationStore, tenant: str, descending: bool
) -> None:
    conversation_id = await _new(store, tenant, _items("after", 4))
    page = await store.list_items(tenant, conversation_id, 20, descending, "msg_unknown")
    assert page == ItemPage(items=[], has_more=False)


@pytest.mark.parametrize("descending", [False, True])
async def test_walking_the_cursor_visits_every_item_once(
    store: RedisConversationStore, tenant: str, descending: bool
) -> None:
    items = _items("walk", 47)
    conversation_id = await _new(store, tenant, items)
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await store.list_items(tenant, conversation_id, 10, descending, after)
        assert page is not None
        seen += _ids(page.items)
        if not page.has_more:
            break
        after = seen[-1]
    expected = [item_id for item_id, _ in items]
    assert seen == (expected[::-1] if descending else expected)


async def test_get_and_delete_item(store: RedisConversationStore, tenant: str) -> None:
    items = _items("item", 3)
    conversation_id = await _new(store, tenant, items)
    record = _record(conversation_id)
    target_id, target = items[1]
    assert await store.get_item(tenant, conversation_id, target_id) == (record, target)
    assert await store.get_item(tenant, conversation_id, "msg_missing") == (record, None)
    assert await store.delete_item(tenant, conversation_id, "msg_missing") == (record, False)
    assert await store.delete_item(tenant, conversation_id, target_id) == (record, True)
    assert await store.get_item(tenant, conversation_id, target_id) == (record, None)
    assert await store.delete_item(tenant, conversation_id, target_id) == (record, False)
    rest = [items[0][1], items[2][1]]
    assert await store.context(tenant, conversation_id) == b",".join(rest)
    assert await store.list_items(tenant, conversation_id, 20, True, None) == ItemPage(
        items=rest[::-1], has_more=False
    )


async def test_an_id_given_twice_does_not_overwrite_the_first_item(
    store: RedisConversationStore, tenant: str
) -> None:
    first = _item("first", 0, item_id="msg_same")
    second = _item("second", 1, item_id="msg_same")
    third = _item("third", 2, item_id="msg_same")
    conversation_id = await _new(store, tenant, [first, second])
    assert await store.append(tenant, conversation_id, [third])
    expected = [first[1], second[1], third[1]]
    assert await store.context(tenant, conversation_id) == b",".join(expected)
    page = await store.list_items(tenant, conversation_id, 20, False, None)
    assert page == ItemPage(items=expected, has_more=False)


async def test_concurrent_appends_lose_and_duplicate_nothing(
    store: RedisConversationStore, tenant: str
) -> None:
    conversation_id = await _new(store, tenant, [])
    batches = [_items(f"batch{b}", 3) for b in range(50)]
    results = await asyncio.gather(
        *(store.append(tenant, conversation_id, batch) for batch in batches)
    )
    assert results == [True] * 50
    context = await store.context(tenant, conversation_id)
    assert context is not None
    stored = [item["id"] for item in orjson.loads(b"[" + context + b"]")]
    assert len(stored) == len(set(stored)) == 150
    by_first = {batch[0][0]: [item_id for item_id, _ in batch] for batch in batches}
    # Every call's items are together and in order: the list is 50 whole batches.
    chunks = [stored[i : i + 3] for i in range(0, 150, 3)]
    assert sorted(chunk[0] for chunk in chunks) == sorted(by_first)
    for chunk in chunks:
        assert chunk == by_first[chunk[0]]


def _command_calls(sync: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = sync.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name != "cmdstat_info"
    }


async def test_a_long_context_is_one_command(
    store: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    items = _items("long", 1000)
    conversation_id = await _new(store, tenant, items)
    await store.context(tenant, conversation_id)  # the script is loaded now
    before = _command_calls(redis_sync)
    context = await store.context(tenant, conversation_id)
    after = _command_calls(redis_sync)
    assert context == b",".join(i for _, i in items)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    # One EVALSHA from the client; the rest are the script's own reads.
    assert delta == {"evalsha": 1, "exists": 1, "zrange": 1, "hmget": 1}


async def test_tenants_are_isolated(store: RedisConversationStore, tenant: str) -> None:
    other = f"{tenant}-other"
    mine = _items("mine", 2)
    conversation_id = await _new(store, tenant, mine)
    record = _record(conversation_id)
    item_id = mine[0][0]
    assert await store.get(other, conversation_id) is None
    assert await store.context(other, conversation_id) is None
    assert await store.list_items(other, conversation_id, 20, False, None) is None
    assert await store.get_item(other, conversation_id, item_id) is None
    assert await store.delete_item(other, conversation_id, item_id) is None
    assert not await store.append(other, conversation_id, _items("theirs", 1))
    assert not await store.replace(other, conversation_id, b"{}")
    assert not await store.delete(other, conversation_id)
    assert await store.get(tenant, conversation_id) == record
    assert await store.context(tenant, conversation_id) == b",".join(i for _, i in mine)
    # The same id in another tenant is another conversation.
    theirs = _items("theirs", 1)
    await store.create(other, conversation_id, b'{"theirs":true}', theirs)
    assert await store.context(other, conversation_id) == theirs[0][1]
    assert await store.context(tenant, conversation_id) == b",".join(i for _, i in mine)
    assert await store.get(tenant, conversation_id) == record
