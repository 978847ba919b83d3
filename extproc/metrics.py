"""Prometheus metrics of the sidecar, served on their own port (`GET /metrics`).

Labels stay bounded: `operation` is a route's name (the OpenAI operation id, a fixed
set) and `code` the HTTP status the client got; no ids, tenants or model names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

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

    def observe(self, operation: str, code: int, seconds: float) -> None:
        self._requests.labels(operation, str(code)).inc()
        self._duration.labels(operation).observe(seconds)

    def serve(self, host: str, port: int) -> None:
        """`GET /metrics` on host:port, from a thread of its own (it never waits on the
        event loop, so a busy sidecar still answers scrapes)."""
        start_http_server(port, addr=host, registry=self.registry)
