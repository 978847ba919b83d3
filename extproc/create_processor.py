"""`POST /v1/responses`: the request goes to the backend rewritten, the answer comes back
presented and stored.

The request starts headers-only. The processor opts into a buffered request body (to
rewrite it) and the response headers; at the response headers it picks buffered for JSON
and errors, streamed for SSE (so events reach the client as they come), or full duplex
for a stream whose model may call the gateway's tools (the processor then appends the
follow-up turns after the backend's stream ends). Every business rule is in `core`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from core.common.errors import BadGatewayError, InvalidRequestError
from core.common.tracing import inject
from core.responses.backend_errors import backend_error
from core.responses.compaction.window import may_compact
from core.responses.create_flow import CreateResponseFlow
from core.responses.overflow_retry import overflow_relay, recover_json
from core.responses.stream_relay import Relay
from extproc.messages import (
    SLOW_ANSWER_TIMEOUT,
    body_reply,
    header_map,
    headers_reply,
    mutation,
    streamed_body,
    trailers_reply,
)
from extproc.processor import Processor, client_error
from extproc.protos import ProcessingMode, ProcessingRequest, ProcessingResponse

__all__ = ["CreateResponse"]

log = logging.getLogger(__name__)

_SEND = ProcessingMode.SEND
_BUFFERED = ProcessingMode.BUFFERED
# Buffer the request body, see the response headers.
_REQUEST_MODE = ProcessingMode(
    request_header_mode=_SEND, response_header_mode=_SEND, request_body_mode=_BUFFERED
)
_JSON_MODE = ProcessingMode(
    request_header_mode=_SEND, response_header_mode=_SEND, response_body_mode=_BUFFERED
)
_SSE_MODE = ProcessingMode(
    request_header_mode=_SEND,
    response_header_mode=_SEND,
    response_body_mode=ProcessingMode.STREAMED,
)
# Only full duplex lets the processor add the follow-up turns after the backend's stream.
_DUPLEX_MODE = ProcessingMode(
    request_header_mode=_SEND,
    response_header_mode=_SEND,
    response_body_mode=ProcessingMode.FULL_DUPLEX_STREAMED,
    response_trailer_mode=_SEND,
)


_BACKEND_API = "x-openresponses-backend-api"


class CreateResponse(Processor):
    def __init__(self, flow: CreateResponseFlow) -> None:
        self._flow = flow
        self.response_id = flow.response_id
        self._relay: Relay | None = None
        self._error_status = 0  # the backend's error status, once seen

    async def request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        if message.request_headers.end_of_stream:
            raise InvalidRequestError("The request body is empty; the API expects a JSON payload.")
        client = header_map(message).get("authorization")
        backend = self._flow.authorization
        set_headers = [("authorization", backend)] if backend and backend != client else []
        # The backend's spans join the request's trace as children of the gateway's span.
        set_headers += list(inject({}).items())
        # Only the processor decides which backend API a create goes to: Envoy routes on
        # this header (the chat route rewrites the path to /chat/completions).
        remove = ["accept-encoding", _BACKEND_API]  # the body is parsed on the way back
        if self._flow.chat:
            set_headers.append((_BACKEND_API, "chat_completions"))
            remove.pop()
        return headers_reply(
            response_phase=False,
            header_mutation=mutation(set_headers, remove=tuple(remove)),
            mode=_REQUEST_MODE,
            reroute=self._flow.chat,
        )

    async def request_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        raw = message.request_body.body
        if may_compact(raw):
            # A compaction asks the backend for a summary before the request goes on.
            self.tail = self._slow_request(raw)
            return None
        return await self._prepared(raw)

    async def _prepared(self, raw: bytes) -> ProcessingResponse:
        body = await self._flow.prepare(raw)
        length = mutation([("content-length", str(len(body)))])
        return body_reply(body, response_phase=False, header_mutation=length)

    async def _slow_request(self, raw: bytes) -> AsyncIterator[ProcessingResponse]:
        yield ProcessingResponse(override_message_timeout=SLOW_ANSWER_TIMEOUT)
        try:
            yield await self._prepared(raw)
        except Exception as error:
            yield self.failure("request_body", error)

    async def response_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        headers = header_map(message)
        status = int(headers.get(":status", "0") or 0)
        no_body = message.response_headers.end_of_stream
        if status >= 400 or status < 200:
            if "x-envoy-upstream-service-time" not in headers:
                # Envoy's own reply (backend unreachable, timeout): its local reply
                # config already gives it the OpenAI shape and status.
                return headers_reply(response_phase=True)
            if no_body:
                raise backend_error(status, b"")
            retried = overflow_relay(self._flow, status)
            if retried is not None:
                # Likely a context overflow of an untrimmed "auto" stream: the client
                # gets the trimmed retry's stream instead (the error body is read first).
                self._relay = retried
                sse = [(":status", "200"), ("content-type", "text/event-stream")]
                return headers_reply(
                    response_phase=True,
                    header_mutation=mutation(sse, remove=("content-length",)),
                    mode=_DUPLEX_MODE,
                )
            self._error_status = status
            return headers_reply(response_phase=True, mode=_JSON_MODE)
        if no_body:
            raise BadGatewayError("The backend returned an empty response.")
        if headers.get("content-type", "").startswith("text/event-stream"):
            self._relay = relay = self._flow.relay()
            return headers_reply(
                response_phase=True,
                header_mutation=mutation(remove=("content-length",)),
                mode=_DUPLEX_MODE if relay.full_duplex else _SSE_MODE,
            )
        return headers_reply(response_phase=True, mode=_JSON_MODE)

    async def response_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        body = message.response_body
        relay = self._relay
        if relay is not None and relay.full_duplex:
            # Every chunk must be answered by the processor itself, zero or more times;
            # after the last one the rest of the loop follows.
            out = await relay.feed(body.body)
            if body.end_of_stream:
                self.tail = self._rest_of_stream(relay, trailers=False)
            return streamed_body(out, end_of_stream=False) if out else None
        if relay is not None:
            # Streamed mode: exactly one answer per chunk, the last one ending the stream.
            out = await relay.feed(body.body)
            if body.end_of_stream:
                out += b"".join([piece async for piece in relay.finish()])
            return body_reply(out, response_phase=True)
        if self._error_status:
            if self._flow.fit is not None:  # truncation "auto": an overflow is retried
                self.tail = self._recovered_answer(self._error_status, body.body)
                return None
            raise backend_error(self._error_status, body.body)
        if self._flow.turns is not None:
            self.tail = self._tool_loop_answer(body.body)
            return None
        return await self._json_answer(body.body)

    async def response_trailers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        """The backend's stream ended with trailers (full duplex only): the rest of the
        loop follows, then the trailers are let through."""
        if self._relay is not None and self._relay.full_duplex:
            self.tail = self._rest_of_stream(self._relay, trailers=True)
        return None

    def failure(self, phase: str, error: Exception) -> ProcessingResponse:
        error = client_error(phase, error)
        if phase == "response_body" and self._relay is None:
            # The answer is still held by Envoy: rewrite it rather than replace it, so
            # Envoy's local-reply mappers (meant for its own errors) leave it be.
            body = error.body()
            headers = [
                (":status", str(error.status)),
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
            ]
            return body_reply(body, response_phase=True, header_mutation=mutation(headers))
        return super().failure(phase, error)

    async def _rest_of_stream(
        self, relay: Relay, *, trailers: bool
    ) -> AsyncIterator[ProcessingResponse]:
        """After the backend's stream: the rest of the loop as the processor's own
        chunks, then the end of the body."""
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

    async def _tool_loop_answer(self, raw: bytes) -> AsyncIterator[ProcessingResponse]:
        """A buffered answer with server-side tools: the loop may outlast Envoy's message
        timeout, so the processor first asks for the longest one allowed."""
        yield ProcessingResponse(override_message_timeout=SLOW_ANSWER_TIMEOUT)
        try:
            yield await self._json_answer(raw)
        except Exception as error:
            yield self.failure("response_body", error)

    async def _recovered_answer(self, status: int, raw: bytes) -> AsyncIterator[ProcessingResponse]:
        """The backend's error, or (after an overflow) the trimmed retry's answer, which
        turns the held error into a success: another backend call, so it asks for the
        longest message timeout as a tool loop does."""
        yield ProcessingResponse(override_message_timeout=SLOW_ANSWER_TIMEOUT)
        try:
            result = await recover_json(self._flow, status, raw)
        except Exception as error:
            yield self.failure("response_body", error)
            return
        headers = [
            (":status", "200"),
            ("content-type", "application/json"),
            ("content-length", str(len(result))),
        ]
        yield body_reply(result, response_phase=True, header_mutation=mutation(headers))

    async def _json_answer(self, raw: bytes) -> ProcessingResponse:
        result = await self._flow.finish_json(raw)
        length = mutation([("content-length", str(len(result)))])
        return body_reply(result, response_phase=True, header_mutation=length)

    async def close(self) -> None:
        """A relay cut off mid-stream is recorded as failed."""
        if self._relay is not None:
            try:
                await self._relay.abandon()
            except Exception:
                log.exception("recording a broken stream failed")
