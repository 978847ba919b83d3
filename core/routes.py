"""Which of the gateway's operations a request is, by method and path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["Route", "match_route"]


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    ids: tuple[str, ...] = ()


# Ids are opaque: anything but a slash (clients may bring items with ids of their own).
_ID = r"([^/]{1,1024})"  # percent-encoded, so longer than the 256 characters an id may have
_TABLE: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern + "/?"), operation)
    for method, pattern, operation in (
        ("POST", r"/v1/responses", "create_response"),
        ("GET", rf"/v1/responses/{_ID}", "get_response"),
        ("DELETE", rf"/v1/responses/{_ID}", "delete_response"),
        ("GET", rf"/v1/responses/{_ID}/input_items", "list_input_items"),
        ("POST", r"/v1/conversations", "create_conversation"),
        ("GET", rf"/v1/conversations/{_ID}", "get_conversation"),
        ("POST", rf"/v1/conversations/{_ID}", "update_conversation"),
        ("DELETE", rf"/v1/conversations/{_ID}", "delete_conversation"),
        ("GET", rf"/v1/conversations/{_ID}/items", "list_conversation_items"),
        ("POST", rf"/v1/conversations/{_ID}/items", "add_conversation_items"),
        ("GET", rf"/v1/conversations/{_ID}/items/{_ID}", "get_conversation_item"),
        ("DELETE", rf"/v1/conversations/{_ID}/items/{_ID}", "delete_conversation_item"),
        ("POST", r"/v1/files", "upload_file"),
        ("GET", r"/v1/files", "list_files"),
        ("GET", rf"/v1/files/{_ID}", "get_file"),
        ("DELETE", rf"/v1/files/{_ID}", "delete_file"),
        ("GET", rf"/v1/files/{_ID}/content", "get_file_content"),
        ("POST", r"/v1/vector_stores", "create_vector_store"),
        ("GET", r"/v1/vector_stores", "list_vector_stores"),
        ("GET", rf"/v1/vector_stores/{_ID}", "get_vector_store"),
        ("POST", rf"/v1/vector_stores/{_ID}", "modify_vector_store"),
        ("DELETE", rf"/v1/vector_stores/{_ID}", "delete_vector_store"),
        ("POST", rf"/v1/vector_stores/{_ID}/search", "search_vector_store"),
        ("POST", rf"/v1/vector_stores/{_ID}/files", "create_vector_store_file"),
        ("GET", rf"/v1/vector_stores/{_ID}/files", "list_vector_store_files"),
        ("GET", rf"/v1/vector_stores/{_ID}/files/{_ID}", "get_vector_store_file"),
        ("POST", rf"/v1/vector_stores/{_ID}/files/{_ID}", "update_vector_store_file"),
        ("DELETE", rf"/v1/vector_stores/{_ID}/files/{_ID}", "delete_vector_store_file"),
        ("GET", rf"/v1/vector_stores/{_ID}/files/{_ID}/content", "get_vector_store_file_content"),
        ("POST", rf"/v1/vector_stores/{_ID}/file_batches", "create_file_batch"),
        ("GET", rf"/v1/vector_stores/{_ID}/file_batches/{_ID}", "get_file_batch"),
        ("POST", rf"/v1/vector_stores/{_ID}/file_batches/{_ID}/cancel", "cancel_file_batch"),
        ("GET", rf"/v1/vector_stores/{_ID}/file_batches/{_ID}/files", "list_file_batch_files"),
        ("POST", r"/v1/prompts", "create_prompt"),
        ("GET", r"/v1/prompts", "list_prompts"),
        ("GET", rf"/v1/prompts/{_ID}", "get_prompt"),
        ("POST", rf"/v1/prompts/{_ID}", "update_prompt"),
        ("DELETE", rf"/v1/prompts/{_ID}", "delete_prompt"),
        ("POST", rf"/v1/prompts/{_ID}/versions", "create_prompt_version"),
        ("GET", rf"/v1/prompts/{_ID}/versions", "list_prompt_versions"),
        ("POST", r"/v1/connectors", "create_connector"),
        ("GET", r"/v1/connectors", "list_connectors"),
        ("GET", rf"/v1/connectors/{_ID}", "get_connector"),
        ("POST", rf"/v1/connectors/{_ID}", "update_connector"),
        ("DELETE", rf"/v1/connectors/{_ID}", "delete_connector"),
    )
]
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
_PASS_THROUGH = frozenset(("/v1/responses/input_tokens", "/v1/responses/compact"))


# Indexed by method: every request to the processor is matched here.
_BY_METHOD: dict[str, list[tuple[re.Pattern[str], str]]] = {}
for _verb, _pattern, _operation in _TABLE:
    _BY_METHOD.setdefault(_verb, []).append((_pattern, _operation))


def match_route(method: str, path: str) -> Route | None:
    """The operation, or None for a request the gateway passes through untouched."""
    for pattern, operation in _BY_METHOD.get(method, ()):
        found = pattern.fullmatch(path)
        if found:
            return Route(operation, tuple(unquote(part) for part in found.groups()))
    owned = any(path == prefix or path.startswith(prefix + "/") for prefix in _OWNED)
    if owned and path.rstrip("/") not in _PASS_THROUGH:
        return Route("invalid_url")
    return None
