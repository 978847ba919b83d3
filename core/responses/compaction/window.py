"""What the backend sees of items that hold compaction items, and what a compaction keeps.

A compaction item stands for everything before it: the backend gets, in its place, a
message with the summary and then the items the compaction kept verbatim (the recent
user messages), and nothing that came before it. Only the last compaction item counts
(an earlier one is part of what the later one summarised). `compaction_trigger` items
are requests to the gateway, never sent on.

Token counts are estimates in cl100k tokens over the text an item carries (message
parts, call arguments and outputs), plus a small overhead per item.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.common.errors import InvalidRequestError
from core.responses.compaction.seal import Sealer
from core.vector_stores.ingestion.chunking import count_tokens

__all__ = [
    "COMPACTION",
    "SUMMARY_PREFIX",
    "TRIGGER",
    "check_input",
    "count_item_tokens",
    "expand",
    "kept_user_messages",
    "may_compact",
    "mentions_compaction",
    "summary_message",
]

COMPACTION = "compaction"
TRIGGER = "compaction_trigger"
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
# The Responses API's role for instructions that are not the user's; a backend maps it
# onto its chat template's system turn.
_SUMMARY_ROLE = "developer"
# Stored and re-encoded items are compact JSON, so this finds both kinds of item.
_MARKER = b'"type":"compaction'
# Roughly what the chat template adds around each item (role markers, separators).
_PER_ITEM_TOKENS = 4
# Fields whose strings the model reads; ids, types and opaque blobs are not counted.
_TEXT_FIELDS = frozenset(("text", "content", "arguments", "output", "refusal", "name", "summary"))


def mentions_compaction(joined: bytes) -> bool:
    """Whether comma-joined encoded items may hold a compaction item or trigger."""
    return _MARKER in joined


def may_compact(raw: bytes) -> bool:
    """Whether a create body may ask for a compaction (`context_management`, or a
    trigger): a cheap look at the raw bytes, before parsing, whatever the spacing."""
    return b'"compaction' in raw


def summary_message(summary: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": _SUMMARY_ROLE,
        "content": [{"type": "input_text", "text": SUMMARY_PREFIX + summary}],
    }


def _kind(item: Any) -> Any:
    return item.get("type") if isinstance(item, dict) else None


def check_input(items: list[dict[str, Any]], sealer: Sealer, tenant: str) -> None:
    """A request's input: a trigger only as the final item, every compaction item one
    this gateway sealed for this tenant (400s otherwise)."""
    for i, item in enumerate(items):
        kind = _kind(item)
        if kind == TRIGGER and i != len(items) - 1:
            raise InvalidRequestError(
                "A 'compaction_trigger' item must be the final input item.",
                param=f"input[{i}]",
                code="invalid_value",
            )
        if kind == COMPACTION:
            sealer.open(tenant, item.get("encrypted_content"), f"input[{i}].encrypted_content")


def expand(
    items: list[dict[str, Any]], sealer: Sealer, tenant: str, param: str
) -> list[dict[str, Any]]:
    """The items as the backend gets them (see the module's docstring); `param` names
    where a compaction item that fails to open came from."""
    last = max((i for i, item in enumerate(items) if _kind(item) == COMPACTION), default=-1)
    head: list[dict[str, Any]] = []
    if last >= 0:
        sealed = sealer.open(tenant, items[last].get("encrypted_content"), param)
        head = [summary_message(sealed.summary), *sealed.kept]
    return head + [item for item in items[last + 1 :] if _kind(item) != TRIGGER]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for element in value:
            yield from _strings(element)
    elif isinstance(value, dict):
        for key, element in value.items():
            if key in _TEXT_FIELDS:
                yield from _strings(element)


def count_item_tokens(items: Iterable[Any]) -> int:
    """An estimate of the tokens the items take in the model's context."""
    total = 0
    for item in items:
        total += _PER_ITEM_TOKENS + sum(count_tokens(text) for text in _strings(item))
    return total


def _is_user_message(item: Any) -> bool:
    return _kind(item) == "message" and bool(item.get("role") == "user")


def kept_user_messages(items: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """The most recent user messages whose tokens fit in `budget` (always the last one,
    whatever its size: it is what the model answers next), oldest first."""
    kept: list[dict[str, Any]] = []
    used = 0
    for item in reversed(items):
        if not _is_user_message(item):
            continue
        cost = count_item_tokens([item])
        if kept and used + cost > budget:
            break
        kept.append(item)
        used += cost
    return kept[::-1]
