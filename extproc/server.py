"""The grpc.aio ext_proc server: one `StreamSession` per HTTP request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from core.gateway import Gateway
from extproc.protos import (
    ExternalProcessorServicer,
    ProcessingRequest,
    ProcessingResponse,
    add_ExternalProcessorServicer_to_server,
)
from extproc.session import StreamSession

__all__ = ["ExternalProcessor", "start_server"]


class ExternalProcessor(ExternalProcessorServicer):  # type: ignore[misc]
    def __init__(self, gateway: Gateway, backend_api_key: str | None) -> None:
        self._gateway = gateway
        self._backend_api_key = backend_api_key

    async def Process(
        self, request_iterator: AsyncIterator[ProcessingRequest], context: Any
    ) -> AsyncIterator[ProcessingResponse]:
        session = StreamSession(self._gateway, self._backend_api_key)
        try:
            async for message in request_iterator:
                reply = await session.handle(message)
                if reply is not None:
                    yield reply
                    if reply.HasField("immediate_response"):
                        return
                if session.tail is not None:
                    tail, session.tail = session.tail, None
                    async for more in tail:
                        yield more
        finally:
            # Shielded: when Envoy resets the stream this task is being cancelled, and
            # the record of a broken response must still be written.
            await asyncio.shield(session.close())


async def start_server(
    gateway: Gateway, address: str, backend_api_key: str | None
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
    add_ExternalProcessorServicer_to_server(ExternalProcessor(gateway, backend_api_key), server)
    if server.add_insecure_port(address) == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    return server
