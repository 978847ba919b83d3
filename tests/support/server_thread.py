"""Running an asyncio test server in a daemon thread, so sync tests can call it."""

from __future__ import annotations

import asyncio
import threading
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from support.recording import Recorder, Recorders


class AsyncServer(Protocol):
    async def start(self, host: str = ..., port: int = ...) -> int: ...

    async def stop(self) -> None: ...

    @property
    def recorders(self) -> Recorders[Any]: ...


S = TypeVar("S", bound=AsyncServer)


class ServerThread(Generic[S]):
    """Starts `server` on its own event loop in a daemon thread."""

    def __init__(self, server: S, name: str) -> None:
        self.server = server
        self.port: int | None = None
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0, timeout: float = 10.0) -> int:
        if self._thread is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run, args=(loop,), name=self._name, daemon=True)
        self._loop, self._thread = loop, thread
        thread.start()
        started = asyncio.run_coroutine_threadsafe(self.server.start(port=port), loop)
        self.port = started.result(timeout)
        return self.port

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._loop = self._thread = None

    def recording(self) -> AbstractContextManager[Recorder[Any]]:
        """A recorder of the requests the server receives until the block ends."""
        return self.server.recorders.recording()
