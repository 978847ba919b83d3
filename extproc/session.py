"""One HTTP request's ext_proc stream: Envoy's messages in, the engine's decisions out.

The processor starts every request headers-only. For `POST /v1/responses` it opts into
a buffered request body (to rewrite it) and the response headers; at the response
headers it picks buffered for JSON and errors, or streamed for SSE, so events reach the
client as they come. Everything that is a business rule is in `core`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from core.common.errors import BadGatewayError, GatewayError, InvalidRequestError, ServerError
from core.common.http import BodyHandler, BodySink, Reply, Request, error_reply
from core.gateway import Gateway
from core.responses.backend_errors import backend_error
from core.responses.create_flow import CreateResponseFlow
from core.responses.stream_relay import StreamRelay
from core.tools.streamed_loop import ToolStreamRelay, open_relay
from extproc.messages import (
    body_reply,
    header_map,
    headers_reply,
    immediate,
    mutation,
    streamed_body,
    trailers_reply,
)
from extproc.protos import Duration, ProcessingMode, ProcessingRequest, ProcessingResponse

__all__ = ["StreamSession"]

log = logging.getLogger(__name__)

_SEND = ProcessingMode.SEND
_BUFFERED = ProcessingMode.BUFFERED
_STREAMED = ProcessingMode.STREAMED
# Opt-in for a create: buffer the request body, see the response headers.
_CREATE_MODE = ProcessingMode(
    request_header_mode=_SEND, response_header_mode=_SEND, request_body_mode=_BUFFERED
)
# Operations the gateway answers itself once it has the body.
_BODY_MODE = ProcessingMode(request_header_mode=_SEND, request_body_mode=_BUFFERED)
_JSON_MODE = ProcessingMode(
    request_header_mode=_SEND, response_header_mode=_SEND, response_body_mode=_BUFFERED
)
_SSE_MODE = ProcessingMode(
    request_header_mode=_SEND, response_header_mode=_SEND, response_body_mode=_STREAMED
)
# A stream whose model calls the gateway's tools: the processor must be able to append
# the follow-up turns after the backend's stream ends, which only full duplex allows.
_DUPLEX_MODE = ProcessingMode(
    request_header_mode=_SEND,
    response_header_mode=_SEND,
    response_body_mode=ProcessingMode.FULL_DUPLEX_STREAMED,
    response_trailer_mode=_SEND,
)


# How long a buffered tool loop may take: the filter's max_message_timeout must allow it
# (Envoy honours one override per message, so it cannot be extended as the loop goes).
_TOOL_LOOP_TIMEOUT = Duration(seconds=300)


class StreamSession:
    def __init__(self, gateway: Gateway, backend_api_key: str | None) -> None:
        self._gateway = gateway
        self._backend_auth = f"Bearer {backend_api_key}" if backend_api_key else None
        self._flow: CreateResponseFlow | None = None
        self._body_handler: BodyHandler | None = None
        self._sink: BodySink | None = None  # an upload streaming in
        self._relay: StreamRelay | ToolStreamRelay | None = None
        # What the processor still sends after a message without awaiting another one:
        # the rest of a tool loop (see `_stream_tail`, `_json_tail`).
        self.tail: AsyncIterator[ProcessingResponse] | None = None
        self._error_status = 0  # the backend's error status, once seen
        self._trailers = False  # the backend's stream ended with trailers

    async def handle(self, message: ProcessingRequest) -> ProcessingResponse | None:
        kind = message.WhichOneof("request")
        try:
            if kind == "request_headers":
                return await self._request_headers(message)
            if kind == "request_body":
                return await self._request_body(message)
            if kind == "response_headers":
                return self._response_headers(message)
            if kind == "response_body":
                return await self._response_body(message)
            if kind == "request_trailers" and self._sink is not None:
                sink, self._sink = self._sink, None
                return immediate(await sink.finish())
            if kind == "response_trailers":
                return self._response_trailers()
        except Exception as error:
            return self._failure(kind, error)
        return None

    def _failure(self, kind: str | None, error: Exception) -> ProcessingResponse:
        if not isinstance(error, GatewayError):
            # A bug or a storage outage fails this request with a proper error body,
            # never the server.
            log.error("processing %s failed", kind, exc_info=error)
            return immediate(error_reply(ServerError("The gateway failed to process the request.")))
        self._sink = None  # a refused upload has already dropped what it wrote
        if kind == "response_body" and self._relay is None:
            # The answer is still held by Envoy: rewrite it rather than replace it,
            # so Envoy's local-reply mappers (meant for its own errors) leave it be.
            body = error.body()
            headers = [
                (":status", str(error.status)),
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
            ]
            return body_reply(body, response_phase=True, header_mutation=mutation(headers))
        return immediate(error_reply(error))

    def _response_trailers(self) -> ProcessingResponse | None:
        """The backend's stream ended with trailers (full duplex only): the rest of the
        loop follows, then the trailers are let through."""
        relay = self._relay
        if isinstance(relay, ToolStreamRelay):
            self.tail = self._stream_tail(relay, trailers=True)
        return None

    async def _stream_tail(
        self, relay: ToolStreamRelay, trailers: bool = False
    ) -> AsyncIterator[ProcessingResponse]:
        """After the backend's first stream (full duplex): the rest of the loop as the
        processor's own chunks, then the end of the body."""
        try:
            async for chunk in relay.finish():
                if chunk:
                    yield streamed_body(chunk, end_of_stream=False)
        except Exception:
            log.exception("finishing a stream with server-side tools failed")
            await relay.abandon()
        self._relay = None  # finished: nothing is left to record on close
        if trailers:
            yield streamed_body(b"", end_of_stream=False)
            yield trailers_reply()
        else:
            yield streamed_body(b"", end_of_stream=True)

    async def _json_tail(self, raw: bytes) -> AsyncIterator[ProcessingResponse]:
        """A buffered answer with server-side tools: the loop may outlast Envoy's
        message timeout, so the processor first asks for the longest one allowed."""
        yield ProcessingResponse(override_message_timeout=_TOOL_LOOP_TIMEOUT)
        yield await self._finish_json(raw)

    async def _finish_json(self, raw: bytes) -> ProcessingResponse:
        assert self._flow is not None
        try:
            result = await self._flow.finish_json(raw)
        except Exception as error:
            return self._failure("response_body", error)
        length = mutation([("content-length", str(len(result)))])
        return body_reply(result, response_phase=True, header_mutation=length)

    async def close(self) -> None:
        """Envoy ended the stream: an unfinished upload is dropped, and a relay cut off
        mid-stream is recorded as failed."""
        if self._sink is not None:
            await self._sink.abort()
        if self._relay is not None:
            try:
                await self._relay.abandon()
            except Exception:
                log.exception("recording a broken stream failed")

    async def _request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        headers = header_map(message)
        request = Request.from_target(headers.get(":method", ""), headers.get(":path", ""), headers)
        outcome = await self._gateway.handle(request)
        if outcome is None:
            return headers_reply(response_phase=False)
        if isinstance(outcome, Reply):
            return immediate(outcome)
        if isinstance(outcome, CreateResponseFlow):
            return self._start_create(outcome, message)
        if callable(outcome):
            if message.request_headers.end_of_stream:
                return immediate(await outcome(b""))
            self._body_handler = outcome
            return headers_reply(response_phase=False, mode=_BODY_MODE)
        # An upload: its filter streams the body without waiting for an answer to the
        # headers; the only answer is the final reply, so nothing reaches the backend.
        if message.request_headers.end_of_stream:
            return immediate(await outcome.finish())
        self._sink = outcome
        return None

    def _start_create(
        self, outcome: CreateResponseFlow, message: ProcessingRequest
    ) -> ProcessingResponse:
        if message.request_headers.end_of_stream:
            raise InvalidRequestError("The request body is empty; the API expects a JSON payload.")
        self._flow = outcome
        set_headers = [("authorization", self._backend_auth)] if self._backend_auth else []
        # The body is parsed on the way back, so it must not be compressed.
        return headers_reply(
            response_phase=False,
            header_mutation=mutation(set_headers, remove=("accept-encoding",)),
            mode=_CREATE_MODE,
        )

    async def _request_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        if self._sink is not None:
            sink = self._sink
            await sink.feed(message.request_body.body)
            if not message.request_body.end_of_stream:
                return None
            self._sink = None
            return immediate(await sink.finish())
        if self._body_handler is not None:
            return immediate(await self._body_handler(message.request_body.body))
        assert self._flow is not None
        body = await self._flow.prepare(message.request_body.body)
        length = mutation([("content-length", str(len(body)))])
        return body_reply(body, response_phase=False, header_mutation=length)

    def _response_headers(self, message: ProcessingRequest) -> ProcessingResponse:
        flow = self._flow
        assert flow is not None
        headers = header_map(message)
        status = int(headers.get(":status", "0") or 0)
        no_body = message.response_headers.end_of_stream
        if status >= 400 or status < 200:
            if "x-envoy-upstream-service-time" not in headers:
                # Envoy's own reply (backend unreachable, timeout): its local reply
                # config already gives it the OpenAI shape and status.
                return headers_reply(response_phase=True)
            self._error_status = status
            if no_body:
                raise backend_error(status, b"")
            return headers_reply(response_phase=True, mode=_JSON_MODE)
        if no_body:
            raise BadGatewayError("The backend returned an empty response.")
        if headers.get("content-type", "").startswith("text/event-stream"):
            self._relay = relay = open_relay(flow)
            return headers_reply(
                response_phase=True,
                header_mutation=mutation(remove=("content-length",)),
                mode=_DUPLEX_MODE if isinstance(relay, ToolStreamRelay) else _SSE_MODE,
            )
        return headers_reply(response_phase=True, mode=_JSON_MODE)

    async def _response_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        body = message.response_body
        relay = self._relay
        if isinstance(relay, ToolStreamRelay):
            # Full duplex: every chunk must be answered by the processor itself, zero or
            # more times; after the last one the rest of the loop follows (`_stream_tail`).
            out = await relay.feed(body.body)
            if body.end_of_stream:
                self.tail = self._stream_tail(relay)
            return streamed_body(out, end_of_stream=False) if out else None
        if relay is not None:
            out = await relay.feed(body.body)
            if body.end_of_stream:
                out += await relay.finish()
            return body_reply(out, response_phase=True)
        if self._error_status:
            raise backend_error(self._error_status, body.body)
        assert self._flow is not None
        if self._flow.turns is not None:
            self.tail = self._json_tail(body.body)
            return None
        return await self._finish_json(body.body)
