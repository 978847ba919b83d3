"""The response object in the shape the API documents, whatever the backend sent.

Backends built on other models of the object (vLLM's) send `null` where the document
allows a field only to be absent, and leave out usage details it requires. The gateway
serves the documented shape, so the SDK's clients and a strict schema check read the same.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["conform"]

# Optional fields the document declares non-nullable: without a value they are left out
# (the SDK reads a missing field as None, so clients see no difference).
_OMITTED_WHEN_NULL = ("user", "usage", "text", "prompt_cache_options")


def conform(response: dict[str, Any], model: Any) -> None:
    """Bring, in place, a response object the backend sent to the documented shape;
    `model` is the request's, for a backend that leaves it out."""
    for key in _OMITTED_WHEN_NULL:
        if key in response and response[key] is None:
            del response[key]
    # Required even on an event-sized object (a backend's first `response.created`).
    response.setdefault("created_at", int(time.time()))
    if "model" not in response and isinstance(model, str):
        response["model"] = model
    usage = response.get("usage")
    if isinstance(usage, dict):
        # A backend that reports no cache or reasoning tokens had none to report.
        usage["input_tokens_details"] = {
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            **(usage.get("input_tokens_details") or {}),
        }
        usage["output_tokens_details"] = {
            "reasoning_tokens": 0,
            **(usage.get("output_tokens_details") or {}),
        }
