"""A backend's 4xx/5xx, as the client sees it."""

from __future__ import annotations

import re
from typing import Any

import orjson

from core.common.errors import UpstreamError

__all__ = ["backend_error", "context_window"]

# vLLM's words for a context that does not fit (and the window it gives).
_OVERFLOW = re.compile(r"maximum context length is (\d+) tokens")


def context_window(message: str) -> int | None:
    """The model's window, when `message` is a backend's context-overflow error."""
    found = _OVERFLOW.search(message)
    return int(found.group(1)) if found else None


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
    if status == 400 and (code == "context_length_exceeded" or context_window(message)):
        # The hosted API's shape for a context that does not fit the model's window
        # (with truncation "disabled"): SDKs and agents look for this code.
        type_, param, code = "invalid_request_error", "input", "context_length_exceeded"
    return UpstreamError(status, message, type_=type_, param=param, code=code)
