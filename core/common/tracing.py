"""Tracing through the OpenTelemetry API: spans for backend turns and tool calls, and the
W3C trace context on outgoing calls. With no SDK configured (the default) every call
here is a no-op. Span attributes never carry message contents, keys or headers.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

__all__ = [
    "Span",
    "client_span",
    "current_span",
    "describe_request",
    "describe_response",
    "inject",
    "tool_span",
]

_tracer = trace.get_tracer("openresponses-gw")


def current_span() -> Span:
    """The span of the request being handled (a no-op span when tracing is off)."""
    return trace.get_current_span()


def inject(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add the current trace context (`traceparent`, `tracestate`) to outgoing headers."""
    propagate.inject(headers)
    return headers


@contextmanager
def _span(name: str, kind: SpanKind, attributes: dict[str, Any]) -> Iterator[Span]:
    with _tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, record_exception=False
    ) as span:
        try:
            yield span
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


@contextmanager
def client_span(model: str | None) -> Iterator[Span]:
    """One backend turn the sidecar makes itself (a tool loop's follow-up)."""
    attributes = {"gen_ai.operation.name": "chat"}
    if model:
        attributes["gen_ai.request.model"] = model
    with _span(f"chat {model or ''}".strip(), SpanKind.CLIENT, attributes) as span:
        yield span


@contextmanager
def tool_span(tool: str, kind: str) -> Iterator[Span]:
    """One server-side tool call (`kind`: file_search or mcp)."""
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.type": kind,
    }
    with _span(f"execute_tool {tool}", SpanKind.INTERNAL, attributes) as span:
        yield span


def describe_request(model: Any) -> None:
    """The request span's GenAI request attributes (the model asked for)."""
    if isinstance(model, str):
        current_span().set_attribute("gen_ai.request.model", model)


def describe_response(response_id: str, response: dict[str, Any]) -> None:
    """The request span's GenAI response attributes: the gateway's id, the model that
    answered, token usage. Never the contents."""
    span = current_span()
    if not span.is_recording():
        return
    span.set_attribute("gen_ai.response.id", response_id)
    model = response.get("model")
    if isinstance(model, str):
        span.set_attribute("gen_ai.response.model", model)
    status = response.get("status")
    if isinstance(status, str):
        span.set_attribute("openresponses.response.status", status)
    usage = response.get("usage")
    if isinstance(usage, dict):
        for key, name in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens")):
            if isinstance(usage.get(key), int):
                span.set_attribute(f"gen_ai.usage.{name}", usage[key])
