"""Shared pieces for the conversation store tests: records, items, new conversations."""

from __future__ import annotations

import orjson
import redis

from core.common.ids import new_id
from core.ports import ConversationStore

Pair = tuple[str, bytes]


def record(conversation_id: str, **metadata: str) -> bytes:
    return orjson.dumps({"id": conversation_id, "object": "conversation", "metadata": metadata})


def item(tag: str, n: int, item_id: str | None = None) -> Pair:
    item_id = item_id or new_id("msg")
    text = f"{tag} {n} — ünïcödé ✓"
    encoded = {"id": item_id, "type": "message", "role": "user", "content": text}
    return item_id, orjson.dumps(encoded)


def items(tag: str, count: int) -> list[Pair]:
    """`count` items, each with an id of its own."""
    return [item(tag, n) for n in range(count)]


def ids(encoded: list[bytes]) -> list[str]:
    return [orjson.loads(one)["id"] for one in encoded]


def joined(pairs: list[Pair]) -> bytes:
    """What `context` answers for these items."""
    return b",".join(encoded for _, encoded in pairs)


async def context_items(
    store: ConversationStore, tenant: str, conversation_id: str
) -> bytes | None:
    """The items `context` answers, without the position of the last one."""
    found = await store.context(tenant, conversation_id)
    return None if found is None else found[0]


async def new_conversation(store: ConversationStore, tenant: str, pairs: list[Pair]) -> str:
    conversation_id = new_id("conv")
    await store.create(tenant, conversation_id, record(conversation_id), pairs)
    return conversation_id


def key_kinds(sync: redis.Redis, conversation_id: str) -> list[str]:
    """The kinds of key (c, ci, co, cx) that exist for a conversation, in any tenant."""
    found = sync.scan_iter(match=f"or:*:*:{conversation_id}", count=1000)
    return sorted(key.decode().rsplit(":", 2)[-2] for key in found)
