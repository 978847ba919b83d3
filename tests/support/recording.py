"""What a fake server received, seen per test rather than kept for the whole session.

A fake server runs for the whole session and hands each request it receives to the
recorders attached at that moment. A test attaches its own recorder (the `recorder`
fixture does it for the fake model backend), so it sees exactly the requests made while
it ran, whatever ran before it; nothing is kept once no recorder is attached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["Recorder", "Recorders"]

R = TypeVar("R")


class Recorder(Generic[R]):
    """The requests a server received while this recorder was attached, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[R] = []

    def add(self, request: R) -> None:
        with self._lock:
            self._seen.append(request)

    @property
    def requests(self) -> list[R]:
        """A copy: the server's thread may add to the recorder meanwhile."""
        with self._lock:
            return list(self._seen)

    def clear(self) -> None:
        """Forget what this recorder saw so far (a test's setup calls, say); other
        recorders keep theirs."""
        with self._lock:
            self._seen.clear()


class Recorders(Generic[R]):
    """The recorders attached to one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attached: list[Recorder[R]] = []

    def record(self, request: R) -> None:
        with self._lock:
            attached = list(self._attached)
        for recorder in attached:
            recorder.add(request)

    @contextmanager
    def recording(self) -> Iterator[Recorder[R]]:
        """A recorder attached for the duration of the `with` block."""
        recorder: Recorder[R] = Recorder()
        with self._lock:
            self._attached.append(recorder)
        try:
            yield recorder
        finally:
            with self._lock:
                self._attached.remove(recorder)
