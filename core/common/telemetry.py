"""What the engine reports for metrics, through whatever the deployment installs.

Core stays free of any metrics library: it calls the functions here, which forward to
the installed `Telemetry` (the Prometheus one in extproc) or do nothing.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Telemetry", "install", "telemetry"]


class Telemetry(Protocol):
    def backend_turn(self, seconds: float, ok: bool) -> None:
        """One backend call the sidecar made itself (a tool loop's follow-up turn)."""

    def tool_call(self, kind: str, ok: bool, seconds: float) -> None:
        """One server-side tool call (`kind`: file_search or mcp)."""

    def ingested(self, outcome: str, chunks: int) -> None:
        """One vector-store file ingested (`outcome`: completed, failed, cancelled)."""

    def ingest_queue(self, depth: int) -> None:
        """The ingestion jobs not yet done, across every replica, as this one last saw."""

    def storage_error(self) -> None:
        """A request failed because storage (Redis, the index) did."""


class _Nothing:
    def backend_turn(self, seconds: float, ok: bool) -> None:
        return None

    def tool_call(self, kind: str, ok: bool, seconds: float) -> None:
        return None

    def ingested(self, outcome: str, chunks: int) -> None:
        return None

    def ingest_queue(self, depth: int) -> None:
        return None

    def storage_error(self) -> None:
        return None


_installed: list[Telemetry] = [_Nothing()]


def install(sink: Telemetry) -> None:
    _installed[0] = sink


def telemetry() -> Telemetry:
    return _installed[0]
