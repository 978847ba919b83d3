"""The ext_proc processors driven with synthetic ProcessingRequest sequences (no Envoy):
what each answers, phase by phase, and which processor the router picks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from core.common.errors import PayloadTooLargeError
from core.common.http import Call, Reply, Request, StreamedReply
from core.common.tenancy import tenant_for
from core.gateway import Gateway
from core.ports import Stores
from core.responses.create_flow import CreateResponseFlow
from core.routes import Route
from extproc.create_processor import CreateResponse
from extproc.processor import PassThrough
from extproc.protos import (
    ProcessingMode,
    ProcessingRequest,
    ProcessingResponse,
    ProcessingResponseStreamedReply,
    StreamedImmediateResponse,
)
from extproc.reply_processors import Answered, BodyAnswered, StreamedAnswer, Upload
from extproc.router import open_processor
from extproc.server import ExternalProcessor
from storage.factory import build_stores

# Messages as Envoy sends them


def headers(
    pairs: dict[str, str], *, response: bool = False, end: bool = False
) -> ProcessingRequest:
    entries = [{"key": k, "raw_value": v.encode()} for k, v in pairs.items()]
    block = {"headers": {"headers": entries}, "end_of_stream": end}
    message = ProcessingRequest()
    target = message.response_headers if response else message.request_headers
    target.MergeFrom(type(target)(**block))  # type: ignore[arg-type]
    return message


def request(method: str, path: str, *, end: bool = False, **extra: str) -> ProcessingRequest:
    return headers({":method": method, ":path": path, **extra}, end=end)


def body(data: bytes, *, response: bool = False, end: bool = True) -> ProcessingRequest:
    message = ProcessingRequest()
    target = message.response_body if response else message.request_body
    target.body, target.end_of_stream = data, end
    return message


def immediate(reply: ProcessingResponse | None) -> tuple[int, Any]:
    assert reply is not None and reply.HasField("immediate_response")
    answer = reply.immediate_response
    return answer.status.code, orjson.loads(answer.body)


def mode(reply: ProcessingResponse | None) -> ProcessingMode:
    assert reply is not None and reply.HasField("mode_override")
    return reply.mode_override


def header_sets(reply: ProcessingResponse | None, phase: str) -> dict[str, str]:
    assert reply is not None
    mutation = getattr(reply, phase).response.header_mutation
    return {h.header.key: h.header.raw_value.decode() for h in mutation.set_headers}


# The simple processors


async def test_pass_through_continues_every_phase() -> None:
    processor = PassThrough()
    reply = await processor.request_headers(request("GET", "/v1/models"))
    assert reply is not None and reply.HasField("request_headers")
    assert not reply.HasField("mode_override")


async def test_answered_replies_at_the_headers() -> None:
    processor = Answered(Reply(201, b'{"ok":true}'))
    assert immediate(await processor.request_headers(request("GET", "/x"))) == (201, {"ok": True})


async def _echo(call: Call) -> Reply:
    echoed = {"tenant": call.tenant, "ids": call.ids, "body": call.body.decode()}
    return Reply(200, orjson.dumps(echoed))


_ECHO = Route("POST", "/v1/things/{thing_id}", _echo, "echo_thing", needs_body=True)
_CALL = Call("t1", ("th_1",), Request("POST", "/v1/things/th_1", {}, {}))


async def test_body_answered_buffers_the_body_then_answers() -> None:
    processor = BodyAnswered(_ECHO, _CALL)
    opened = mode(await processor.request_headers(request("POST", "/v1/things/th_1")))
    assert opened.request_body_mode == ProcessingMode.BUFFERED
    status, answer = immediate(await processor.request_body(body(b"payload")))
    assert (status, answer) == (200, {"tenant": "t1", "ids": ["th_1"], "body": "payload"})


async def test_body_answered_without_a_body_answers_at_the_headers() -> None:
    processor = BodyAnswered(_ECHO, _CALL)
    reply = await processor.request_headers(request("POST", "/v1/things/th_1", end=True))
    assert immediate(reply)[1]["body"] == ""


async def test_a_slow_route_asks_for_the_longest_timeout_then_answers() -> None:
    slow = Route("POST", "/v1/things/{thing_id}", _echo, "echo_thing", needs_body=True, slow=True)
    processor = BodyAnswered(slow, _CALL)
    assert await processor.request_body(body(b"payload")) is None
    assert processor.tail is not None
    extend, answer = [reply async for reply in processor.tail]
    assert extend.override_message_timeout.seconds == 300
    assert immediate(answer)[1]["body"] == "payload"


async def test_the_servicer_stops_at_an_immediate_reply_from_a_tail(
    factory_stores: Stores,
) -> None:
    """A compaction request waits on the backend: the timeout is extended first, and the
    answer (here a refusal, before any backend call) ends the stream."""
    servicer = ExternalProcessor(Gateway(factory_stores))
    stream = _messages(
        request("POST", "/v1/responses/compact", authorization="Bearer k"),
        body(b'{"model": "m"}'),
        body(b"never read"),
    )
    replies = [reply async for reply in servicer.Process(stream, None)]
    assert len(replies) == 3
    assert replies[1].override_message_timeout.seconds == 300
    status, error = immediate(replies[2])
    assert status == 400 and error["error"]["param"] == "input"


async def test_a_create_that_may_compact_extends_the_timeout_first(
    factory_stores: Stores, tenant: str
) -> None:
    processor = await _opened(factory_stores, tenant)
    late = {"role": "user", "content": "after the trigger"}
    trigger = {"model": "m", "input": [{"type": "compaction_trigger"}, late]}
    assert await processor.request_body(body(orjson.dumps(trigger))) is None
    assert processor.tail is not None
    extend, refused = [reply async for reply in processor.tail]
    assert extend.override_message_timeout.seconds == 300
    status, error = immediate(refused)
    assert status == 400 and error["error"]["param"] == "input[0]"  # a trigger comes last


class _Sink:
    """An upload that keeps what it is fed and refuses more than `limit` bytes."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self.data, self.aborted, self.limit = b"", False, limit

    async def feed(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.limit:
            await self.abort()
            raise PayloadTooLargeError("too large", param="file", code="file_too_large")

    async def finish(self) -> Reply:
        return Reply(200, orjson.dumps({"bytes": len(self.data)}))

    async def abort(self) -> None:
        self.aborted = True


async def test_upload_streams_chunks_then_answers_once() -> None:
    sink = _Sink()
    processor = Upload(sink)
    assert await processor.request_headers(request("POST", "/v1/files")) is None
    assert await processor.request_body(body(b"abc", end=False)) is None
    assert immediate(await processor.request_body(body(b"de"))) == (200, {"bytes": 5})
    await processor.close()
    assert not sink.aborted  # finished uploads are kept


async def test_a_refused_chunk_fails_the_upload_and_close_does_not_abort_twice() -> None:
    sink = _Sink(limit=2)
    processor = Upload(sink)
    with pytest.raises(PayloadTooLargeError):
        await processor.request_body(body(b"abc", end=False))
    status, error = immediate(processor.failure("request_body", PayloadTooLargeError("x")))
    assert status == 413 and error["error"]["type"] == "invalid_request_error"
    sink.aborted = False
    await processor.close()
    assert not sink.aborted


async def test_an_upload_cut_off_is_aborted_on_close() -> None:
    sink = _Sink()
    processor = Upload(sink)
    await processor.request_body(body(b"abc", end=False))
    await processor.close()
    assert sink.aborted


async def test_a_storage_outage_is_a_shaped_503() -> None:
    outage = PassThrough().failure("request_headers", RedisConnectionError("refused"))
    status, error = immediate(outage)
    assert status == 503 and error["error"]["type"] == "server_error"
    assert "retry" in error["error"]["message"]


async def test_an_unexpected_failure_is_a_shaped_500() -> None:
    status, error = immediate(PassThrough().failure("request_body", RuntimeError("boom")))
    assert status == 500
    assert error["error"]["message"] == "The gateway failed to process the request."


# Creating a response


@pytest.fixture
async def factory_stores(redis_client: Redis, tmp_path: Path) -> AsyncIterator[Stores]:
    built = await build_stores(redis_client, tmp_path)
    yield built
    await built.chunks.close()


def _backend_answer(text: str = "Hi.") -> bytes:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    response = {"id": "resp_backend", "object": "response", "created_at": 1, "model": "m"}
    return orjson.dumps({**response, "status": "completed", "output": [message]})


async def _opened(stores: Stores, tenant: str, **flow: Any) -> CreateResponse:
    processor = CreateResponse(CreateResponseFlow(stores, tenant, **flow))
    opened = await processor.request_headers(request("POST", "/v1/responses"))
    assert mode(opened).request_body_mode == ProcessingMode.BUFFERED
    return processor


async def test_create_rewrites_the_request_and_presents_the_json_answer(
    factory_stores: Stores, tenant: str
) -> None:
    processor = await _opened(factory_stores, tenant)
    client = {"model": "m", "input": "Hello", "metadata": {"k": "v"}}
    sent = await processor.request_body(body(orjson.dumps(client)))
    assert sent is not None
    forwarded = sent.request_body.response.body_mutation.body
    assert header_sets(sent, "request_body")["content-length"] == str(len(forwarded))
    backend = orjson.loads(forwarded)
    assert backend["store"] is False and "metadata" not in backend
    json_mode = mode(await processor.response_headers(headers({":status": "200"}, response=True)))
    assert json_mode.response_body_mode == ProcessingMode.BUFFERED
    answer = await processor.response_body(body(_backend_answer(), response=True))
    assert answer is not None
    response = orjson.loads(answer.response_body.response.body_mutation.body)
    assert response["id"].startswith("resp_") and response["id"] != "resp_backend"
    assert (response["metadata"], response["store"]) == ({"k": "v"}, True)
    assert await factory_stores.responses.get(tenant, response["id"]) is not None


async def test_the_backend_key_replaces_the_clients_authorization(
    factory_stores: Stores, tenant: str
) -> None:
    flow = CreateResponseFlow(factory_stores, tenant, authorization="Bearer backend-key")
    processor = CreateResponse(flow)
    sent = await processor.request_headers(
        request("POST", "/v1/responses", authorization="Bearer client-key")
    )
    assert header_sets(sent, "request_headers") == {"authorization": "Bearer backend-key"}
    mutation = sent.request_headers.response.header_mutation if sent else None
    # A client cannot pick the chat route itself: the marker is always removed.
    assert mutation is not None
    assert list(mutation.remove_headers) == ["accept-encoding", "x-openresponses-backend-api"]


async def test_an_empty_create_body_is_a_400(factory_stores: Stores, tenant: str) -> None:
    processor = CreateResponse(CreateResponseFlow(factory_stores, tenant))
    with pytest.raises(Exception) as caught:
        await processor.request_headers(request("POST", "/v1/responses", end=True))
    status, error = immediate(processor.failure("request_headers", caught.value))
    assert status == 400 and "empty" in error["error"]["message"]


async def test_a_backend_error_is_rewritten_in_place(factory_stores: Stores, tenant: str) -> None:
    processor = await _opened(factory_stores, tenant)
    await processor.request_body(body(b'{"model": "m", "input": "x"}'))
    answer = headers({":status": "429", "x-envoy-upstream-service-time": "3"}, response=True)
    assert mode(await processor.response_headers(answer)).response_body_mode == (
        ProcessingMode.BUFFERED
    )
    raw = b'{"object":"error","message":"slow down","type":"RateLimitError","code":429}'
    with pytest.raises(Exception) as caught:
        await processor.response_body(body(raw, response=True))
    reply = processor.failure("response_body", caught.value)
    rewritten = orjson.loads(reply.response_body.response.body_mutation.body)
    assert header_sets(reply, "response_body")[":status"] == "429"
    assert rewritten["error"]["message"] == "slow down"


async def test_envoys_own_error_reply_is_left_alone(factory_stores: Stores, tenant: str) -> None:
    processor = await _opened(factory_stores, tenant)
    await processor.request_body(body(b'{"model": "m", "input": "x"}'))
    reply = await processor.response_headers(headers({":status": "503"}, response=True))
    assert reply is not None and not reply.HasField("mode_override")


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        b"event: " + str(e["type"]).encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n"
        for e in events
    )


async def test_a_stream_is_relayed_chunk_by_chunk_and_stored(
    factory_stores: Stores, tenant: str
) -> None:
    processor = await _opened(factory_stores, tenant)
    await processor.request_body(body(b'{"model": "m", "input": "x", "stream": true}'))
    sse = headers({":status": "200", "content-type": "text/event-stream"}, response=True)
    assert mode(await processor.response_headers(sse)).response_body_mode == (
        ProcessingMode.STREAMED
    )
    done = orjson.loads(_backend_answer())
    stream = _sse(
        {"type": "response.created", "response": {**done, "status": "in_progress", "output": []}},
        {"type": "response.output_text.delta", "output_index": 0, "delta": "Hi."},
        {"type": "response.completed", "response": done},
    )
    first = await processor.response_body(body(stream[:40], response=True, end=False))
    rest = await processor.response_body(body(stream[40:], response=True))
    assert first is not None and rest is not None
    out = first.response_body.response.body_mutation.body
    out += rest.response_body.response.body_mutation.body
    assert out.endswith(b"data: [DONE]\n\n")
    completed = [line for line in out.split(b"\n") if b'"response.completed"' in line][-1]
    response_id = orjson.loads(completed.removeprefix(b"data: "))["response"]["id"]
    assert await factory_stores.responses.get(tenant, response_id) is not None


async def test_a_stream_cut_off_is_recorded_as_failed_on_close(
    factory_stores: Stores, tenant: str
) -> None:
    processor = await _opened(factory_stores, tenant)
    await processor.request_body(body(b'{"model": "m", "input": "x", "stream": true}'))
    sse = headers({":status": "200", "content-type": "text/event-stream"}, response=True)
    await processor.response_headers(sse)
    opening = {**orjson.loads(_backend_answer()), "status": "in_progress", "output": []}
    out = await processor.response_body(
        body(_sse({"type": "response.created", "response": opening}), response=True, end=False)
    )
    assert out is not None
    created = out.response_body.response.body_mutation.body.split(b"data: ")[1]
    response_id = orjson.loads(created)["response"]["id"]
    await processor.close()
    stored = await factory_stores.responses.get(tenant, response_id)
    assert stored is not None and orjson.loads(stored.record)["status"] == "failed"


# Routing


@pytest.mark.parametrize(
    ("method", "path", "kind", "operation"),
    [
        ("GET", "/v1/models", PassThrough, None),
        ("POST", "/v1/responses", CreateResponse, "create_response"),
        ("POST", "/v1/conversations", BodyAnswered, "create_conversation"),
        ("GET", "/v1/conversations/conv_missing", Answered, "get_conversation"),
        ("GET", "/v1/nothing-here", PassThrough, None),
        ("PUT", "/v1/files", Answered, "invalid_url"),
    ],
)
async def test_the_router_picks_the_processor(
    factory_stores: Stores, method: str, path: str, kind: type, operation: str | None
) -> None:
    opened = await open_processor(Gateway(factory_stores), request(method, path))
    assert isinstance(opened.processor, kind)
    assert opened.operation == operation


async def test_the_router_opens_an_upload(factory_stores: Stores) -> None:
    message = request("POST", "/v1/files", **{"content-type": "multipart/form-data; boundary=b"})
    opened = await open_processor(Gateway(factory_stores), message)
    assert isinstance(opened.processor, Upload) and opened.operation == "create_file"


async def _messages(*messages: ProcessingRequest) -> AsyncIterator[ProcessingRequest]:
    for message in messages:
        yield message


async def test_the_servicer_answers_a_stream_and_stops_at_an_immediate_reply(
    factory_stores: Stores,
) -> None:
    servicer = ExternalProcessor(Gateway(factory_stores))
    stream = _messages(
        request("POST", "/v1/conversations", authorization="Bearer k"),
        body(b'{"metadata": {"a": "b"}}'),
        body(b"never read"),
    )
    replies = [reply async for reply in servicer.Process(stream, None)]
    assert len(replies) == 2
    status, conversation = immediate(replies[1])
    assert status == 200 and conversation["metadata"] == {"a": "b"}


async def test_the_servicer_answers_a_missing_one_with_a_404(factory_stores: Stores) -> None:
    servicer = ExternalProcessor(Gateway(factory_stores))
    stream = _messages(request("GET", "/v1/responses/resp_missing"))
    [reply] = [reply async for reply in servicer.Process(stream, None)]
    status, error = immediate(reply)
    assert status == 404 and error["error"]["message"] == (
        "Response with id 'resp_missing' not found."
    )


# Streamed replies (downloads)


def streamed(reply: ProcessingResponse) -> StreamedImmediateResponse:
    """What Envoy reads as `streamed_immediate_response` (field 11) in a reply."""
    envelope = ProcessingResponseStreamedReply.FromString(reply.SerializeToString())
    assert envelope.HasField("streamed_immediate_response")
    return envelope.streamed_immediate_response


async def _pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_a_streamed_answer_sends_headers_then_the_body_piece_by_piece() -> None:
    processor = StreamedAnswer(StreamedReply(200, _pieces(b"ab", b"cd", b"e"), length=5))
    first = await processor.request_headers(request("GET", "/v1/files/f/content"))
    assert first is not None
    start = streamed(first).headers_response
    sent = {h.key: h.raw_value.decode() for h in start.headers.headers}
    assert sent == {
        ":status": "200",
        "content-type": "application/octet-stream",
        "content-length": "5",
    }
    assert not start.end_of_stream
    assert processor.tail is not None
    pieces = [streamed(reply).body_response async for reply in processor.tail]
    assert [(p.body, p.end_of_stream) for p in pieces] == [
        (b"ab", False),
        (b"cd", False),
        (b"e", True),
    ]


async def test_an_empty_streamed_answer_ends_with_its_headers() -> None:
    processor = StreamedAnswer(StreamedReply(200, _pieces(), length=0))
    first = await processor.request_headers(request("GET", "/v1/files/f/content"))
    assert first is not None and streamed(first).headers_response.end_of_stream
    assert processor.tail is None


async def test_a_streamed_answer_cut_off_releases_its_source() -> None:
    released: list[bool] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            yield b"second"
        finally:
            released.append(True)

    processor = StreamedAnswer(StreamedReply(200, source(), length=11))
    await processor.request_headers(request("GET", "/v1/files/f/content"))
    assert processor.tail is not None
    await anext(processor.tail)  # Envoy took one piece, then the client went away
    await processor.close()
    assert released == [True]


async def test_the_router_streams_a_download(factory_stores: Stores, tenant: str) -> None:
    owner = tenant_for({"x-tenant": tenant}, "x-tenant")
    writer = factory_stores.blobs.writer(owner, "file-abc")
    await writer.write(b"hello")
    await writer.commit()
    await factory_stores.files.create(owner, {"id": "file-abc", "object": "file", "bytes": 5})
    gateway = Gateway(factory_stores, tenant_header="x-tenant")
    message = request("GET", "/v1/files/file-abc/content", **{"x-tenant": tenant})
    processor = (await open_processor(gateway, message)).processor
    assert isinstance(processor, StreamedAnswer)
    await processor.request_headers(message)
    assert processor.tail is not None
    body = b"".join([streamed(r).body_response.body async for r in processor.tail])
    assert body == b"hello"
