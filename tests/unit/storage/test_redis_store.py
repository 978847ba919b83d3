"""RedisResponseStore against a real redis-server: threads, forks, trimming, round trips."""

from __future__ import annotations

from typing import Any

import orjson
import redis as sync_redis_module

from core.common.ids import new_id
from core.ports import ChainContext
from storage.redis.responses import RedisResponseStore


def _item(owner: str, role: str, n: int) -> bytes:
    text = f"{owner} {role} {n} — ünïcödé ✓"
    return orjson.dumps({"id": f"msg_{owner}_{role}_{n}", "type": "message", "content": text})


class Turn:
    """One stored response with its own input and output items."""

    def __init__(self, n_input: int = 1, n_output: int = 1, rid: str | None = None) -> None:
        self.id = rid or new_id("resp")
        self.input = [_item(self.id, "in", i) for i in range(n_input)]
        self.output = [_item(self.id, "out", i) for i in range(n_output)]
        self.record = orjson.dumps({"id": self.id, "object": "response", "status": "completed"})

    @property
    def items(self) -> list[bytes]:
        return [*self.input, *self.output]


async def _save(
    responses: RedisResponseStore, tenant: str, turn: Turn, parent: ChainContext | None
) -> None:
    await responses.save(tenant, turn.id, turn.record, turn.input, turn.output, parent)


async def _continue(
    responses: RedisResponseStore, tenant: str, previous: Turn | None, turn: Turn
) -> None:
    parent = None
    if previous is not None:
        parent = await responses.load_context(tenant, previous.id)
        assert parent is not None
    await _save(responses, tenant, turn, parent)


async def _chain(
    responses: RedisResponseStore,
    tenant: str,
    n: int,
    n_input: int = 1,
    n_output: int = 1,
    after: Turn | None = None,
) -> list[Turn]:
    turns: list[Turn] = []
    previous = after
    for _ in range(n):
        turn = Turn(n_input, n_output)
        await _continue(responses, tenant, previous, turn)
        turns.append(turn)
        previous = turn
    return turns


def _flatten(turns: list[Turn]) -> list[bytes]:
    return [item for turn in turns for item in turn.items]


def _joined(items: list[bytes]) -> bytes:
    """A context as the store hands it over: the items joined with commas."""
    return b",".join(items)


def _array(items: list[bytes]) -> bytes:
    """A listing (output, input items) as the store hands it over: a JSON array."""
    return b"[" + b",".join(items) + b"]"


def _size(items: list[bytes]) -> int:
    """Bytes a thread needs for these items: each one followed by a comma."""
    return sum(len(item) + 1 for item in items)


async def _context(responses: RedisResponseStore, tenant: str, turn: Turn) -> bytes:
    context = await responses.load_context(tenant, turn.id)
    assert context is not None, f"no context for {turn.id}"
    assert isinstance(context.items, bytes)
    return context.items


def _prefix(sync: sync_redis_module.Redis, response_id: str) -> str:
    """The tenant's key prefix, found through the key of one of its responses."""
    found: list[bytes] = list(sync.scan_iter(match=f"or:*:r:{response_id}", count=1000))
    keys = [key.decode() for key in found]
    assert len(keys) == 1, keys
    return keys[0][: -len(f"r:{response_id}")]


def _thread_lengths(sync: sync_redis_module.Redis, prefix: str) -> dict[str, int]:
    keys = list(sync.scan_iter(match=f"{prefix}t:*", count=1000))
    return {key.decode(): int(sync.strlen(key)) for key in keys}


def _command_calls(sync: sync_redis_module.Redis) -> dict[str, int]:
    stats: dict[str, Any] = sync.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name != "cmdstat_info"
    }


def _total_commands(sync: sync_redis_module.Redis) -> int:
    return int(sync.info("stats")["total_commands_processed"])


# Basic operations


async def test_save_get_input_items(responses: RedisResponseStore, tenant: str) -> None:
    turn = Turn(n_input=2, n_output=3)
    await _save(responses, tenant, turn, None)
    stored = await responses.get(tenant, turn.id)
    assert stored is not None
    assert stored.record == turn.record
    assert stored.output == _array(turn.output)
    assert await responses.input_items(tenant, turn.id) == _array(turn.input)
    context = await responses.load_context(tenant, turn.id)
    assert context is not None and context.items == _joined(turn.items)
    # Listings are valid JSON, ready to send as they are.
    assert orjson.loads(stored.output) == [orjson.loads(item) for item in turn.output]
    assert orjson.loads(b"[" + context.items + b"]") == [orjson.loads(i) for i in turn.items]


async def test_get_of_an_unknown_response_is_none(
    responses: RedisResponseStore, tenant: str
) -> None:
    assert await responses.get(tenant, "resp_missing") is None
    assert await responses.input_items(tenant, "resp_missing") is None
    assert await responses.load_context(tenant, "resp_missing") is None
    assert await responses.delete(tenant, "resp_missing") is False


async def test_response_without_output_or_input(responses: RedisResponseStore, tenant: str) -> None:
    empty = Turn(n_input=0, n_output=0)
    await _save(responses, tenant, empty, None)
    stored = await responses.get(tenant, empty.id)
    assert stored is not None and stored.record == empty.record and stored.output == b"[]"
    assert await responses.input_items(tenant, empty.id) == b"[]"
    assert await _context(responses, tenant, empty) == b""
    child = Turn()
    await _continue(responses, tenant, empty, child)
    assert await _context(responses, tenant, child) == _joined(child.items)


async def test_input_items_are_only_the_responses_own(
    responses: RedisResponseStore, tenant: str
) -> None:
    first, second, third = await _chain(responses, tenant, 3, n_input=2, n_output=2)
    assert await responses.input_items(tenant, second.id) == _array(second.input)
    assert await responses.input_items(tenant, third.id) == _array(third.input)
    stored = await responses.get(tenant, second.id)
    assert stored is not None and stored.output == _array(second.output)
    assert await _context(responses, tenant, third) == _joined(_flatten([first, second, third]))


async def test_delete(responses: RedisResponseStore, tenant: str) -> None:
    turn = Turn()
    await _save(responses, tenant, turn, None)
    assert await responses.delete(tenant, turn.id) is True
    assert await responses.get(tenant, turn.id) is None
    assert await responses.input_items(tenant, turn.id) is None
    assert await responses.load_context(tenant, turn.id) is None
    assert await responses.delete(tenant, turn.id) is False


async def test_deleting_the_only_response_leaves_no_keys(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    first, second = await _chain(responses, tenant, 2)
    prefix = _prefix(redis_sync, first.id)
    assert await responses.delete(tenant, second.id)
    assert await responses.delete(tenant, first.id)
    assert list(redis_sync.scan_iter(match=f"{prefix}*", count=1000)) == []


async def test_items_are_stored_byte_for_byte(responses: RedisResponseStore, tenant: str) -> None:
    turn = Turn()
    turn.input = [b'{"text":"\xc3\xa9\\u00e9 \xf0\x9f\x98\x80","n":1.50}']
    turn.output = [b"{ }", b"[]"]
    await _save(responses, tenant, turn, None)
    assert await _context(responses, tenant, turn) == _joined([*turn.input, *turn.output])
    stored = await responses.get(tenant, turn.id)
    assert stored is not None and stored.output == b"[{ },[]]"
    assert await responses.input_items(tenant, turn.id) == b"[" + turn.input[0] + b"]"


# Chains


async def test_deep_linear_chain_context_is_complete_and_ordered(
    responses: RedisResponseStore, tenant: str
) -> None:
    turns = await _chain(responses, tenant, 200, n_input=1, n_output=2)
    context = await _context(responses, tenant, turns[-1])
    assert len(orjson.loads(b"[" + context + b"]")) == 600
    assert context == _joined(_flatten(turns))
    middle = await _context(responses, tenant, turns[99])
    assert middle == _joined(_flatten(turns[:100]))


async def test_load_context_costs_the_same_round_trips_at_any_depth(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    turns = await _chain(responses, tenant, 2000)
    # Another replica's view: nothing of this chain in its memory.
    responses = RedisResponseStore(responses._redis)
    # Warm up: the first call of a script may need a SCRIPT LOAD before its EVALSHA.
    await responses.load_context(tenant, turns[0].id)

    async def cost(turn: Turn) -> tuple[dict[str, int], int]:
        calls, total = _command_calls(redis_sync), _total_commands(redis_sync)
        assert await responses.load_context(tenant, turn.id) is not None
        after_calls, after_total = _command_calls(redis_sync), _total_commands(redis_sync)
        delta = {k: v - calls.get(k, 0) for k, v in after_calls.items() if v != calls.get(k, 0)}
        return delta, after_total - total

    # A short context comes back from the script itself: one command from the client.
    shallow_calls, _ = await cost(turns[0])
    assert shallow_calls["evalsha"] == 1
    assert set(shallow_calls) == {"evalsha", "hmget", "getrange"}  # inside the script
    # A long one is located by the script and read with one pipelined GETRANGE (plus
    # an EXISTS check): two round trips whatever the depth.
    deep_calls, deep_total = await cost(turns[199])
    deeper_calls, deeper_total = await cost(turns[-1])
    assert deep_calls == {"evalsha": 1, "hmget": 1, "getrange": 1, "exists": 1}
    assert deeper_calls == deep_calls
    assert deeper_total == deep_total


async def test_storage_is_linear_in_items(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    n, k = 50, 3
    turns = await _chain(responses, tenant, n, n_input=1, n_output=k - 1)
    lengths = _thread_lengths(redis_sync, _prefix(redis_sync, turns[0].id))
    # Every item saved is stored exactly once (each followed by its comma).
    assert sum(lengths.values()) == _size(_flatten(turns))
    assert len(_flatten(turns)) == n * k
    assert len(lengths) == 1  # one thread for a chain without forks


# Forks


async def test_continuing_a_non_tip_response_forks(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    a, b, c = await _chain(responses, tenant, 3, n_input=1, n_output=2)
    branch = Turn(n_input=2, n_output=1)
    await _continue(responses, tenant, b, branch)
    assert await _context(responses, tenant, branch) == _joined(_flatten([a, b, branch]))
    # The original chain is unaffected.
    assert await _context(responses, tenant, c) == _joined(_flatten([a, b, c]))
    assert await _context(responses, tenant, b) == _joined(_flatten([a, b]))
    # The shared prefix is stored once.
    lengths = _thread_lengths(redis_sync, _prefix(redis_sync, a.id))
    assert sum(lengths.values()) == _size(_flatten([a, b, c, branch]))
    assert len(lengths) == 2


async def test_continuing_both_sides_of_a_fork(responses: RedisResponseStore, tenant: str) -> None:
    a, b = await _chain(responses, tenant, 2)
    left = await _chain(responses, tenant, 3, after=a)
    right = await _chain(responses, tenant, 3, after=b)
    nested = await _chain(responses, tenant, 2, after=left[0])
    assert await _context(responses, tenant, left[-1]) == _joined(_flatten([a, *left]))
    assert await _context(responses, tenant, right[-1]) == _joined(_flatten([a, b, *right]))
    assert await _context(responses, tenant, nested[-1]) == _joined(_flatten([a, left[0], *nested]))
    assert await responses.input_items(tenant, nested[-1].id) == _array(nested[-1].input)


async def test_two_continuations_of_the_same_tip(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    (a,) = await _chain(responses, tenant, 1)
    context = await responses.load_context(tenant, a.id)
    first, second = Turn(), Turn()
    # Both were started from the same context (concurrent requests).
    await _save(responses, tenant, first, context)
    await _save(responses, tenant, second, context)
    assert await _context(responses, tenant, first) == _joined(_flatten([a, first]))
    assert await _context(responses, tenant, second) == _joined(_flatten([a, second]))
    lengths = _thread_lengths(redis_sync, _prefix(redis_sync, a.id))
    assert sum(lengths.values()) == _size(_flatten([a, first, second]))


async def test_load_context_of_a_forked_chain_is_one_evalsha(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    previous: Turn | None = None
    for _ in range(20):  # each step forks off the previous thread
        turns = await _chain(responses, tenant, 2, after=previous)
        previous = turns[0]
    assert previous is not None
    responses = RedisResponseStore(responses._redis)  # another replica: nothing cached
    await responses.load_context(tenant, previous.id)
    before = _command_calls(redis_sync)
    assert await responses.load_context(tenant, previous.id) is not None
    after = _command_calls(redis_sync)
    assert after["evalsha"] - before["evalsha"] == 1
    assert after.get("eval", 0) == before.get("eval", 0)


async def test_a_just_stored_context_is_served_from_memory_after_an_exists_check(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    a, b = await _chain(responses, tenant, 2, n_input=2, n_output=2)
    before = _command_calls(redis_sync)
    context = await responses.load_context(tenant, b.id)
    after = _command_calls(redis_sync)
    assert context is not None and context.items == b",".join(_flatten([a, b]))
    assert {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)} == {
        "exists": 1
    }
    # Deleted through another replica: this one must not serve its memory.
    other = RedisResponseStore(responses._redis)
    assert await other.delete(tenant, b.id)
    assert await responses.load_context(tenant, b.id) is None


async def test_memory_and_redis_give_the_same_context(
    responses: RedisResponseStore, tenant: str
) -> None:
    a, b = await _chain(responses, tenant, 2, n_input=1, n_output=2)
    fork = Turn(n_input=1, n_output=1)
    await _continue(responses, tenant, a, fork)
    cold = RedisResponseStore(responses._redis)
    for turn in (a, b, fork):
        warm_context = await responses.load_context(tenant, turn.id)
        cold_context = await cold.load_context(tenant, turn.id)
        assert warm_context is not None and cold_context is not None
        assert warm_context == cold_context


# Deletion


async def test_deleting_the_tip_trims_its_items(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    a, b, c = await _chain(responses, tenant, 3, n_input=2, n_output=2)
    prefix = _prefix(redis_sync, a.id)
    assert sum(_thread_lengths(redis_sync, prefix).values()) == _size(_flatten([a, b, c]))
    assert await responses.delete(tenant, c.id)
    assert sum(_thread_lengths(redis_sync, prefix).values()) == _size(_flatten([a, b]))
    # A later continuation of the previous response appends where c was.
    d = Turn(n_input=1, n_output=3)
    await _continue(responses, tenant, b, d)
    lengths = _thread_lengths(redis_sync, prefix)
    assert len(lengths) == 1
    assert sum(lengths.values()) == _size(_flatten([a, b, d]))
    assert await _context(responses, tenant, d) == _joined(_flatten([a, b, d]))
    assert await responses.input_items(tenant, d.id) == _array(d.input)
    stored = await responses.get(tenant, d.id)
    assert stored is not None and stored.output == _array(d.output)
    assert await responses.load_context(tenant, c.id) is None


async def test_deleting_a_middle_response_keeps_descendants(
    responses: RedisResponseStore, tenant: str
) -> None:
    a, b, c, d = await _chain(responses, tenant, 4)
    assert await responses.delete(tenant, b.id)
    assert await responses.get(tenant, b.id) is None
    assert await responses.load_context(tenant, b.id) is None
    assert await _context(responses, tenant, d) == _joined(_flatten([a, b, c, d]))
    assert await _context(responses, tenant, c) == _joined(_flatten([a, b, c]))
    assert await responses.input_items(tenant, c.id) == _array(c.input)
    # Deleting the tip after the middle one keeps the rest replayable.
    assert await responses.delete(tenant, d.id)
    assert await _context(responses, tenant, c) == _joined(_flatten([a, b, c]))
    e = Turn()
    await _continue(responses, tenant, c, e)
    assert await _context(responses, tenant, e) == _joined(_flatten([a, b, c, e]))
    f = Turn()
    await _continue(responses, tenant, a, f)
    assert await _context(responses, tenant, f) == _joined(_flatten([a, f]))


async def test_deleting_a_forked_parent_keeps_both_branches(
    responses: RedisResponseStore, tenant: str
) -> None:
    a, b = await _chain(responses, tenant, 2)
    branch = await _chain(responses, tenant, 2, after=a)
    # b is the tip of its thread, but a branch replays a's items from that thread.
    assert await responses.delete(tenant, b.id)
    assert await responses.delete(tenant, a.id)
    assert await _context(responses, tenant, branch[-1]) == _joined(_flatten([a, *branch]))


async def test_deleting_a_fork_root_then_continuing_its_parent(
    responses: RedisResponseStore, tenant: str
) -> None:
    a, b = await _chain(responses, tenant, 2)
    (branch,) = await _chain(responses, tenant, 1, after=a)
    assert await responses.delete(tenant, branch.id)
    assert await _context(responses, tenant, b) == _joined(_flatten([a, b]))
    assert await responses.delete(tenant, b.id)
    c = Turn()
    await _continue(responses, tenant, a, c)
    assert await _context(responses, tenant, c) == _joined(_flatten([a, c]))


async def test_parent_deleted_between_load_context_and_save(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    a, b = await _chain(responses, tenant, 2, n_input=2, n_output=2)
    prefix = _prefix(redis_sync, a.id)
    stale = await responses.load_context(tenant, b.id)
    assert stale is not None
    # While the child's request runs, its parent (the tip) is deleted and trimmed.
    assert await responses.delete(tenant, b.id)
    assert sum(_thread_lengths(redis_sync, prefix).values()) == _size(a.items)
    child = Turn(n_input=1, n_output=2)
    await _save(responses, tenant, child, stale)
    assert await _context(responses, tenant, child) == _joined(_flatten([a, b, child]))
    assert await responses.input_items(tenant, child.id) == _array(child.input)
    stored = await responses.get(tenant, child.id)
    assert stored is not None and stored.output == _array(child.output)
    grandchild = Turn()
    await _continue(responses, tenant, child, grandchild)
    assert await _context(responses, tenant, grandchild) == _joined(
        _flatten([a, b, child, grandchild])
    )
    assert await _context(responses, tenant, a) == _joined(a.items)


async def test_root_parent_deleted_between_load_context_and_save(
    responses: RedisResponseStore, tenant: str
) -> None:
    (a,) = await _chain(responses, tenant, 1)
    stale = await responses.load_context(tenant, a.id)
    assert stale is not None
    assert await responses.delete(tenant, a.id)
    child = Turn()
    await _save(responses, tenant, child, stale)
    assert await _context(responses, tenant, child) == _joined(_flatten([a, child]))


async def test_parent_deleted_and_its_slot_reused_before_save(
    responses: RedisResponseStore, tenant: str
) -> None:
    """The stale anchor must not splice the child after someone else's items.

    b (the tip) is deleted and trimmed while a request continuing b runs; meanwhile
    another request continues a, refilling the thread past b's old end. The child of b
    must still replay a, b and itself, never a and the other request's items.
    """
    a, b = await _chain(responses, tenant, 2, n_input=1, n_output=1)
    stale = await responses.load_context(tenant, b.id)
    assert stale is not None
    assert await responses.delete(tenant, b.id)
    other = Turn(n_input=1, n_output=1)
    await _continue(responses, tenant, a, other)
    child = Turn()
    await _save(responses, tenant, child, stale)
    assert await _context(responses, tenant, other) == _joined(_flatten([a, other]))
    assert await _context(responses, tenant, child) == _joined(_flatten([a, b, child]))


async def test_deleting_a_response_saved_with_a_context_copy_removes_the_copy(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    a, b = await _chain(responses, tenant, 2, n_input=2, n_output=2)
    prefix = _prefix(redis_sync, a.id)
    stale = await responses.load_context(tenant, b.id)
    assert stale is not None
    assert await responses.delete(tenant, b.id)
    child = Turn(n_input=1, n_output=2)
    await _save(responses, tenant, child, stale)
    # The save fell back to a thread of its own holding a copy of the context it saw.
    copy = f"{prefix}t:{child.id}"
    assert redis_sync.hget(f"{prefix}r:{child.id}", "th") == child.id.encode()
    assert _thread_lengths(redis_sync, prefix) == {
        f"{prefix}t:{a.id}": _size(a.items),
        copy: _size(_flatten([a, b, child])),
    }
    assert await responses.delete(tenant, child.id)
    # The copy went with it; a's thread is untouched.
    assert _thread_lengths(redis_sync, prefix) == {f"{prefix}t:{a.id}": _size(a.items)}
    assert not redis_sync.exists(copy, f"{prefix}tp:{child.id}")
    assert await _context(responses, tenant, a) == _joined(a.items)
    assert await responses.delete(tenant, a.id)
    assert list(redis_sync.scan_iter(match=f"{prefix}*", count=1000)) == []


async def test_deleting_the_only_response_of_a_copied_context_leaves_no_keys(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    (a,) = await _chain(responses, tenant, 1, n_input=2, n_output=1)
    prefix = _prefix(redis_sync, a.id)
    stale = await responses.load_context(tenant, a.id)
    assert stale is not None
    assert await responses.delete(tenant, a.id)
    child = Turn()
    await _save(responses, tenant, child, stale)
    assert _thread_lengths(redis_sync, prefix) == {
        f"{prefix}t:{child.id}": _size(_flatten([a, child]))
    }
    assert await responses.delete(tenant, child.id)
    assert list(redis_sync.scan_iter(match=f"{prefix}*", count=1000)) == []


# Tenancy


async def test_tenant_isolation(responses: RedisResponseStore, tenant: str) -> None:
    first, second = await _chain(responses, tenant, 2)
    other = f"{tenant}-other"
    assert await responses.get(other, first.id) is None
    assert await responses.load_context(other, second.id) is None
    assert await responses.input_items(other, first.id) is None
    assert await responses.delete(other, second.id) is False
    # Another tenant's failed delete changed nothing.
    assert await _context(responses, tenant, second) == _joined(_flatten([first, second]))
    # Another tenant saving under the same response id does not touch this tenant's.
    clash = Turn(rid=second.id)
    await _save(responses, other, clash, None)
    assert await _context(responses, other, clash) == _joined(clash.items)
    assert await _context(responses, tenant, second) == _joined(_flatten([first, second]))


async def test_tenant_keys_share_one_hash_tag(
    responses: RedisResponseStore, tenant: str, redis_sync: sync_redis_module.Redis
) -> None:
    a, _ = await _chain(responses, tenant, 2)
    await _chain(responses, tenant, 1, after=a)  # a fork: thread metadata keys too
    prefix = _prefix(redis_sync, a.id)
    keys = [k.decode() for k in redis_sync.scan_iter(match=f"{prefix}*", count=1000)]
    assert len(keys) >= 5
    tags = {key[key.index("{") + 1 : key.index("}")] for key in keys}
    assert len(tags) == 1
    assert tenant not in prefix
