"""The route registry: which operation a request is, by method and path.

Each API module lists its own routes; the gateway gathers them into one `RouteTable`.
A route's `name` is the operation's snake_case name (`create_response`,
`list_conversation_items`, ...), the one logs and metrics use.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from core.common.errors import NotFoundError
from core.common.http import Call, Reply

if TYPE_CHECKING:
    from typing import TypeAlias

    from core.common.http import BodySink, StreamedReply
    from core.responses.create_flow import CreateResponseFlow

    # A reply (whole or streamed), an upload that consumes the body as it streams in,
    # or a response to create through the backend.
    Outcome: TypeAlias = Reply | StreamedReply | BodySink | CreateResponseFlow

__all__ = ["Handler", "Match", "Route", "RouteTable"]

Handler = Callable[[Call], Awaitable["Outcome"]]

# Ids are opaque: anything but a slash (clients may bring items with ids of their own),
# percent-encoded, so longer than the 256 characters an id may have.
_ID = "([^/]{1,1024})"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

# Prefixes whose state only the gateway holds: never let the backend answer for them.
_OWNED = (
    "/v1/responses",
    "/v1/conversations",
    "/v1/prompts",
    "/v1/connectors",
    "/v1/files",
    "/v1/vector_stores",
)
# Stateless operations a backend may implement: forwarded as they are.
# Every /v1/responses operation is the gateway's now (compact, input_tokens included).
_PASS_THROUGH: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: str  # e.g. "/v1/conversations/{conversation_id}/items"
    handler: Handler
    name: str
    needs_body: bool = False  # answered once the whole request body is read
    # Waits on the backend (say for a summary), which may outlast the proxy's usual
    # per-message timeout: the adapter asks for its longest one first.
    slow: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    ids: tuple[str, ...]


async def _invalid_url(call: Call) -> Reply:
    request = call.request
    raise NotFoundError(f"Invalid URL ({request.method} {request.path})")


# A path under a gateway-owned prefix that no route matches.
INVALID_URL = Route("", "", _invalid_url, "invalid_url")


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_method: dict[str, list[tuple[re.Pattern[str], Route]]] = {}
        seen: set[tuple[str, str]] = set()
        for route in routes:
            shape = (route.method, _PLACEHOLDER.sub("{}", route.pattern))
            if shape in seen:
                raise ValueError(f"two routes for {route.method} {route.pattern}")
            seen.add(shape)
            regex = re.compile(_PLACEHOLDER.sub(_ID, route.pattern) + "/?")
            self._by_method.setdefault(route.method, []).append((regex, route))

    def routes(self) -> list[Route]:
        return [route for entries in self._by_method.values() for _, route in entries]

    def match(self, method: str, path: str) -> Match | None:
        """The route and its path ids, or None for a request passed through untouched."""
        for regex, route in self._by_method.get(method, ()):
            found = regex.fullmatch(path)
            if found:
                return Match(route, tuple(unquote(part) for part in found.groups()))
        owned = any(path == prefix or path.startswith(prefix + "/") for prefix in _OWNED)
        if owned and path.rstrip("/") not in _PASS_THROUGH:
            return Match(INVALID_URL, ())
        return None
