"""Prometheus metrics of the sidecar, served on their own port (`GET /metrics`).

Labels stay bounded: `operation` is a route's name (the OpenAI operation id, a fixed
set) and `code` the HTTP status the client got; no ids, tenants or model names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["Metrics"]

# Seconds: from a health check's few ms to a long tool loop.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "openresponses_requests",
            "Requests the gateway handled, by operation and the HTTP status the client got "
            "(0: the stream ended before a status was sent).",
            ["operation", "code"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "openresponses_request_duration_seconds",
            "Time from a request's headers to the end of its ext_proc stream, by operation.",
            ["operation"],
            buckets=_BUCKETS,
            registry=self.registry,
        )

        self._first_byte = Histogram(
            "openresponses_first_byte_seconds",
            "Time from a streamed create's request headers to the backend's first bytes "
            "(the first tokens' arrival, as near as the gateway sees it).",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._turns = Histogram(
            "openresponses_backend_turn_seconds",
            "Backend calls the sidecar makes itself (tool-loop turns), by outcome.",
            ["outcome"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._tools = Histogram(
            "openresponses_tool_call_seconds",
            "Server-side tool calls, by tool type (file_search, mcp) and outcome.",
            ["tool", "outcome"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._files = Counter(
            "openresponses_ingested_files",
            "Vector-store files ingested, by outcome (completed, failed, cancelled).",
            ["outcome"],
            registry=self.registry,
        )
        self._chunks = Counter(
            "openresponses_indexed_chunks", "Chunks indexed.", registry=self.registry
        )
        self._queue = Gauge(
            "openresponses_ingestion_queue_depth",
            "Vector-store files waiting to be ingested or being ingested, across every "
            "replica sharing the Redis (as this sidecar last read it).",
            registry=self.registry,
        )
        self._storage_errors = Counter(
            "openresponses_storage_errors",
            "Requests that failed because storage (Redis, the index) did.",
            registry=self.registry,
        )

    # core.common.telemetry.Telemetry

    def backend_turn(self, seconds: float, ok: bool) -> None:
        self._turns.labels("ok" if ok else "error").observe(seconds)

    def tool_call(self, kind: str, ok: bool, seconds: float) -> None:
        self._tools.labels(kind, "ok" if ok else "error").observe(seconds)

    def ingested(self, outcome: str, chunks: int) -> None:
        self._files.labels(outcome).inc()
        self._chunks.inc(chunks)

    def ingest_queue(self, depth: int) -> None:
        self._queue.set(depth)

    def storage_error(self) -> None:
        self._storage_errors.inc()

    # The servicer's

    def first_byte(self, seconds: float) -> None:
        self._first_byte.observe(seconds)

    def observe(self, operation: str, code: int, seconds: float) -> None:
        self._requests.labels(operation, str(code)).inc()
        self._duration.labels(operation).observe(seconds)

    def serve(self, host: str, port: int) -> None:
        """`GET /metrics` on host:port, from a thread of its own (it never waits on the
        event loop, so a busy sidecar still answers scrapes)."""
        start_http_server(port, addr=host, registry=self.registry)
