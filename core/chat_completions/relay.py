"""A streamed answer from a Chat Completions backend, translated into Responses events
on its way into the relay that presents, stores and (with tools) continues it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from core.chat_completions.stream import ChatSseTranslator

if TYPE_CHECKING:  # the relays' module needs the create flow, which needs this one
    from core.responses.stream_relay import Relay

__all__ = ["ChatRelay"]


class ChatRelay:
    def __init__(self, inner: Relay) -> None:
        self._inner = inner
        self._translator = ChatSseTranslator()
        self.full_duplex = inner.full_duplex

    async def feed(self, chunk: bytes) -> bytes:
        translated = self._translator.feed(chunk)
        return await self._inner.feed(translated) if translated else b""

    async def finish(self) -> AsyncIterator[bytes]:
        # The terminal events (or a failed one, for a stream cut short) go in first.
        rest = self._translator.finish()
        if rest:
            out = await self._inner.feed(rest)
            if out:
                yield out
        async for piece in self._inner.finish():
            yield piece

    async def abandon(self) -> None:
        await self._inner.abandon()
