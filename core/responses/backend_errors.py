"""A backend's 4xx/5xx, as the client sees it."""

from __future__ import annotations

from typing import Any

import orjson

from core.common.errors import UpstreamError
from core.responses.context_windows import parse_overflow

__all__ = ["backend_error"]


def backend_error(status: int, body: bytes) -> UpstreamError:
    """A backend 4xx/5xx in the OpenAI error shape, keeping the backend's own words."""
    error: Any = None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error") if isinstance(parsed.get("error"), dict) else parsed
    message = body.decode("utf-8", "replace").strip()[:2000] or f"Backend returned {status}."
    param = code = None
    type_ = "invalid_request_error" if status < 500 else "server_error"
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
        param = error.get("param") if isinstance(error.get("param"), str) else None
        code = error.get("code") if isinstance(error.get("code"), str) else None
        # Keep OpenAI-style types; other servers' exception names mean nothing to clients.
        if isinstance(error.get("type"), str) and error["type"].endswith("_error"):
            type_ = error["type"]
    if status == 400 and (code == "context_length_exceeded" or parse_overflow(message)):
        # A context overflow, however the backend words it, is what the hosted API calls
        # it (truncation "disabled", or "auto" with nothing left to drop).
        type_, param, code = "invalid_request_error", "input", "context_length_exceeded"
    return UpstreamError(status, message, type_=type_, param=param, code=code)
