"""The one interface every request's processor implements, and the pass-through default.

Envoy sends a request's messages on one gRPC stream; the servicer hands each to the
processor chosen for that request (see `router`). A processor answers a message with
zero or one `ProcessingResponse`, and may leave a `tail`: more responses to send before
the next message arrives (the rest of a tool loop).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from core.common.errors import GatewayError, ServerError, UnavailableError
from core.common.http import error_reply
from core.common.telemetry import telemetry
from extproc.messages import body_reply, headers_reply, immediate
from extproc.protos import ProcessingRequest, ProcessingResponse

__all__ = ["PassThrough", "Processor"]

log = logging.getLogger(__name__)


class Processor:
    """One HTTP request's handling. Every phase lets the message through unchanged
    unless a subclass decides otherwise; Envoy only sends the phases a processor's
    processing mode asks for."""

    tail: AsyncIterator[ProcessingResponse] | None = None
    # The response being created, once there is one (for logs).
    response_id: str | None = None
    # The status of a reply the processor streams itself (invisible in the messages,
    # which carry it in a field the stubs do not know); 0 otherwise.
    status = 0

    async def request_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return headers_reply(response_phase=False)

    async def request_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return body_reply(message.request_body.body, response_phase=False)

    async def request_trailers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return None

    async def response_headers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return headers_reply(response_phase=True)

    async def response_body(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return body_reply(message.response_body.body, response_phase=True)

    async def response_trailers(self, message: ProcessingRequest) -> ProcessingResponse | None:
        return None

    def failure(self, phase: str, error: Exception) -> ProcessingResponse:
        """The reply to a phase that raised: the client's error in the OpenAI shape."""
        return immediate(error_reply(client_error(phase, error)))

    async def close(self) -> None:
        """Envoy ended the stream (finished, or reset by either side)."""


def client_error(phase: str, error: Exception) -> GatewayError:
    """What the client is told of a failure: a bug or a storage outage fails the request
    with a proper error body, never the server."""
    if isinstance(error, GatewayError):
        return error
    log.error("processing %s failed", phase, exc_info=error)
    if isinstance(error, RedisError | OSError):
        telemetry().storage_error()
        return UnavailableError("The gateway's storage is unavailable; retry the request shortly.")
    return ServerError("The gateway failed to process the request.")


class PassThrough(Processor):
    """A request the gateway does not handle: it goes to the backend untouched."""
