"""Exporting traces: the OpenTelemetry SDK with its standard `OTEL_*` variables (OTLP over
HTTP), on only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces one) is set. Each
request the gateway handles is a server span, continuing the client's `traceparent`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import Span, SpanKind

__all__ = ["configure_tracing", "exporting", "start_request_span"]

_tracer = trace.get_tracer("openresponses-gw")
# Whether spans are exported: without, a request skips its span altogether (the hot
# path need not extract contexts for a no-op tracer).
_exporting = [False]


def configure_tracing() -> TracerProvider | None:
    """The exporting provider, installed globally; None when no endpoint is configured."""
    if not (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return None
    service = os.environ.get("OTEL_SERVICE_NAME", "openresponses-gw")
    resource = Resource.create({"service.name": service})
    provider = TracerProvider(resource=resource)
    exported = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(exported)
    trace.set_tracer_provider(provider)
    # Redis commands are spans only inside a request's trace: health probes and the
    # ingestion worker's polling would otherwise each be a trace of their own. The
    # instrumentation records commands with their arguments replaced by `?`.
    commands = TracerProvider(resource=resource, sampler=ParentBased(root=ALWAYS_OFF))
    commands.add_span_processor(exported)
    RedisInstrumentor().instrument(tracer_provider=commands)
    _exporting[0] = True
    return provider


def exporting() -> bool:
    return _exporting[0]


def start_request_span(operation: str, headers: Mapping[str, str]) -> Span | None:
    """The request's server span, made current for the rest of this stream's task (each
    ext_proc stream runs in a task of its own, so it never leaks to another request);
    None when traces are not exported."""
    if not _exporting[0]:
        return None
    parent = propagate.extract(dict(headers))
    generative = operation == "create_response"
    name = "chat" if generative else operation
    attributes = {"openresponses.operation": operation}
    if generative:
        attributes["gen_ai.operation.name"] = "chat"
    span = _tracer.start_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)
    context.attach(trace.set_span_in_context(span, parent))
    return span
