"""The one retry of a `truncation: "auto"` request the backend rejected as too long.

Buffered answers: the backend's error is read whole, so the retry happens only when it
really is an overflow (`recover_json`). Streamed answers: the client's stream has to be
committed to at the backend's response headers, before the error's body is seen. A 400
to a stream whose window was not known when it was sent (so it went untrimmed) is taken
for an overflow; `RetriedStream` then reads the error, and streams the trimmed retry in
its place (or, were the 400 something else after all, ends the stream with an `error`
event carrying it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson

from core.common.errors import GatewayError
from core.common.response_stream import DONE
from core.common.sse import encode_event
from core.responses.backend_errors import backend_error
from core.responses.context_windows import overflow_in

if TYPE_CHECKING:
    from core.responses.create_flow import CreateResponseFlow
    from core.responses.stream_relay import Relay

__all__ = ["RetriedStream", "overflow_relay", "recover_json"]


def _retry_body(flow: CreateResponseFlow, status: int, raw: bytes) -> bytes | None:
    fit = flow.fit
    overflow = overflow_in(status, raw)
    if fit is None or overflow is None:
        return None
    body = fit.retry_body(overflow)
    if body is not None and flow.turns is not None:
        flow.turns.backend_body = body  # later tool turns extend the trimmed request
    return body


async def recover_json(flow: CreateResponseFlow, status: int, raw: bytes) -> bytes:
    """The client's answer to a buffered request the backend failed: the trimmed retry's
    response after an overflow (with `truncation: "auto"`), else the backend's error.
    A streamed request whose error is read here only teaches the window: its client
    was already promised this error."""
    streamed = flow.request is not None and flow.request.stream
    fit, overflow = flow.fit, overflow_in(status, raw)
    if streamed and fit is not None and overflow is not None:
        fit.learn(overflow)
    body = None if streamed else _retry_body(flow, status, raw)
    if body is None or flow.backend is None:
        raise backend_error(status, raw)
    response = await flow.backend.create(body, flow.authorization)
    return await flow.finish_json(orjson.dumps(response))


def overflow_relay(flow: CreateResponseFlow, status: int) -> RetriedStream | None:
    """The relay that answers a streamed request in place of the backend's 400, when the
    400 is likely an overflow to retry; None to let the error through as it is."""
    fit, request = flow.fit, flow.request
    if status != 400 or fit is None or fit.window_known or flow.backend is None:
        return None
    if request is None or not request.stream:
        return None
    return RetriedStream(flow, status)


def _error_event(error: GatewayError) -> bytes:
    event = {
        "type": "error",
        "code": error.code,
        "message": error.message,
        "param": error.param,
        "sequence_number": 0,
    }
    return encode_event("error", orjson.dumps(event))


class RetriedStream:
    # The retry's events follow the end of the backend's (error) body.
    full_duplex = True

    def __init__(self, flow: CreateResponseFlow, status: int) -> None:
        self._flow = flow
        self._status = status
        self._error = bytearray()
        self._inner: Relay | None = None

    async def feed(self, chunk: bytes) -> bytes:
        self._error += chunk  # the backend's error answer: never the client's
        return b""

    async def finish(self) -> AsyncIterator[bytes]:
        flow = self._flow
        inner = flow.relay()
        try:
            raw = bytes(self._error)
            body = _retry_body(flow, self._status, raw)
            if body is None:
                raise backend_error(self._status, raw)
            assert flow.backend is not None
            async for chunk in flow.backend.stream(body, flow.authorization):
                self._inner = inner
                out = await inner.feed(chunk)
                if out:
                    yield out
        except GatewayError as error:
            if self._inner is None:  # nothing was sent yet: the error is the whole stream
                yield _error_event(error) + DONE
                return
        # A stream that broke off is ended (and stored) as failed by the relay.
        async for piece in inner.finish():
            yield piece

    async def abandon(self) -> None:
        if self._inner is not None:
            await self._inner.abandon()
