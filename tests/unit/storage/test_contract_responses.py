"""The ResponseStore contract, run against Redis and the in-memory fake alike, so the fake
the core unit tests use cannot drift from what production does."""

from __future__ import annotations

import orjson
import pytest
from support.memory import MemoryResponseStore

from core.common.ids import new_id
from core.ports import ChainContext, ConversationMark, ResponseStore
from storage.redis.responses import RedisResponseStore


@pytest.fixture(params=["redis", "memory"])
def response_store(request: pytest.FixtureRequest, responses: RedisResponseStore) -> ResponseStore:
    return responses if request.param == "redis" else MemoryResponseStore()


class Turn:
    """One response with its own input and output items."""

    def __init__(self, n_input: int = 1, n_output: int = 1) -> None:
        self.id = new_id("resp")
        self.record = orjson.dumps({"id": self.id, "object": "response", "status": "completed"})
        self.input = [self._item("user", n) for n in range(n_input)]
        self.output = [self._item("assistant", n) for n in range(n_output)]

    def _item(self, role: str, n: int) -> bytes:
        text = f"{self.id} {role} {n} — ünï ✓"
        return orjson.dumps({"id": new_id("msg"), "role": role, "content": text})

    @property
    def items(self) -> list[bytes]:
        return [*self.input, *self.output]


def chain(*turns: Turn) -> bytes:
    """A context's `items` for these turns."""
    return b",".join(item for turn in turns for item in turn.items)


def array(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


async def save(
    store: ResponseStore,
    tenant: str,
    turn: Turn,
    after: Turn | None = None,
    mark: ConversationMark | None = None,
    tool_lists: bytes = b"",
) -> None:
    parent = None if after is None else await store.load_context(tenant, after.id)
    assert after is None or parent is not None
    await store.save(
        tenant, turn.id, turn.record, turn.input, turn.output, parent, mark, tool_lists
    )


async def context(store: ResponseStore, tenant: str, turn: Turn) -> ChainContext:
    found = await store.load_context(tenant, turn.id)
    assert found is not None, turn.id
    return found


async def test_a_response_reads_back(response_store: ResponseStore, tenant: str) -> None:
    turn = Turn(n_input=2, n_output=3)
    await save(response_store, tenant, turn)
    stored = await response_store.get(tenant, turn.id)
    assert stored is not None
    assert (stored.record, stored.output) == (turn.record, array(turn.output))
    assert await response_store.input_items(tenant, turn.id) == array(turn.input)
    loaded = await context(response_store, tenant, turn)
    assert (loaded.items, loaded.conversation) == (chain(turn), None)
    assert await response_store.tool_lists(tenant, turn.id) is None


async def test_empty_response(response_store: ResponseStore, tenant: str) -> None:
    empty = Turn(n_input=0, n_output=0)
    await save(response_store, tenant, empty)
    stored = await response_store.get(tenant, empty.id)
    assert stored is not None and stored.output == b"[]"
    assert await response_store.input_items(tenant, empty.id) == b"[]"
    assert (await context(response_store, tenant, empty)).items == b""
    after = Turn()
    await save(response_store, tenant, after, after=empty)
    assert (await context(response_store, tenant, after)).items == chain(after)


async def test_unknown_response(response_store: ResponseStore, tenant: str) -> None:
    assert await response_store.get(tenant, "resp_missing") is None
    assert await response_store.input_items(tenant, "resp_missing") is None
    assert await response_store.load_context(tenant, "resp_missing") is None
    assert await response_store.tool_lists(tenant, "resp_missing") is None
    assert not await response_store.delete(tenant, "resp_missing")


async def test_chains_and_branches(response_store: ResponseStore, tenant: str) -> None:
    a, b, c = Turn(), Turn(n_input=2), Turn(n_output=2)
    await save(response_store, tenant, a)
    await save(response_store, tenant, b, after=a)
    await save(response_store, tenant, c, after=b)
    assert (await context(response_store, tenant, c)).items == chain(a, b, c)
    # A branch off the middle sees its own history only, and the tip is unchanged.
    side = Turn()
    await save(response_store, tenant, side, after=a)
    assert (await context(response_store, tenant, side)).items == chain(a, side)
    assert (await context(response_store, tenant, c)).items == chain(a, b, c)
    # Only a response's own items are its input and output.
    assert await response_store.input_items(tenant, b.id) == array(b.input)
    stored = await response_store.get(tenant, c.id)
    assert stored is not None and stored.output == array(c.output)


async def test_deleting_keeps_what_later_responses_replay(
    response_store: ResponseStore, tenant: str
) -> None:
    a, b, c = Turn(), Turn(), Turn()
    await save(response_store, tenant, a)
    await save(response_store, tenant, b, after=a)
    await save(response_store, tenant, c, after=b)
    assert await response_store.delete(tenant, b.id)
    assert not await response_store.delete(tenant, b.id)
    assert await response_store.load_context(tenant, b.id) is None
    assert await response_store.get(tenant, b.id) is None
    assert (await context(response_store, tenant, c)).items == chain(a, b, c)
    # Deleting the tip leaves what comes before it whole.
    assert await response_store.delete(tenant, c.id)
    assert (await context(response_store, tenant, a)).items == chain(a)


async def test_saving_after_a_parent_deleted_meanwhile(
    response_store: ResponseStore, tenant: str
) -> None:
    a, b = Turn(), Turn()
    await save(response_store, tenant, a)
    parent = await response_store.load_context(tenant, a.id)
    assert await response_store.delete(tenant, a.id)
    await response_store.save(tenant, b.id, b.record, b.input, b.output, parent)
    assert (await context(response_store, tenant, b)).items == chain(a, b)


async def test_a_chain_keeps_the_conversation_it_began_in(
    response_store: ResponseStore, tenant: str
) -> None:
    mark = ConversationMark(new_id("conv"), 7)
    first, second, third = Turn(), Turn(), Turn()
    await save(response_store, tenant, first, mark=mark)
    await save(response_store, tenant, second, after=first)
    # A continuation keeps its parent's mark, whatever it is given.
    await save(response_store, tenant, third, after=second, mark=ConversationMark("conv_x", 1))
    for turn in (first, second, third):
        assert (await context(response_store, tenant, turn)).conversation == mark
    assert (await context(response_store, tenant, third)).items == chain(first, second, third)
    plain = Turn()
    await save(response_store, tenant, plain)
    assert (await context(response_store, tenant, plain)).conversation is None


async def test_tool_lists(response_store: ResponseStore, tenant: str) -> None:
    lists = orjson.dumps({"calc": {"server_url": "http://127.0.0.1:1/mcp", "tools": []}})
    with_lists, without = Turn(), Turn()
    await save(response_store, tenant, with_lists, tool_lists=lists)
    await save(response_store, tenant, without, after=with_lists)
    assert await response_store.tool_lists(tenant, with_lists.id) == lists
    assert await response_store.tool_lists(tenant, without.id) is None


async def test_tenants_are_isolated(response_store: ResponseStore, tenant: str) -> None:
    other = f"{tenant}-other"
    turn = Turn()
    await save(response_store, tenant, turn)
    assert await response_store.get(other, turn.id) is None
    assert await response_store.load_context(other, turn.id) is None
    assert await response_store.input_items(other, turn.id) is None
    assert not await response_store.delete(other, turn.id)
    assert await response_store.get(tenant, turn.id) is not None
