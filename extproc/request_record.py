"""What one request's stream says about the request, for metrics, traces and logs.

The status the client got and whether its answer is complete are read off the messages
as they pass (the backend's status, a processor's own reply, an error written over the
backend's); a request is recorded once, as soon as its answer is complete, which can be
well before Envoy closes the stream.
"""

from __future__ import annotations

import logging
import time

from opentelemetry.trace import Span, Status, StatusCode

from extproc.logs import RequestContext, request_context
from extproc.messages import header_map
from extproc.metrics import Metrics
from extproc.processor import Processor
from extproc.protos import ProcessingRequest, ProcessingResponse
from extproc.router import Opened
from extproc.tracing import exporting, start_request_span

__all__ = ["RequestRecord"]

log = logging.getLogger(__name__)


class _Outcome:
    """What the client got, read off the messages as they pass: the HTTP status (the
    backend's, a processor's own reply, or an error written over the backend's), and
    whether the answer is complete, which can be well before Envoy closes the stream."""

    code = 0
    complete = False
    _last_body = False  # the backend's body has ended

    def incoming(self, message: ProcessingRequest, phase: str) -> None:
        if phase == "response_headers":
            status = header_map(message).get(":status", "")
            self.code = int(status) if status.isdigit() else self.code
            self._last_body = message.response_headers.end_of_stream
        elif phase == "response_body":
            self._last_body = message.response_body.end_of_stream

    def outgoing(self, reply: ProcessingResponse) -> None:
        phase = reply.WhichOneof("response")
        if phase == "immediate_response":
            self.code = reply.immediate_response.status.code
            self.complete = True
            return
        if phase not in ("response_headers", "response_body", "response_trailers"):
            return
        if phase == "response_trailers":
            self.complete = True
            return
        common = getattr(reply, phase).response
        for entry in common.header_mutation.set_headers:
            if entry.header.key == ":status":
                self.code = int(entry.header.raw_value)
        streamed = common.body_mutation.streamed_response
        if common.body_mutation.HasField("streamed_response"):
            self.complete = self.complete or streamed.end_of_stream
        elif self._last_body:
            self.complete = True


class RequestRecord:
    def __init__(self, metrics: Metrics | None) -> None:
        self._metrics = metrics
        self._started = time.perf_counter()
        self._outcome = _Outcome()
        self._operation: str | None = None  # None for a request passed through
        self._processor: Processor | None = None
        self._span: Span | None = None
        self._recorded = False
        self._streamed = False  # a streamed create whose first chunk is still to come

    def opened(self, opened: Opened, message: ProcessingRequest) -> None:
        """The request's route is known: its span and its log context start here."""
        self._processor, self._operation = opened.processor, opened.operation
        if opened.operation is None:
            return
        if exporting():
            self._span = start_request_span(opened.operation, header_map(message))
        context = RequestContext(opened.operation)
        if opened.tenant is not None:
            context.set_tenant(opened.tenant)
        context.response_id = opened.processor.response_id
        request_context.set(context)

    def incoming(self, message: ProcessingRequest, phase: str) -> None:
        self._outcome.incoming(message, phase)
        if phase == "response_headers" and self._operation == "create_response":
            streamed = header_map(message).get("content-type", "")
            self._streamed = streamed.startswith("text/event-stream")
        elif phase == "response_body" and self._streamed:
            self._streamed = False  # once: the first chunk
            if self._metrics is not None:
                self._metrics.first_byte(time.perf_counter() - self._started)

    def outgoing(self, reply: ProcessingResponse) -> None:
        self._outcome.outgoing(reply)
        if self._outcome.complete:
            self.finished()  # the client has its answer; Envoy may close later

    def finished(self) -> None:
        """Record the request (once): metrics, the span's end, a debug line."""
        if self._operation is None or self._recorded:
            return
        self._recorded = True
        code = self._outcome.code or (self._processor.status if self._processor else 0)
        seconds = time.perf_counter() - self._started
        if self._span is not None:
            self._span.set_attribute("http.response.status_code", code)
            if code >= 500 or code == 0:
                self._span.set_status(Status(StatusCode.ERROR))
            self._span.end()
        if self._metrics is not None:
            self._metrics.observe(self._operation, code, seconds)
        log.debug("answered %d in %.1f ms", code, seconds * 1000)
