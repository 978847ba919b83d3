"""Log records as text or as one JSON object per line, with the request they belong to.

The servicer sets the request's context (operation, a digest of its tenant, the response
id once known) in context variables; every record logged while handling that request
carries them. Nothing else of a request is logged: never a bearer key, an MCP header, or
content.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import time
from typing import Any

import orjson

__all__ = ["RequestContext", "configure", "request_context"]


class RequestContext:
    """What a log line may say of the request being handled."""

    __slots__ = ("operation", "response_id", "tenant")

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.tenant: str | None = None  # a digest, never the tenant or key itself
        self.response_id: str | None = None

    def set_tenant(self, tenant: str) -> None:
        self.tenant = hashlib.sha256(tenant.encode()).hexdigest()[:12]


request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "request_context", default=None
)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = request_context.get()
        if context is not None:
            line["operation"] = context.operation
            if context.tenant is not None:
                line["tenant"] = context.tenant
            if context.response_id is not None:
                line["response_id"] = context.response_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = request_context.get()
        if context is None:
            return text
        tags = [f"operation={context.operation}"]
        if context.response_id is not None:
            tags.append(f"response_id={context.response_id}")
        return f"{text} [{' '.join(tags)}]"


def configure(level: str, log_format: str) -> None:
    """The root logger for the process: `json` or `text` lines on stderr."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness probe
