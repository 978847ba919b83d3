"""The grpc.aio ext_proc server: each stream (one HTTP request) goes to its processor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from core.gateway import Gateway
from extproc.health import HealthReporter
from extproc.metrics import Metrics
from extproc.processor import Processor
from extproc.protos import (
    ExternalProcessorServicer,
    ProcessingRequest,
    ProcessingResponse,
    add_ExternalProcessorServicer_to_server,
)
from extproc.request_record import RequestRecord
from extproc.router import open_processor

__all__ = ["ExternalProcessor", "start_server"]


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


class ExternalProcessor(ExternalProcessorServicer):  # type: ignore[misc]
    def __init__(self, gateway: Gateway, metrics: Metrics | None = None) -> None:
        self._gateway = gateway
        self._metrics = metrics

    async def Process(
        self, request_iterator: AsyncIterator[ProcessingRequest], context: Any
    ) -> AsyncIterator[ProcessingResponse]:
        processor: Processor | None = None
        record = RequestRecord(self._metrics)
        try:
            async for message in request_iterator:
                phase = message.WhichOneof("request")
                if phase not in _PHASES:
                    continue
                record.incoming(message, phase)
                if processor is None:
                    try:
                        opened = await open_processor(self._gateway, message)
                    except Exception as error:  # a storage outage, say: still an answer
                        failed = Processor().failure(phase, error)
                        record.outgoing(failed)
                        yield failed
                        return
                    processor = opened.processor
                    record.opened(opened, message)
                reply: ProcessingResponse | None = await _handle(processor, phase, message)
                if reply is not None:
                    record.outgoing(reply)
                    yield reply
                    if reply.HasField("immediate_response"):
                        return
                if processor.tail is not None:
                    tail, processor.tail = processor.tail, None
                    async for more in tail:
                        record.outgoing(more)
                        yield more
                        if more.HasField("immediate_response"):
                            return
        finally:
            if processor is not None:
                # Shielded: when Envoy resets the stream this task is being cancelled,
                # and the record of a broken response must still be written.
                await asyncio.shield(processor.close())
            record.finished()


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
