"""Compaction on `POST /v1/responses`: the context the backend is sent, compacted first
when it grows past the request's `context_management` threshold or when the input ends
with a `compaction_trigger` item.

The compaction item made then leads the response's output (as the hosted API puts it),
so it is stored with the response and replayed by later turns of the chain or the
conversation, in place of everything before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from pydantic import Field, TypeAdapter

from core.common.errors import InvalidRequestError
from core.common.ids import new_id
from core.common.models import ClosedModel, parse_as
from core.responses.backend_client import BackendClient
from core.responses.compaction.seal import Sealed, Sealer
from core.responses.compaction.summarise import summarise
from core.responses.compaction.window import (
    TRIGGER,
    check_input,
    count_item_tokens,
    expand,
    kept_user_messages,
    mentions_compaction,
    summary_message,
)
from core.vector_stores.ingestion.chunking import count_tokens

__all__ = ["KEPT_TOKENS", "Compacted", "ContextCompaction", "compaction_item"]

# The most tokens of recent user messages a compaction keeps verbatim (at least the last
# message); with a threshold, at most a quarter of it, so a compacted context fits well.
KEPT_TOKENS = 2000


class _Entry(ClosedModel):
    type: str
    compact_threshold: Annotated[int, Field(ge=1000)] | None = None


_ENTRIES: TypeAdapter[list[_Entry] | None] = TypeAdapter(
    Annotated[list[_Entry], Field(min_length=1)] | None
)


def _threshold(value: Any) -> int | None:
    """`context_management`'s compaction threshold (None: only a trigger compacts)."""
    entries = parse_as(_ENTRIES, value, "context_management") or []
    threshold = None
    for i, entry in enumerate(entries):
        if entry.type != "compaction":
            raise InvalidRequestError(
                f"Invalid value: '{entry.type[:64]}'. Supported values are: 'compaction'.",
                param=f"context_management[{i}].type",
                code="invalid_value",
            )
        threshold = entry.compact_threshold
    return threshold


def compaction_item(sealer: Sealer, tenant: str, summary: str, kept: list[Any]) -> dict[str, Any]:
    return {
        "id": new_id("cmp"),
        "type": "compaction",
        "encrypted_content": sealer.seal(tenant, Sealed(summary, kept)),
    }


@dataclass(frozen=True, slots=True)
class Compacted:
    """The backend's items (context then input, comma-joined) and the compaction item
    made for this response, if one was."""

    items: bytes
    item: dict[str, Any] | None = None
    # Nothing was compacted now or before: the items are the context and input as they
    # are (so truncation may fit them to the model's window instead).
    plain: bool = False


class ContextCompaction:
    def __init__(
        self,
        sealer: Sealer,
        tenant: str,
        backend: BackendClient | None,
        authorization: str | None,
    ) -> None:
        self._sealer = sealer
        self._tenant = tenant
        self._backend = backend
        self._authorization = authorization

    async def window(
        self,
        body: dict[str, Any],
        context: bytes,
        input_items: list[bytes],
        context_param: str,
        instructions: object,
    ) -> Compacted:
        """What the backend gets of `context` and the new input, compacted if due."""
        threshold = _threshold(body.get("context_management"))
        text = instructions if isinstance(instructions, str) else None
        joined = b",".join(part for part in (context, *input_items) if part)
        if threshold is None and not mentions_compaction(joined):
            return Compacted(joined, plain=True)  # the common case: nothing decoded
        own = [orjson.loads(item) for item in input_items]
        check_input(own, self._sealer, self._tenant)
        context_items = orjson.loads(b"[" + context + b"]")
        # A failure to open can only be the context's: the input was checked above.
        items = expand([*context_items, *own], self._sealer, self._tenant, context_param)
        triggered = bool(own) and own[-1].get("type") == TRIGGER
        due = threshold is not None and (
            count_item_tokens(items) + count_tokens(text or "") > threshold
        )
        if not (triggered or due):
            return Compacted(b",".join(orjson.dumps(item) for item in items))
        if self._backend is None:
            raise InvalidRequestError(
                "Compaction is not available on this gateway.",
                param="context_management",
                code="unsupported_parameter",
            )
        budget = KEPT_TOKENS if threshold is None else min(KEPT_TOKENS, threshold // 4)
        kept = kept_user_messages(items, budget)
        summary = await summarise(
            self._backend, self._authorization, str(body.get("model")), items, text
        )
        item = compaction_item(self._sealer, self._tenant, summary.text, kept)
        window = [summary_message(summary.text), *kept]
        return Compacted(b",".join(orjson.dumps(i) for i in window), item)
