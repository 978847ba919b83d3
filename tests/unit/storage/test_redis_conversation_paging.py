"""RedisConversationStore paging against a real redis-server: pages, cursors, one command."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from support.redis_conversation_helpers import (
    context_items,
    ids,
    items,
    joined,
    new_conversation,
)

from core.ports import ItemPage
from storage.redis.conversations import RedisConversationStore


async def test_list_items_pages(conversations: RedisConversationStore, tenant: str) -> None:
    created = items("page", 10)
    item_ids = [item_id for item_id, _ in created]
    conversation_id = await new_conversation(conversations, tenant, created)

    async def page(limit: int, descending: bool, after: int | None) -> tuple[list[str], bool]:
        cursor = None if after is None else item_ids[after]
        found = await conversations.list_items(tenant, conversation_id, limit, descending, cursor)
        assert found is not None
        return ids(found.items), found.has_more

    assert await page(3, False, None) == (item_ids[:3], True)
    assert await page(3, True, None) == (item_ids[::-1][:3], True)
    assert await page(10, False, None) == (item_ids, False)
    assert await page(11, True, None) == (item_ids[::-1], False)
    assert await page(9, False, None) == (item_ids[:9], True)
    assert await page(3, False, 2) == (item_ids[3:6], True)
    assert await page(3, False, 6) == (item_ids[7:10], False)
    assert await page(3, False, 7) == (item_ids[8:], False)
    assert await page(3, True, 7) == ([item_ids[6], item_ids[5], item_ids[4]], True)
    assert await page(3, True, 3) == ([item_ids[2], item_ids[1], item_ids[0]], False)
    assert await page(3, True, 2) == ([item_ids[1], item_ids[0]], False)
    assert await page(5, False, 9) == ([], False)
    assert await page(5, True, 0) == ([], False)
    # The page holds the stored bytes themselves.
    found = await conversations.list_items(tenant, conversation_id, 2, False, item_ids[4])
    assert found == ItemPage(items=[created[5][1], created[6][1]], has_more=True)


@pytest.mark.parametrize("descending", [False, True])
async def test_unknown_after_gives_an_empty_page(
    conversations: RedisConversationStore, tenant: str, descending: bool
) -> None:
    conversation_id = await new_conversation(conversations, tenant, items("after", 4))
    page = await conversations.list_items(tenant, conversation_id, 20, descending, "msg_unknown")
    assert page == ItemPage(items=[], has_more=False)


@pytest.mark.parametrize("descending", [False, True])
async def test_walking_the_cursor_visits_every_item_once(
    conversations: RedisConversationStore, tenant: str, descending: bool
) -> None:
    created = items("walk", 47)
    conversation_id = await new_conversation(conversations, tenant, created)
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await conversations.list_items(tenant, conversation_id, 10, descending, after)
        assert page is not None
        seen += ids(page.items)
        if not page.has_more:
            break
        after = seen[-1]
    expected = [item_id for item_id, _ in created]
    assert seen == (expected[::-1] if descending else expected)


def _command_calls(sync: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = sync.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name != "cmdstat_info"
    }


async def test_a_long_context_is_one_command(
    conversations: RedisConversationStore, tenant: str, redis_sync: redis.Redis
) -> None:
    created = items("long", 1000)
    conversation_id = await new_conversation(conversations, tenant, created)
    await context_items(conversations, tenant, conversation_id)  # the script is loaded now
    before = _command_calls(redis_sync)
    context = await context_items(conversations, tenant, conversation_id)
    after = _command_calls(redis_sync)
    assert context == joined(created)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    # One EVALSHA from the client; the rest are the script's own reads.
    assert delta == {"evalsha": 1, "exists": 1, "zrange": 1, "hmget": 1}
