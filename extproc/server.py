"""The grpc.aio ext_proc server: each stream (one HTTP request) goes to its processor."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from opentelemetry.trace import Span, Status, StatusCode

from core.gateway import Gateway
from extproc.health import HealthReporter
from extproc.logs import RequestContext, request_context
from extproc.messages import header_map
from extproc.metrics import Metrics
from extproc.processor import Processor
from extproc.protos import (
    ExternalProcessorServicer,
    ProcessingRequest,
    ProcessingResponse,
    add_ExternalProcessorServicer_to_server,
)
from extproc.router import open_processor
from extproc.tracing import start_request_span

__all__ = ["ExternalProcessor", "start_server"]

log = logging.getLogger(__name__)

_PHASES = frozenset(
    (
        "request_headers",
        "request_body",
        "request_trailers",
        "response_headers",
        "response_body",
        "response_trailers",
    )
)


async def _handle(processor: Processor, phase: str, message: ProcessingRequest) -> Any:
    try:
        return await getattr(processor, phase)(message)
    except Exception as error:
        return processor.failure(phase, error)


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


class ExternalProcessor(ExternalProcessorServicer):  # type: ignore[misc]
    def __init__(self, gateway: Gateway, metrics: Metrics | None = None) -> None:
        self._gateway = gateway
        self._metrics = metrics

    async def Process(
        self, request_iterator: AsyncIterator[ProcessingRequest], context: Any
    ) -> AsyncIterator[ProcessingResponse]:
        started = time.perf_counter()
        processor: Processor | None = None
        operation: str | None = None
        outcome = _Outcome()
        counted = False
        span: Span | None = None

        def count() -> None:
            nonlocal counted
            if operation is None or counted:
                return
            counted = True
            code = outcome.code or (processor.status if processor else 0)
            seconds = time.perf_counter() - started
            if span is not None:
                span.set_attribute("http.response.status_code", code)
                if code >= 500 or code == 0:
                    span.set_status(Status(StatusCode.ERROR))
                span.end()
            if self._metrics is not None:
                self._metrics.observe(operation, code, seconds)
            log.debug("answered %d in %.1f ms", code, seconds * 1000)

        try:
            async for message in request_iterator:
                phase = message.WhichOneof("request")
                if phase not in _PHASES:
                    continue
                outcome.incoming(message, phase)
                if processor is None:
                    try:
                        opened = await open_processor(self._gateway, message)
                    except Exception as error:  # a storage outage, say: still an answer
                        failed = Processor().failure(phase, error)
                        outcome.outgoing(failed)
                        yield failed
                        return
                    processor, operation = opened.processor, opened.operation
                    if operation is not None:
                        span = start_request_span(operation, header_map(message))
                    if operation is not None:
                        context = RequestContext(operation)
                        if opened.tenant is not None:
                            context.set_tenant(opened.tenant)
                        context.response_id = processor.response_id
                        request_context.set(context)
                reply: ProcessingResponse | None = await _handle(processor, phase, message)
                if reply is not None:
                    outcome.outgoing(reply)
                    if outcome.complete:
                        count()  # the client has its answer; Envoy may close later
                    yield reply
                    if reply.HasField("immediate_response"):
                        return
                if processor.tail is not None:
                    tail, processor.tail = processor.tail, None
                    async for more in tail:
                        outcome.outgoing(more)
                        if outcome.complete:
                            count()
                        yield more
                        if more.HasField("immediate_response"):
                            return
        finally:
            if processor is not None:
                # Shielded: when Envoy resets the stream this task is being cancelled,
                # and the record of a broken response must still be written.
                await asyncio.shield(processor.close())
            count()


async def start_server(
    gateway: Gateway, address: str, health: HealthReporter, metrics: Metrics | None = None
) -> grpc.aio.Server:
    # Envoy hands over body chunks as large as its buffer limit (tens of MB), and a
    # buffered body arrives whole: lift gRPC's 4 MB receive default.
    # Without BDP probing the HTTP/2 window stays small, so an upload faster than the
    # disk is held back in Envoy (and then at the client) rather than queued in here.
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 256 << 20),
            ("grpc.http2.bdp_probe", 0),
        ]
    )
    add_ExternalProcessorServicer_to_server(ExternalProcessor(gateway, metrics), server)
    health.register(server)
    if server.add_insecure_port(address) == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    return server
