"""Requests the gateway answers itself: at once, streamed (downloads), once the body is
read, or (uploads) while the body streams in. Nothing reaches the backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core.common.errors import GatewayError
from core.common.http import BodySink, Call, Reply, StreamedReply
from core.routes import Route
from extproc.messages import (
    SLOW_ANSWER_TIMEOUT,
    headers_reply,
    immediate,
    streamed_reply_body,
    streamed_reply_headers,
)
from extproc.processor import Processor
from extproc.protos import ProcessingMode, ProcessingRequest, ProcessingResponse

__all__ = ["Answered", "BodyAnswered", "StreamedAnswer", "Upload"]

# Buffer the request body, then answer: nothing goes upstream.
_BODY_MODE = ProcessingMode(
    request_header_mode=ProcessingMode.SEND, request_body_mode=ProcessingMode.BUFFERED
)


class Answered(Processor):
    """Answered from the path and query alone."""

    def __init__(self, reply: Reply) -> None:
        self._reply = reply

    async def request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return immediate(self._reply)


class BodyAnswered(Processor):
    """Answered once the (buffered) body is read."""

    def __init__(self, route: Route, call: Call) -> None:
        self._route = route
        self._call = call

    async def _answer(self, body: bytes) -> ProcessingResponse:
        call = Call(self._call.tenant, self._call.ids, self._call.request, body)
        reply = await self._route.handler(call)
        assert isinstance(reply, Reply), f"{self._route.name} answers with a reply"
        return immediate(reply)

    async def request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        if message.request_headers.end_of_stream:
            return await self._answer(b"")
        return headers_reply(response_phase=False, mode=_BODY_MODE)

    async def request_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        if self._route.slow:
            self.tail = self._slow_answer(message.request_body.body)
            return None
        return await self._answer(message.request_body.body)

    async def _slow_answer(self, body: bytes) -> AsyncIterator[ProcessingResponse]:
        """The longest message timeout allowed first, then the answer."""
        yield ProcessingResponse(override_message_timeout=SLOW_ANSWER_TIMEOUT)
        try:
            yield await self._answer(body)
        except Exception as error:
            yield self.failure("request_body", error)


class Upload(Processor):
    """An upload: its own filter streams the body (full duplex) without waiting for an
    answer to the headers, and the only answer is the final reply, so nothing reaches
    the backend. A refused chunk ends the request at once."""

    def __init__(self, sink: BodySink) -> None:
        self._sink: BodySink | None = sink

    async def _finish(self) -> ProcessingResponse:
        sink, self._sink = self._sink, None
        assert sink is not None
        return immediate(await sink.finish())

    async def request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        if message.request_headers.end_of_stream:
            return await self._finish()
        return None

    async def request_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        if self._sink is None:
            return None
        try:
            await self._sink.feed(message.request_body.body)
        except GatewayError:
            self._sink = None  # a refused upload has already dropped what it wrote
            raise
        if not message.request_body.end_of_stream:
            return None
        return await self._finish()

    async def request_trailers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return await self._finish() if self._sink is not None else None

    async def close(self) -> None:
        if self._sink is not None:
            await self._sink.abort()


class StreamedAnswer(Processor):
    """A reply the processor streams itself, with no upstream (a file download): the
    headers answer the request headers, the body follows piece by piece without waiting
    for another message, so the sidecar holds one piece at a time."""

    def __init__(self, reply: StreamedReply) -> None:
        self._reply = reply
        self._started = False

    async def request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        reply = self._reply
        self.status = reply.status
        headers = [("content-type", reply.content_type)]
        if reply.length is not None:
            headers.append(("content-length", str(reply.length)))
        empty = reply.length == 0
        if not empty:
            self.tail = self._body()
        return streamed_reply_headers(reply.status, headers, end_of_stream=empty)

    async def _body(self) -> AsyncIterator[ProcessingResponse]:
        self._started = True
        chunks = self._reply.chunks
        held: bytes | None = None
        async for chunk in chunks:
            if held is not None:
                yield streamed_reply_body(held, end_of_stream=False)
            held = chunk
        # The last piece carries the end (a reply ends on a body message).
        yield streamed_reply_body(held or b"", end_of_stream=True)

    async def close(self) -> None:
        # A download cut off (or never started) lets go of the blob it was reading.
        chunks = self._reply.chunks
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
