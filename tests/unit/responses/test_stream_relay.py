"""CreateResponseFlow + StreamRelay on a backend SSE stream, with a real Redis store."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from core.common.sse import SseFrame, SseSplitter, encode_event
from core.ports import Stores
from core.responses.create_flow import CreateResponseFlow
from core.responses.stream_relay import StreamRelay
from storage.blobs.local import LocalBlobStore
from storage.qdrant.index import QdrantChunkIndex
from storage.redis.connectors import RedisConnectorStore
from storage.redis.conversations import RedisConversationStore
from storage.redis.files import RedisFileStore
from storage.redis.ingest_queue import IngestQueue
from storage.redis.prompts import RedisPromptStore
from storage.redis.responses import RedisResponseStore
from storage.redis.vector_stores import RedisVectorStoreStore

_LIFECYCLE = {
    "response.created",
    "response.queued",
    "response.in_progress",
    "response.completed",
    "response.failed",
    "response.incomplete",
}
_DONE = b"data: [DONE]\n\n"
_METADATA = {"session": "abc", "note": "ünï ✓"}


@pytest.fixture
async def redis_stores(
    responses: RedisResponseStore, redis_client: Redis, tmp_path: Path
) -> AsyncIterator[Stores]:
    index = QdrantChunkIndex(path=tmp_path / "index")
    await index.start()
    yield Stores(
        responses=responses,
        conversations=RedisConversationStore(redis_client),
        prompts=RedisPromptStore(redis_client),
        connectors=RedisConnectorStore(redis_client),
        files=RedisFileStore(redis_client),
        blobs=LocalBlobStore(tmp_path / "blobs"),
        vector_stores=RedisVectorStoreStore(redis_client),
        chunks=index,
        ingest=IngestQueue(redis_client),
    )
    await index.close()


# Building the backend's stream


def _message(item_id: str, text: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _backend_response(status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "resp_from_backend",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": "backend-model",
        "output": output,
        "store": False,
        "metadata": {},
        "previous_response_id": None,
        "temperature": 0.7,
    }


def _events(
    *,
    terminal: str | None = "response.completed",
    completed_output: list[dict[str, Any]] | None = None,
    pieces: tuple[str, ...] = ("Hé", "llo ", "wörld ", "✓ 😀", " — fin"),
) -> list[dict[str, Any]]:
    """A typical backend stream: created, in_progress, one message's events, terminal."""
    text = "".join(pieces)
    item = _message("msg_backend_1", text)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _backend_response("in_progress", [])},
        {"type": "response.in_progress", "response": _backend_response("in_progress", [])},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {
            "type": "response.content_part.added",
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "logprobs": [],
            }
        )
    events += [
        {
            "type": "response.output_text.done",
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
            "text": text,
        },
        {
            "type": "response.content_part.done",
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
            "part": item["content"][0],
        },
        {"type": "response.output_item.done", "output_index": 0, "item": item},
    ]
    if terminal is not None:
        output = [item] if completed_output is None else completed_output
        status = terminal.removeprefix("response.")
        events.append({"type": terminal, "response": _backend_response(status, output)})
    for seq, event in enumerate(events):
        event["sequence_number"] = seq
    return events


def _encode(events: list[dict[str, Any]], *, event_lines: bool = True) -> list[bytes]:
    if event_lines:
        return [encode_event(e["type"], orjson.dumps(e)) for e in events]
    return [b"data: " + orjson.dumps(e) + b"\n\n" for e in events]


def _chunks(stream: bytes, rng: random.Random) -> list[bytes]:
    chunks, pos = [], 0
    while pos < len(stream):
        size = rng.randint(1, 48)
        chunks.append(stream[pos : pos + size])
        pos += size
    return chunks


def _frames(out: bytes) -> list[SseFrame]:
    splitter = SseSplitter()
    return splitter.feed(out) + splitter.flush()


def _payload(frame: SseFrame) -> dict[str, Any]:
    assert frame.data is not None
    value = orjson.loads(frame.data)
    assert isinstance(value, dict)
    return value


async def _start(
    redis_stores: Stores, tenant: str, **fields: Any
) -> tuple[CreateResponseFlow, StreamRelay, bytes]:
    flow = CreateResponseFlow(redis_stores, tenant)
    body = {"model": "m", "input": "hi ✓", "stream": True, "metadata": _METADATA, **fields}
    backend = await flow.prepare(orjson.dumps(body))
    assert flow.request is not None and flow.request.stream
    return flow, StreamRelay(flow), backend


async def _finish(relay: StreamRelay) -> bytes:
    return b"".join([piece async for piece in relay.finish()])


async def _relay(relay: StreamRelay, stream: bytes, seed: int = 0) -> bytes:
    out = [await relay.feed(chunk) for chunk in _chunks(stream, random.Random(seed))]
    out.append(await _finish(relay))
    return b"".join(out)


# Tests


@pytest.mark.parametrize("seed", range(8))
async def test_events_are_relayed_with_lifecycle_responses_presented(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str, seed: int
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    events = _events()
    encoded = _encode(events)
    out = await _relay(relay, b"".join(encoded), seed)

    assert out.endswith(_DONE)
    assert out.count(_DONE) == 1
    frames = _frames(out[: -len(_DONE)])
    assert [f.event for f in frames] == [e["type"] for e in events]
    for frame, event, raw in zip(frames, events, encoded, strict=True):
        if event["type"] in _LIFECYCLE:
            payload = _payload(frame)
            response = payload["response"]
            assert payload["type"] == event["type"]
            assert payload["sequence_number"] == event["sequence_number"]
            assert response["id"] == flow.response_id
            assert response["store"] is True
            assert response["metadata"] == _METADATA
            assert response["previous_response_id"] is None
            backend = event["response"]
            for key in ("created_at", "status", "model", "output", "temperature"):
                assert response[key] == backend[key], key
        else:
            # Everything else passes through byte for byte.
            assert frame.raw + b"\n\n" == raw
            assert raw in out


async def test_output_is_independent_of_chunking(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    stream = b"".join(_encode(_events()))
    outputs = []
    for seed in range(4):
        flow, relay, _ = await _start(redis_stores, tenant)
        out = await _relay(relay, stream, seed)
        outputs.append(out.replace(flow.response_id.encode(), b"resp_X"))
    flow, relay, _ = await _start(redis_stores, tenant)
    whole = await relay.feed(stream) + await _finish(relay)
    outputs.append(whole.replace(flow.response_id.encode(), b"resp_X"))
    assert len(set(outputs)) == 1


@pytest.mark.parametrize("backend_done", [False, True], ids=["no-done", "backend-done"])
async def test_stream_ends_with_done_exactly_once(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str, backend_done: bool
) -> None:
    _, relay, _ = await _start(redis_stores, tenant)
    stream = b"".join(_encode(_events()))
    if backend_done:
        stream += _DONE
    out = await _relay(relay, stream, 3)
    assert out.endswith(b"\n\n" + _DONE)
    assert out.count(b"[DONE]") == 1
    assert out.count(b"event: response.completed\n") == 1
    assert b"event: error" not in out


async def test_response_is_stored_only_once_the_completed_event_is_produced(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    assert flow.request is not None
    events = _events()
    produced = b""
    for chunk in _chunks(b"".join(_encode(events)), random.Random(11)):
        produced += await relay.feed(chunk)
        stored = await responses.get(tenant, flow.response_id)
        if b"event: response.completed\n" in produced:
            assert stored is not None
        else:
            assert stored is None
    assert b"event: response.completed\n" in produced
    produced += await _finish(relay)
    assert produced.endswith(_DONE)

    stored = await responses.get(tenant, flow.response_id)
    assert stored is not None
    record = orjson.loads(stored.record)
    assert "output" not in record
    assert record["id"] == flow.response_id
    assert record["status"] == "completed"
    assert record["store"] is True
    assert record["metadata"] == _METADATA
    assert orjson.loads(stored.output) == events[-1]["response"]["output"]
    assert stored.output == b"[" + orjson.dumps(events[-1]["response"]["output"][0]) + b"]"
    assert await responses.input_items(tenant, flow.response_id) == (
        b"[" + b",".join(flow.request.input_items) + b"]"
    )
    # What the client saw in response.completed is what was stored.
    completed = next(f for f in _frames(produced) if f.event == "response.completed")
    seen = _payload(completed)["response"]
    assert seen == {**record, "output": orjson.loads(stored.output)}


async def test_backend_stream_without_event_lines_gets_event_lines(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    events = _events()
    encoded = _encode(events, event_lines=False)
    out = await _relay(relay, b"".join(encoded), 5)
    frames = _frames(out[: -len(_DONE)])
    assert [f.event for f in frames] == [e["type"] for e in events]
    for frame, event in zip(frames, events, strict=True):
        assert frame.raw.startswith(b"event: " + event["type"].encode() + b"\ndata: ")
        payload = _payload(frame)
        if event["type"] in _LIFECYCLE:
            assert payload["response"]["id"] == flow.response_id
        else:
            assert payload == event
    assert out.count(_DONE) == 1
    assert await responses.get(tenant, flow.response_id) is not None


async def test_stream_cut_before_terminal_event_fails_the_response(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    events = _events(terminal=None)
    out = await _relay(relay, b"".join(_encode(events)), 7)
    assert out.endswith(_DONE)
    assert out.count(_DONE) == 1
    frames = _frames(out[: -len(_DONE)])
    assert [f.event for f in frames] == [e["type"] for e in events] + [
        "error",
        "response.failed",
    ]
    error, failed = _payload(frames[-2]), _payload(frames[-1])
    assert error["type"] == "error"
    assert error["code"] == "server_error" and error["message"]
    assert failed["type"] == "response.failed"
    assert error["sequence_number"] == events[-1]["sequence_number"] + 1
    assert failed["sequence_number"] == error["sequence_number"] + 1
    response = failed["response"]
    assert response["id"] == flow.response_id
    assert response["status"] == "failed"
    assert response["error"]["code"] == "server_error"
    assert response["metadata"] == _METADATA
    item = events[-1]["item"]
    assert response["output"] == [item]

    stored = await responses.get(tenant, flow.response_id)
    assert stored is not None
    record = orjson.loads(stored.record)
    assert record["status"] == "failed"
    assert record["error"] == response["error"]
    assert orjson.loads(stored.output) == [item]


async def test_empty_backend_stream_fails_the_response(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    out = await _finish(relay)
    frames = _frames(out[: -len(_DONE)])
    assert out.endswith(_DONE)
    assert [f.event for f in frames] == ["error", "response.failed"]
    assert _payload(frames[1])["response"]["id"] == flow.response_id
    stored = await responses.get(tenant, flow.response_id)
    assert stored is not None
    assert orjson.loads(stored.record)["status"] == "failed"
    assert stored.output == b"[]"


async def test_backend_failed_event_is_relayed_and_stored(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    events = _events(terminal="response.failed", completed_output=[])
    events[-1]["response"]["error"] = {"code": "server_error", "message": "model crashed"}
    out = await _relay(relay, b"".join(_encode(events)), 2)
    frames = _frames(out[: -len(_DONE)])
    assert [f.event for f in frames] == [e["type"] for e in events]
    assert b"event: error" not in out
    stored = await responses.get(tenant, flow.response_id)
    assert stored is not None
    record = orjson.loads(stored.record)
    assert record["status"] == "failed"
    assert record["error"]["message"] == "model crashed"
    # The failed response's empty output was filled from output_item.done.
    assert orjson.loads(stored.output) == [events[-2]["item"]]


@pytest.mark.parametrize("terminal", ["response.completed", None], ids=["completed", "cut"])
async def test_store_false_stores_nothing(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str, terminal: str | None
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant, store=False)
    out = await _relay(relay, b"".join(_encode(_events(terminal=terminal))), 4)
    assert out.count(_DONE) == 1
    last = _frames(out[: -len(_DONE)])[-1]
    response = _payload(last)["response"]
    assert response["store"] is False
    assert response["id"] == flow.response_id
    assert await responses.get(tenant, flow.response_id) is None
    assert await responses.load_context(tenant, flow.response_id) is None


async def test_completed_with_empty_output_is_filled_from_output_items(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    events = _events(completed_output=[])
    second = _message("msg_backend_2", "zweite ✓")
    # A second item, done before the first: the output follows output_index, not arrival.
    events.insert(-2, {"type": "response.output_item.done", "output_index": 1, "item": second})
    first = events[-2]["item"]
    out = await _relay(relay, b"".join(_encode(events)), 9)
    completed = next(f for f in _frames(out) if f.event == "response.completed")
    assert _payload(completed)["response"]["output"] == [first, second]
    stored = await responses.get(tenant, flow.response_id)
    assert stored is not None
    assert orjson.loads(stored.output) == [first, second]


async def test_events_after_the_terminal_event_are_dropped(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    _, relay, _ = await _start(redis_stores, tenant)
    events = _events()
    late = {"type": "response.output_text.delta", "delta": "late", "sequence_number": 99}
    out = await _relay(relay, b"".join(_encode([*events, late])), 1)
    assert b"late" not in out
    assert out.count(b"event: response.completed\n") == 1


async def test_terminal_event_without_blank_line_is_flushed(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    flow, relay, _ = await _start(redis_stores, tenant)
    stream = b"".join(_encode(_events()))
    assert stream.endswith(b"\n\n")
    out = await _relay(relay, stream[:-2], 6)
    assert b"event: error" not in out
    assert out.count(b"event: response.completed\n") == 1
    assert out.endswith(_DONE)
    assert await responses.get(tenant, flow.response_id) is not None


async def test_streamed_responses_chain(
    responses: RedisResponseStore, redis_stores: Stores, tenant: str
) -> None:
    first, relay, _ = await _start(redis_stores, tenant)
    assert first.request is not None
    events = _events()
    await _relay(relay, b"".join(_encode(events)), 0)

    second, relay, backend = await _start(
        redis_stores, tenant, input="again", previous_response_id=first.response_id
    )
    assert second.request is not None
    sent = orjson.loads(backend)
    expected_input = [
        *(orjson.loads(item) for item in first.request.input_items),
        events[-1]["response"]["output"][0],
        *(orjson.loads(item) for item in second.request.input_items),
    ]
    assert sent["input"] == expected_input
    assert sent["store"] is False and "previous_response_id" not in sent
    assert "metadata" not in sent

    out = await _relay(relay, b"".join(_encode(_events(pieces=("bis",)))), 1)
    created = next(f for f in _frames(out) if f.event == "response.created")
    assert _payload(created)["response"]["previous_response_id"] == first.response_id
    context = await responses.load_context(tenant, second.response_id)
    assert context is not None
    assert isinstance(context.items, bytes)
    assert orjson.loads(b"[" + context.items + b"]") == [
        *expected_input,
        _message("msg_backend_1", "bis"),
    ]
