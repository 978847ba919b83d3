"""Counting the input tokens of a request: the backend's own tokenizer when it has one,
else an estimate.

What is counted is the text the model reads: instructions, message text, function calls
(name and arguments) and their outputs, reasoning text, tool definitions; other items
count as their JSON. Each item adds `ITEM_OVERHEAD` tokens for the chat template's role
markers and separators, which no tokenizer call on plain text sees.

* A backend with vLLM's `POST /tokenize` (on the server root) counts that text with the
  model's own tokenizer; its answer also carries the model's window (`max_model_len`).
* Otherwise the bundled cl100k_base tokenizer (the one chunking uses, no network)
  estimates it. Another model's tokenizer may count differently, so callers that must
  stay under a limit keep `ESTIMATE_MARGIN` of it free.

Images and files are not counted (their cost depends on the model's vision encoder).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from core.vector_stores.ingestion.chunking import count_tokens as cl100k_tokens

if TYPE_CHECKING:
    from core.responses.backend_client import BackendClient

__all__ = [
    "ESTIMATE_MARGIN",
    "ITEM_OVERHEAD",
    "TokenCount",
    "TokenCounter",
    "estimate_request",
    "estimate_tokens",
    "item_text",
    "request_text",
]

ITEM_OVERHEAD = 4
ESTIMATE_MARGIN = 0.10
# A backend that said it has no tokenizer for a model is asked again after this long.
_NO_TOKENIZER_SECONDS = 300.0


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            str(part.get("text") or part.get("refusal") or "")
            for part in content
            if isinstance(part, dict) and ("text" in part or "refusal" in part)
        ]
    return []


def item_text(item: Any) -> str:
    """The text of one input item, as the model reads it."""
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return ""
    kind = item.get("type")
    if kind == "message" or (kind is None and "role" in item):
        return "\n".join(_texts(item.get("content")))
    if kind == "function_call":
        return f"{item.get('name') or ''} {item.get('arguments') or ''}"
    if kind == "function_call_output":
        output = item.get("output")
        return "\n".join(_texts(output)) if isinstance(output, list) else str(output or "")
    if kind == "reasoning":
        return "\n".join([*_texts(item.get("summary")), *_texts(item.get("content"))])
    return orjson.dumps(item).decode()


def request_text(items: Sequence[Any], instructions: Any = None, tools: Any = None) -> str:
    """Everything of a request the model reads, as one text."""
    parts = [item_text(item) for item in items]
    if isinstance(instructions, str) and instructions:
        parts.insert(0, instructions)
    elif isinstance(instructions, list):
        parts[:0] = [item_text(item) for item in instructions]
    if tools:
        parts.append(orjson.dumps(tools).decode())
    return "\n".join(parts)


def _overhead(items: Sequence[Any], instructions: Any) -> int:
    extra = len(instructions) if isinstance(instructions, list) else bool(instructions)
    return ITEM_OVERHEAD * (len(items) + extra)


def estimate_tokens(item: Any) -> int:
    """One item's tokens by the bundled cl100k tokenizer, template overhead included."""
    return cl100k_tokens(item_text(item)) + ITEM_OVERHEAD


def estimate_request(items: Sequence[Any], instructions: Any = None, tools: Any = None) -> int:
    """A whole request's tokens by the bundled cl100k tokenizer, overhead included."""
    return cl100k_tokens(request_text(items, instructions, tools)) + _overhead(items, instructions)


@dataclass(frozen=True, slots=True)
class TokenCount:
    tokens: int
    exact: bool  # counted by the backend's tokenizer (else a cl100k estimate)
    window: int | None = None  # the model's window, when the tokenizer told it


class TokenCounter:
    """Counts with the backend's tokenizer endpoint when it has one, else estimates.

    Shared by every request of a sidecar: it remembers, per model, a backend that has no
    tokenizer endpoint, so such backends are not asked on every request."""

    def __init__(self, backend: BackendClient | None) -> None:
        self._backend = backend
        self._without: dict[str, float] = {}  # model -> when the backend said no

    async def count_tokens(
        self,
        items: Sequence[Any],
        model: str,
        *,
        instructions: Any = None,
        tools: Any = None,
        authorization: str | None = None,
    ) -> TokenCount:
        """The input tokens of a request made of these items (decoded input items)."""
        text = request_text(items, instructions, tools)
        overhead = _overhead(items, instructions)
        counted = await self._tokenize(text, model, authorization)
        if counted is not None:
            count, window = counted
            return TokenCount(count + overhead, True, window)
        return TokenCount(cl100k_tokens(text) + overhead, False)

    async def _tokenize(
        self, text: str, model: str, authorization: str | None
    ) -> tuple[int, int | None] | None:
        if self._backend is None or not model:
            return None
        said_no = self._without.get(model)
        if said_no is not None and time.monotonic() - said_no < _NO_TOKENIZER_SECONDS:
            return None
        body = {"model": model, "prompt": text, "add_special_tokens": False}
        status, answer = await self._backend.lookup("POST", "/tokenize", body, authorization)
        count = answer.get("count") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(count, int) or isinstance(count, bool):
            if 400 <= status < 500:  # no such endpoint, or not for this model
                if len(self._without) >= 4096:  # model names come from clients
                    self._without.clear()
                self._without[model] = time.monotonic()
            return None
        self._without.pop(model, None)
        window = answer.get("max_model_len")
        return count, window if isinstance(window, int) and window > 0 else None
