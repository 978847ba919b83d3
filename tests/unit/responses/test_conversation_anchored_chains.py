"""Chains that begin in a conversation, against a real redis-server.

A response created with `conversation` is the root of its own thread; its thread's meta
remembers the conversation and the position of the last item the response saw. Any
response chained after it (at any depth, on any branch) replays the conversation's items
up to that mark, read as they are now, then the chain's own items. Conversation items
are never copied into threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import redis
from redis.asyncio import Redis
from support.redis_conversation_helpers import Pair, context_items, items, joined, new_conversation

from core.common.ids import new_id
from core.ports import ChainContext, ConversationMark, Stores
from core.responses.create_flow import CreateResponseFlow
from storage.blobs.local import LocalBlobStore
from storage.qdrant.index import QdrantChunkIndex
from storage.redis.connectors import RedisConnectorStore
from storage.redis.conversations import RedisConversationStore
from storage.redis.files import RedisFileStore
from storage.redis.ingest_queue import IngestQueue
from storage.redis.prompts import RedisPromptStore
from storage.redis.responses import RedisResponseStore
from storage.redis.vector_stores import RedisVectorStoreStore
from storage.tenant_keys import tenant_prefix


class Turn:
    """One stored response with its own input and output items."""

    def __init__(self) -> None:
        self.id = new_id("resp")
        self.input = [orjson.dumps({"id": new_id("msg"), "role": "user", "content": "ïn ✓"})]
        self.output = [orjson.dumps({"id": new_id("msg"), "role": "assistant", "content": "ø"})]
        self.record = orjson.dumps({"id": self.id, "object": "response", "status": "completed"})

    @property
    def items(self) -> list[bytes]:
        return [*self.input, *self.output]


def _flatten(turns: list[Turn]) -> list[bytes]:
    return [item for turn in turns for item in turn.items]


def _size(items: list[bytes]) -> int:
    """Bytes a thread needs for these items: each one followed by a comma."""
    return sum(len(item) + 1 for item in items)


def _thread_lengths(sync: redis.Redis, prefix: str) -> dict[str, int]:
    keys = list(sync.scan_iter(match=f"{prefix}t:*", count=1000))
    return {key.decode(): int(sync.strlen(key)) for key in keys}


def _command_calls(sync: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = sync.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name != "cmdstat_info"
    }


def _cold(store: RedisResponseStore) -> RedisResponseStore:
    """Another replica's view of the same Redis: nothing in its memory."""
    return RedisResponseStore(store._redis)


async def _save(
    store: RedisResponseStore,
    tenant: str,
    turn: Turn,
    after: Turn | None = None,
    mark: ConversationMark | None = None,
) -> ChainContext | None:
    parent = None if after is None else await store.load_context(tenant, after.id)
    assert after is None or parent is not None
    await store.save(tenant, turn.id, turn.record, turn.input, turn.output, parent, mark)
    return parent


async def _loaded(store: RedisResponseStore, tenant: str, turn: Turn | str) -> ChainContext:
    response_id = turn if isinstance(turn, str) else turn.id
    context = await store.load_context(tenant, response_id)
    assert context is not None, response_id
    return context


# The conversation store: what was read, and the prefix read again


async def test_context_answers_the_last_position(
    conversations: RedisConversationStore, tenant: str
) -> None:
    created = items("mark", 3)
    conversation_id = await new_conversation(conversations, tenant, created)
    assert await conversations.context(tenant, conversation_id) == (joined(created), 3)
    more = items("more", 2)
    assert await conversations.append(tenant, conversation_id, more) == []
    assert await conversations.context(tenant, conversation_id) == (joined(created + more), 5)
    # Deleting the newest item leaves the position of the newest one left.
    assert await conversations.delete_item(tenant, conversation_id, more[1][0])
    assert await conversations.context(tenant, conversation_id) == (joined(created + more[:1]), 4)
    empty = await new_conversation(conversations, tenant, [])
    assert await conversations.context(tenant, empty) == (b"", 0)


async def test_context_until_reads_the_prefix_as_it_is_now(
    conversations: RedisConversationStore, tenant: str
) -> None:
    created = items("until", 4)
    conversation_id = await new_conversation(conversations, tenant, created)
    until = conversations.context_until
    assert await until(tenant, conversation_id, 2) == joined(created[:2])
    assert await until(tenant, conversation_id, 0) == b""
    assert await until(tenant, conversation_id, 9) == joined(created)
    assert await conversations.append(tenant, conversation_id, items("later", 2)) == []
    assert await until(tenant, conversation_id, 4) == joined(created)
    assert await conversations.delete_item(tenant, conversation_id, created[0][0])
    assert await until(tenant, conversation_id, 2) == joined(created[1:2])
    assert await until(f"{tenant}-other", conversation_id, 4) == b""
    assert await conversations.delete(tenant, conversation_id)
    assert await until(tenant, conversation_id, 4) == b""


async def test_context_until_reads_a_long_prefix_in_chunks(
    conversations: RedisConversationStore, tenant: str
) -> None:
    created = items("long", 2500)
    conversation_id = await new_conversation(conversations, tenant, created)
    assert await conversations.context_until(tenant, conversation_id, 2400) == joined(
        created[:2400]
    )
    assert await context_items(conversations, tenant, conversation_id) == joined(created)


# The response store: the mark travels with the chain


async def test_every_response_of_the_chain_carries_the_mark(
    responses: RedisResponseStore, tenant: str
) -> None:
    mark = ConversationMark("conv_anchor", 7)
    first, second, third, branch, nested = (Turn() for _ in range(5))
    await _save(responses, tenant, first, mark=mark)
    await _save(responses, tenant, second, after=first)
    await _save(responses, tenant, third, after=second)
    await _save(responses, tenant, branch, after=first)  # a fork off the first thread
    await _save(responses, tenant, nested, after=branch)
    expected = {
        first: [first],
        second: [first, second],
        third: [first, second, third],
        branch: [first, branch],
        nested: [first, branch, nested],
    }
    for store in (responses, _cold(responses)):  # memory and Redis agree
        for turn, chain in expected.items():
            context = await _loaded(store, tenant, turn)
            # Only the chain's own items: the conversation's are named, not copied.
            assert context.items == b",".join(_flatten(chain))
            assert context.conversation == mark
    # Without a conversation nothing is marked.
    plain = Turn()
    await _save(responses, tenant, plain)
    assert (await _loaded(_cold(responses), tenant, plain)).conversation is None


async def test_a_mark_given_with_a_parent_is_the_parents(
    responses: RedisResponseStore, tenant: str
) -> None:
    first, second = Turn(), Turn()
    await _save(responses, tenant, first)
    await _save(responses, tenant, second, after=first, mark=ConversationMark("conv_x", 3))
    assert (await _loaded(responses, tenant, second)).conversation is None
    assert (await _loaded(_cold(responses), tenant, second)).conversation is None


async def test_a_long_anchored_chain_is_located_without_more_commands(
    responses: RedisResponseStore, tenant: str, redis_sync: redis.Redis
) -> None:
    mark = ConversationMark("conv_long", 12)
    previous: Turn | None = None
    turns: list[Turn] = []
    for n in range(300):  # long enough for the caller to read the thread itself
        turn = Turn()
        await _save(responses, tenant, turn, after=previous, mark=mark if n == 0 else None)
        turns.append(turn)
        previous = turn
    cold = _cold(responses)
    await cold.load_context(tenant, turns[0].id)  # loads the script
    before = _command_calls(redis_sync)
    context = await _loaded(cold, tenant, turns[-1])
    after = _command_calls(redis_sync)
    assert {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)} == {
        "evalsha": 1,
        "hmget": 1,
        "getrange": 1,
        "exists": 1,
    }
    assert context.conversation == mark
    assert context.items == b",".join(_flatten(turns))


async def test_a_copied_context_keeps_the_mark_and_copies_no_conversation_item(
    responses: RedisResponseStore, tenant: str, redis_sync: redis.Redis
) -> None:
    mark = ConversationMark("conv_copy", 2)
    first, second, child = Turn(), Turn(), Turn()
    await _save(responses, tenant, first, mark=mark)
    await _save(responses, tenant, second, after=first)
    stale = await responses.load_context(tenant, second.id)
    assert stale is not None
    # The parent goes while the child's request runs: the child copies the chain it saw.
    assert await responses.delete(tenant, second.id)
    await responses.save(tenant, child.id, child.record, child.input, child.output, stale)
    prefix = tenant_prefix(tenant)
    assert _thread_lengths(redis_sync, prefix) == {
        f"{prefix}t:{first.id}": _size(first.items),
        f"{prefix}t:{child.id}": _size(_flatten([first, second, child])),
    }
    for store in (responses, _cold(responses)):
        context = await _loaded(store, tenant, child)
        assert context.conversation == mark
        assert context.items == b",".join(_flatten([first, second, child]))


async def test_deleting_an_anchored_chain_leaves_no_keys(
    responses: RedisResponseStore, tenant: str, redis_sync: redis.Redis
) -> None:
    mark = ConversationMark("conv_gone", 1)
    first, second, branch = Turn(), Turn(), Turn()
    await _save(responses, tenant, first, mark=mark)
    await _save(responses, tenant, second, after=first)
    await _save(responses, tenant, branch, after=first)
    for turn in (branch, second, first):
        assert await responses.delete(tenant, turn.id)
    prefix = tenant_prefix(tenant)
    assert list(redis_sync.scan_iter(match=f"{prefix}*", count=1000)) == []


# The create flow: what the backend is sent


def _stores(redis_client: Redis, tmp_path: Path, responses: RedisResponseStore) -> Stores:
    return Stores(
        responses=responses,
        conversations=RedisConversationStore(redis_client),
        prompts=RedisPromptStore(redis_client),
        connectors=RedisConnectorStore(redis_client),
        files=RedisFileStore(redis_client),
        blobs=LocalBlobStore(tmp_path / "blobs"),
        vector_stores=RedisVectorStoreStore(redis_client),
        chunks=QdrantChunkIndex(path=tmp_path / "index"),  # never started: not used here
        ingest=IngestQueue(redis_client),
    )


def _reply(text: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}]
    message = {"type": "message", "id": f"msg_{text}", "role": "assistant", "content": content}
    return {"object": "response", "status": "completed", "output": [message]}


async def _create(stores: Stores, tenant: str, **fields: Any) -> tuple[str, list[Any]]:
    """One turn through the flow: (response id, the `input` the backend was sent)."""
    flow = CreateResponseFlow(stores, tenant)
    sent = orjson.loads(await flow.prepare(orjson.dumps({"model": "m", **fields})))
    await flow.finish_json(orjson.dumps(_reply(f"reply-{len(sent['input'])}")))
    return flow.response_id, sent["input"]


def _decoded(pairs: list[Pair]) -> list[Any]:
    return [orjson.loads(encoded) for _, encoded in pairs]


async def test_a_chain_after_a_conversation_response_replays_the_conversation_prefix(
    redis_client: Redis, responses: RedisResponseStore, tmp_path: Path, tenant: str
) -> None:
    stores = _stores(redis_client, tmp_path, responses)
    conversations = stores.conversations
    created = items("before", 2)
    conversation_id = await new_conversation(conversations, tenant, created)
    r1, sent1 = await _create(stores, tenant, input="one", conversation=conversation_id)
    assert sent1[:2] == _decoded(created)
    turn1 = orjson.loads(b"[" + (await _loaded(responses, tenant, r1)).items + b"]")
    assert turn1 == [sent1[2], _reply("reply-3")["output"][0]]
    # Later conversation items (r1's own turn was appended too) are not the chain's.
    assert await conversations.append(tenant, conversation_id, items("after", 1)) == []
    r2, sent2 = await _create(stores, tenant, input="two", previous_response_id=r1)
    assert sent2[:-1] == [*sent1, *turn1[1:]]
    cold = _stores(redis_client, tmp_path, _cold(responses))
    r3, sent3 = await _create(cold, tenant, input="three", previous_response_id=r2)
    assert sent3[:-1] == [*sent2, _reply("reply-5")["output"][0]]
    # Items deleted from the conversation since are no longer replayed.
    assert await conversations.delete_item(tenant, conversation_id, created[0][0])
    for fresh in (stores, _stores(redis_client, tmp_path, _cold(responses))):
        _, again = await _create(fresh, tenant, input="fork", previous_response_id=r2)
        assert again[:-1] == sent3[1:-1]
    # Nor once the conversation itself is deleted: the chain's own items stay.
    assert await conversations.delete(tenant, conversation_id)
    _, orphan = await _create(stores, tenant, input="four", previous_response_id=r3)
    assert orphan[:-1] == [*sent3[2:], _reply("reply-7")["output"][0]]


async def test_round_trips_of_an_anchored_context(
    redis_client: Redis,
    responses: RedisResponseStore,
    tmp_path: Path,
    tenant: str,
    redis_sync: redis.Redis,
) -> None:
    stores = _stores(redis_client, tmp_path, responses)
    conversation_id = await new_conversation(stores.conversations, tenant, items("rt", 50))
    r1, _ = await _create(stores, tenant, input="one", conversation=conversation_id)
    r2, _ = await _create(stores, tenant, input="two", previous_response_id=r1)
    await _create(
        _stores(redis_client, tmp_path, _cold(responses)), tenant, previous_response_id=r2
    )

    async def delta(flow_stores: Stores) -> dict[str, int]:
        flow = CreateResponseFlow(flow_stores, tenant)
        before = _command_calls(redis_sync)
        await flow.prepare(orjson.dumps({"model": "m", "input": "x", "previous_response_id": r2}))
        after = _command_calls(redis_sync)
        return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}

    # From memory: an EXISTS check, then one script call for the conversation prefix.
    assert await delta(stores) == {"exists": 2, "evalsha": 1, "zrangebyscore": 1, "hmget": 1}
    # From Redis: one script call for the chain (its record, thread and thread meta),
    # one for the prefix.
    cold = await delta(_stores(redis_client, tmp_path, _cold(responses)))
    assert cold == {"evalsha": 2, "hmget": 3, "getrange": 1, "exists": 1, "zrangebyscore": 1}


async def test_a_conversation_without_items_marks_nothing(
    redis_client: Redis, responses: RedisResponseStore, tmp_path: Path, tenant: str
) -> None:
    stores = _stores(redis_client, tmp_path, responses)
    conversation_id = await new_conversation(stores.conversations, tenant, [])
    r1, sent1 = await _create(stores, tenant, input="one", conversation=conversation_id)
    assert len(sent1) == 1
    assert (await _loaded(_cold(responses), tenant, r1)).conversation is None
    _, sent2 = await _create(stores, tenant, input="two", previous_response_id=r1)
    assert sent2[0] == sent1[0] and len(sent2) == 3
