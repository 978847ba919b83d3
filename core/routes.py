"""Which of the gateway's operations a request is, by method and path."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Route", "match_route"]


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    resource_id: str | None = None


_ID = r"([A-Za-z0-9_\-]{1,128})"
_TABLE: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/v1/responses/?"), "create_response"),
    ("GET", re.compile(rf"/v1/responses/{_ID}/?"), "get_response"),
    ("DELETE", re.compile(rf"/v1/responses/{_ID}/?"), "delete_response"),
    ("GET", re.compile(rf"/v1/responses/{_ID}/input_items/?"), "list_input_items"),
]


# Stateless operations a backend may implement: forwarded as they are.
_PASS_THROUGH = frozenset(("/v1/responses/input_tokens", "/v1/responses/compact"))


def match_route(method: str, path: str) -> Route | None:
    """The operation, or None for a request the gateway passes through untouched."""
    for verb, pattern, operation in _TABLE:
        if verb == method:
            found = pattern.fullmatch(path)
            if found:
                return Route(operation, found.group(1) if found.groups() else None)
    if path.startswith("/v1/responses") and path.rstrip("/") not in _PASS_THROUGH:
        # Never let the backend answer for state it does not hold.
        return Route("invalid_url")
    return None
