"""Chat Completions streams as the Responses event stream: every event valid against the
OpenAPI document, sequence numbers from 0 without gaps, deltas adding up to the final
response, whatever byte boundaries the backend's chunks have."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from support.openapi_documents import OPENAI_URI, stream_event_schemas, validator

from core.chat_completions import ChatSseTranslator
from core.common.sse import SseSplitter


def _sse(chunks: list[Any], done: bool = True) -> bytes:
    frames = [
        b"data: " + (c if isinstance(c, bytes) else orjson.dumps(c)) + b"\n\n" for c in chunks
    ]
    return b"".join(frames) + (b"data: [DONE]\n\n" if done else b"")


def _chunk(
    delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
        **extra,
    }


def _translate(raw: bytes, piece: int = 7) -> tuple[list[dict[str, Any]], list[int]]:
    """The events, and how many came out per fed piece (nothing is held back)."""
    translator = ChatSseTranslator()
    out, counts = b"", []
    for start in range(0, len(raw), piece):
        produced = translator.feed(raw[start : start + piece])
        counts.append(produced.count(b"\n\n"))
        out += produced
    out += translator.finish()
    events = []
    for frame in SseSplitter().feed(out):
        assert frame.data is not None
        event = json.loads(frame.data)
        assert frame.event == event["type"]
        events.append(event)
        if "response" in event:
            # The gateway presents the response objects these carry (ids, echoed request
            # fields) before a client sees them; here their own part is checked.
            assert {"id", "status", "output", "model", "created_at"} <= set(event["response"])
            continue
        schema = validator(OPENAI_URI, stream_event_schemas()[event["type"]])
        errors = [e.message for e in schema.iter_errors(event)]
        assert errors == [], (event["type"], errors)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events, counts


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("response.") for e in events]


def test_text_with_reasoning_and_usage_in_the_last_chunk() -> None:
    raw = _sse(
        [
            _chunk({"role": "assistant", "reasoning_content": "Think"}),
            _chunk({"reasoning_content": "ing."}),
            _chunk({"content": "Hel"}),
            _chunk({"content": "lo."}, finish="stop"),
            _chunk(None, usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
        ]
    )
    events, _ = _translate(raw)
    assert _types(events) == [
        "created",
        "in_progress",
        "output_item.added",
        "reasoning_text.delta",
        "reasoning_text.delta",
        "reasoning_text.done",
        "output_item.done",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    final = events[-1]["response"]
    reasoning, message = final["output"]
    assert reasoning["content"][0]["text"] == "Thinking."
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == message["content"][0]["text"] == "Hello."
    assert final["usage"]["total_tokens"] == 7 and final["status"] == "completed"
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [0, 1]
    assert {e["item_id"] for e in events if e["type"] == "response.output_text.delta"} == {
        message["id"]
    }


def test_parallel_tool_calls_split_across_chunks() -> None:
    raw = _sse(
        [
            _chunk({"role": "assistant", "content": "Checking."}),
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "weather", "arguments": ""},
                        }
                    ]
                }
            ),
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "time", "arguments": "{}"},
                        }
                    ]
                }
            ),
            _chunk({}, finish="tool_calls"),
        ]
    )
    events, _ = _translate(raw, piece=3)
    final = events[-1]["response"]
    assert events[-1]["type"] == "response.completed"
    message, first, second = final["output"]
    assert message["type"] == "message"
    assert (first["call_id"], first["name"], first["arguments"]) == (
        "call_a",
        "weather",
        '{"city":"Oslo"}',
    )
    assert (second["call_id"], second["name"], second["arguments"]) == ("call_b", "time", "{}")
    deltas: dict[str, str] = {}
    for event in events:
        if event["type"] == "response.function_call_arguments.delta":
            deltas[event["item_id"]] = deltas.get(event["item_id"], "") + event["delta"]
    assert deltas == {first["id"]: first["arguments"], second["id"]: second["arguments"]}
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [(e["output_index"], e["arguments"]) for e in done] == [
        (1, first["arguments"]),
        (2, "{}"),
    ]


def test_a_length_cut_answer_is_incomplete() -> None:
    events, _ = _translate(_sse([_chunk({"content": "Partial"}, finish="length")]))
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


@pytest.mark.parametrize(
    "raw",
    [
        _sse([_chunk({"content": "Hi"}), b"{not json"]),
        _sse([_chunk({"content": "Hi"}), {"error": {"message": "overloaded"}}]),
        _sse([_chunk({"content": "Hi"})], done=False),  # cut off before a finish
        b"",
    ],
    ids=["not-json", "error-chunk", "cut-off", "empty"],
)
def test_a_broken_stream_ends_as_a_failed_response(raw: bytes) -> None:
    events, _ = _translate(raw)
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert sum(e["type"] == "response.failed" for e in events) == 1


def test_events_leave_as_soon_as_their_chunk_arrives() -> None:
    raw = _sse([_chunk({"content": "a"}), _chunk({"content": "b"}), _chunk({}, finish="stop")])
    first_frame = raw.index(b"\n\n") + 2
    translator = ChatSseTranslator()
    produced = translator.feed(raw[:first_frame])
    # created, in_progress, item added, part added, the first delta: before any later chunk.
    assert produced.count(b"\n\n") == 5 and b'"delta":"a"' in produced
