"""Compaction in the create flow and the compact operation, on the in-memory stores with
a stub backend that summarises: when a context is compacted, what the client gets, what
is stored, and what later turns send the backend."""

from __future__ import annotations

from typing import Any, cast

import orjson
import pytest
from support.memory import memory_stores

from core.common.errors import InvalidRequestError
from core.common.http import Call, Request
from core.common.ids import new_id
from core.ports import Stores
from core.responses.backend_client import BackendClient
from core.responses.compaction.compact_api import CompactApi
from core.responses.compaction.seal import KEY_BYTES, Sealer
from core.responses.compaction.summarise import SUMMARY_INSTRUCTIONS
from core.responses.compaction.window import SUMMARY_PREFIX
from core.responses.create_flow import CreateResponseFlow

JSON = dict[str, Any]
SEALER = Sealer(b"s" * KEY_BYTES)


class Summariser:
    """Plays the backend's summarising call: records it, answers `SUMMARY: <n> items`."""

    chat = False  # a Responses backend

    def __init__(self) -> None:
        self.bodies: list[JSON] = []

    async def create(self, body: bytes, authorization: str | None) -> JSON:
        request = orjson.loads(body)
        self.bodies.append(request)
        text = f"SUMMARY: {len(request['input']) - 1} items"
        part = {"type": "output_text", "text": text, "annotations": []}
        message = {"type": "message", "role": "assistant", "content": [part]}
        usage = {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
        return {"output": [message], "usage": usage}


@pytest.fixture
def summariser() -> Summariser:
    return Summariser()


@pytest.fixture
def compaction_stores() -> Stores:
    return memory_stores()


def texts(items: list[JSON]) -> list[str]:
    return [item["content"][0]["text"] for item in items]


def answer(text: str) -> bytes:
    part = {"type": "output_text", "text": text, "annotations": []}
    message = {"type": "message", "id": new_id("msg"), "role": "assistant", "content": [part]}
    return orjson.dumps({"status": "completed", "output": [message]})


async def create(
    stores: Stores, tenant: str, summariser: Summariser, reply: str = "ok", **body: Any
) -> tuple[JSON, JSON]:
    """(what the backend was sent, what the client got)."""
    backend = cast(BackendClient, summariser)
    flow = CreateResponseFlow(stores, tenant, backend=backend, sealer=SEALER)
    sent = orjson.loads(await flow.prepare(orjson.dumps({"model": "m", **body})))
    return sent, orjson.loads(await flow.finish_json(answer(reply)))


async def test_below_the_threshold_nothing_is_compacted(
    compaction_stores: Stores, tenant: str, summariser: Summariser
) -> None:
    management = [{"type": "compaction", "compact_threshold": 1000}]
    sent, response = await create(
        compaction_stores, tenant, summariser, input="hello", context_management=management
    )
    assert summariser.bodies == []
    assert "context_management" not in sent
    assert texts(sent["input"]) == ["hello"]
    assert [item["type"] for item in response["output"]] == ["message"]


async def test_past_the_threshold_the_chain_is_compacted_and_replays_the_compaction(
    compaction_stores: Stores, tenant: str, summariser: Summariser
) -> None:
    stores, long = compaction_stores, "word " * 600
    _, first = await create(stores, tenant, summariser, "first answer", input=long)
    _, second = await create(
        stores, tenant, summariser, "second answer", input=long, previous_response_id=first["id"]
    )
    management = [{"type": "compaction", "compact_threshold": 1000}]
    sent, third = await create(
        stores,
        tenant,
        summariser,
        "third answer",
        input="short question",
        previous_response_id=second["id"],
        context_management=management,
    )
    # The summariser saw the whole context (5 items) and the ask.
    (asked,) = summariser.bodies
    assert asked["instructions"] == SUMMARY_INSTRUCTIONS and asked["store"] is False
    assert len(asked["input"]) == 6
    # The backend got the summary and the recent user message only (the long ones are
    # over a quarter of the threshold).
    assert [item["role"] for item in sent["input"]] == ["developer", "user"]
    assert texts(sent["input"]) == [SUMMARY_PREFIX + "SUMMARY: 5 items", "short question"]
    compaction, message = third["output"]
    assert compaction["type"] == "compaction" and compaction["id"].startswith("cmp_")
    assert "SUMMARY" not in compaction["encrypted_content"]
    assert texts([message]) == ["third answer"]
    # A later turn replays the compaction's view, then what followed it.
    sent, _ = await create(
        stores, tenant, summariser, input="fourth", previous_response_id=third["id"]
    )
    assert len(summariser.bodies) == 1
    assert texts(sent["input"]) == [
        SUMMARY_PREFIX + "SUMMARY: 5 items",
        "short question",
        "third answer",
        "fourth",
    ]
    stored = await stores.responses.get(tenant, third["id"])
    assert stored is not None and orjson.loads(stored.output)[0] == compaction


async def test_a_trigger_compacts_at_once_and_is_never_sent(
    compaction_stores: Stores, tenant: str, summariser: Summariser
) -> None:
    trigger = {"type": "compaction_trigger"}
    user = {"role": "user", "content": "now"}
    sent, response = await create(compaction_stores, tenant, summariser, input=[user, trigger])
    assert texts(sent["input"]) == [SUMMARY_PREFIX + "SUMMARY: 1 items", "now"]
    assert [item["type"] for item in response["output"]] == ["compaction", "message"]
    with pytest.raises(InvalidRequestError) as error:
        await create(compaction_stores, tenant, summariser, input=[trigger, user])
    assert (error.value.param, error.value.code) == ("input[0]", "invalid_value")


@pytest.mark.parametrize(
    ("management", "param", "code"),
    [
        ([{"type": "compaction", "compact_threshold": 999}],
         "context_management[0].compact_threshold", "integer_below_min_value"),
        ([{"type": "truncation"}], "context_management[0].type", "invalid_value"),
        ([], "context_management", "invalid_value"),
        ("compaction", "context_management", "invalid_type"),
    ],
)  # fmt: skip
async def test_context_management_is_checked(
    compaction_stores: Stores,
    tenant: str,
    summariser: Summariser,
    management: Any,
    param: str,
    code: str,
) -> None:
    with pytest.raises(InvalidRequestError) as error:
        await create(
            compaction_stores, tenant, summariser, input="x", context_management=management
        )
    assert (error.value.param, error.value.code) == (param, code)
    assert summariser.bodies == []


async def compact(stores: Stores, tenant: str, summariser: Summariser, **body: Any) -> JSON:
    api = CompactApi(stores, cast(BackendClient, summariser), SEALER, None)
    request = Request("POST", "/v1/responses/compact", {}, {"authorization": "Bearer k"})
    reply = await api.compact(Call(tenant, (), request, orjson.dumps({"model": "m", **body})))
    assert reply.status == 200
    return cast(JSON, orjson.loads(reply.body))


async def test_compact_keeps_user_messages_and_seals_the_rest(
    compaction_stores: Stores, tenant: str, summariser: Summariser
) -> None:
    _, first = await create(compaction_stores, tenant, summariser, "an answer", input="asked")
    compacted = await compact(
        compaction_stores,
        tenant,
        summariser,
        input=[{"role": "user", "content": "and then"}],
        previous_response_id=first["id"],
        instructions="Be brief.",
    )
    assert compacted["object"] == "response.compaction"
    assert isinstance(compacted["created_at"], int)
    *kept, item = compacted["output"]
    assert texts(kept) == ["asked", "and then"] and all(m["role"] == "user" for m in kept)
    assert item["type"] == "compaction" and set(item) == {"id", "type", "encrypted_content"}
    assert compacted["usage"]["total_tokens"] == 10
    assert compacted["usage"]["input_tokens_details"]["cached_tokens"] == 0
    (asked,) = summariser.bodies
    assert asked["input"][0] == {"role": "developer", "content": "Be brief."}
    # Its output as the next input: the backend sees the summary, then the kept messages
    # (once: the client's copies before the item are left out), then the new input.
    following = [*compacted["output"], {"role": "user", "content": "next"}]
    sent, _ = await create(compaction_stores, tenant, summariser, input=following)
    summary = SUMMARY_PREFIX + "SUMMARY: 4 items"
    assert texts(sent["input"]) == [summary, "asked", "and then", "next"]
    # Another tenant cannot use it.
    with pytest.raises(InvalidRequestError) as error:
        await create(compaction_stores, "another-tenant", summariser, input=[item])
    assert (error.value.param, error.value.code) == ("input[0].encrypted_content", "invalid_value")


async def test_compact_needs_something_to_compact(
    compaction_stores: Stores, tenant: str, summariser: Summariser
) -> None:
    with pytest.raises(InvalidRequestError) as error:
        await compact(compaction_stores, tenant, summariser)
    assert (error.value.param, error.value.code) == ("input", "missing_required_parameter")
    with pytest.raises(InvalidRequestError) as unknown:
        await compact(compaction_stores, tenant, summariser, previous_response_id="resp_nope")
    assert unknown.value.code == "previous_response_not_found"
