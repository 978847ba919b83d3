"""Compaction's pieces without a backend: sealing (round trip, tampering, another
tenant's or another key's items refused), which items a compaction keeps, and the
backend's view of items holding a compaction item."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from redis.asyncio import Redis

from core.common.errors import InvalidRequestError
from core.responses.compaction.seal import KEY_BYTES, Sealed, Sealer
from core.responses.compaction.window import (
    SUMMARY_PREFIX,
    check_input,
    count_item_tokens,
    expand,
    kept_user_messages,
)
from extproc.settings import Settings
from storage.redis.shared_keys import shared_key

JSON = dict[str, Any]
SEALER = Sealer(b"k" * KEY_BYTES)


def message(role: str, text: str) -> JSON:
    part = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def compaction(tenant: str, summary: str, *kept: JSON) -> JSON:
    token = SEALER.seal(tenant, Sealed(summary, list(kept)))
    return {"id": "cmp_1", "type": "compaction", "encrypted_content": token}


def refused(error: pytest.ExceptionInfo[InvalidRequestError], param: str) -> None:
    found = error.value
    assert (found.status, found.code, found.param) == (400, "invalid_value", param)


def test_sealed_content_opens_for_its_tenant_only() -> None:
    kept = [message("user", "keep me — ünïcödé")]
    token = SEALER.seal("tenant-a", Sealed("what happened", kept))
    assert "what happened" not in token and "keep me" not in token
    opened = SEALER.open("tenant-a", token, "input[0].encrypted_content")
    assert opened == Sealed("what happened", kept)
    with pytest.raises(InvalidRequestError) as other_tenant:
        SEALER.open("tenant-b", token, "input[0].encrypted_content")
    refused(other_tenant, "input[0].encrypted_content")
    with pytest.raises(InvalidRequestError) as other_key:
        Sealer(b"x" * KEY_BYTES).open("tenant-a", token, "p")
    refused(other_key, "p")
    # Sealing twice gives different tokens (a fresh nonce each time).
    assert SEALER.seal("tenant-a", Sealed("s", [])) != SEALER.seal("tenant-a", Sealed("s", []))


@pytest.mark.parametrize("position", [0, 1, 5, 20, -1])
def test_any_changed_byte_is_refused(position: int) -> None:
    token = SEALER.seal("t", Sealed("summary", [message("user", "hi")]))
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[position] ^= 0x01
    with pytest.raises(InvalidRequestError) as error:
        SEALER.open("t", base64.urlsafe_b64encode(bytes(raw)).decode(), "p")
    refused(error, "p")


@pytest.mark.parametrize("token", ["", "not base64!", "AAAA", "gAAAAABpM0Yj-...=", 42, None])
def test_what_the_gateway_did_not_seal_is_refused(token: object) -> None:
    with pytest.raises(InvalidRequestError) as error:
        SEALER.open("t", token, "input[2].encrypted_content")
    refused(error, "input[2].encrypted_content")


def test_a_key_is_32_bytes() -> None:
    with pytest.raises(ValueError):
        Sealer(b"short")


def test_the_settings_key_is_base64_of_32_bytes() -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    assert Settings(compaction_key=key).compaction_key_bytes() == bytes(range(32))
    assert Settings().compaction_key_bytes() is None
    for bad in (base64.b64encode(b"x" * 16).decode(), "not base64"):
        with pytest.raises(ValueError, match="32 bytes"):
            Settings(compaction_key=bad)


async def test_the_shared_key_is_made_once(redis_client: Redis, tenant: str) -> None:
    first = await shared_key(redis_client, f"test-{tenant}")
    assert len(first) == 32
    assert await shared_key(redis_client, f"test-{tenant}") == first
    assert await shared_key(redis_client, f"test-other-{tenant}") != first
    await redis_client.delete(f"or:key:test-{tenant}", f"or:key:test-other-{tenant}")


def test_recent_user_messages_are_kept_within_the_budget() -> None:
    items = [
        message("user", "first question " * 50),
        message("assistant", "first answer"),
        message("user", "second question"),
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        message("user", "third question"),
        message("assistant", "third answer"),
    ]
    kept = kept_user_messages(items, budget=50)
    assert [m["content"][0]["text"] for m in kept] == ["second question", "third question"]
    everything = kept_user_messages(items, budget=10_000)
    assert len(everything) == 3 and everything[0] is items[0]
    # The last user message is kept whatever its size: it is what comes next.
    assert kept_user_messages(items[:1], budget=1) == items[:1]
    assert kept_user_messages([message("assistant", "a")], budget=100) == []


def test_token_counts_follow_the_text() -> None:
    short = count_item_tokens([message("user", "hello")])
    long = count_item_tokens([message("user", "hello " * 100)])
    assert 4 < short < 10 and long > short + 90
    call = {"type": "function_call", "id": "fc_" + "x" * 200, "arguments": '{"q": "a"}'}
    assert count_item_tokens([call]) < 20  # ids are not counted


def test_the_backend_sees_the_last_compactions_summary_and_what_follows() -> None:
    older = compaction("t", "older summary", message("user", "old kept"))
    latest = compaction("t", "latest summary", message("user", "kept one"))
    items = [
        message("user", "before"),
        older,
        message("assistant", "between"),
        message("user", "kept one"),  # the client's copy, as compact returns it
        latest,
        message("assistant", "after"),
        message("user", "new"),
        {"type": "compaction_trigger"},
    ]
    seen = expand(items, SEALER, "t", "previous_response_id")
    assert all(item.get("type") not in ("compaction", "compaction_trigger") for item in seen)
    summary, *rest = seen
    assert summary["role"] == "developer"
    assert summary["content"][0]["text"] == SUMMARY_PREFIX + "latest summary"
    assert [m["content"][0]["text"] for m in rest] == ["kept one", "after", "new"]
    plain = [message("user", "a"), message("assistant", "b")]
    assert expand(plain, SEALER, "t", "p") == plain


def test_a_foreign_compaction_in_the_context_names_where_it_came_from() -> None:
    items = [compaction("other-tenant", "theirs"), message("user", "x")]
    with pytest.raises(InvalidRequestError) as error:
        expand(items, SEALER, "t", "conversation")
    refused(error, "conversation")


def test_input_checks_every_compaction_and_the_triggers_place() -> None:
    good = compaction("t", "s")
    check_input([message("user", "a"), good, {"type": "compaction_trigger"}], SEALER, "t")
    forged = {**good, "encrypted_content": good["encrypted_content"][:-4] + "AAAA"}
    with pytest.raises(InvalidRequestError) as error:
        check_input([forged, good], SEALER, "t")
    refused(error, "input[0].encrypted_content")
    with pytest.raises(InvalidRequestError) as misplaced:
        check_input([{"type": "compaction_trigger"}, message("user", "a")], SEALER, "t")
    refused(misplaced, "input[0]")
