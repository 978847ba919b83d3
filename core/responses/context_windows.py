"""Models' context windows, as the backend tells them, remembered per model.

A backend says how long a model's context is in three places: the 400 of a request that
overflowed it (vLLM: "This model's maximum context length is N tokens. However, your
request has M input tokens. ..."), `max_model_len` in `GET /v1/models`, and
`max_model_len` in its tokenizer's answer. The sidecar keeps what it learned for its
lifetime, so a model's window costs at most one lookup (or one failed request).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from core.responses.backend_client import BackendClient

__all__ = ["ContextWindows", "Overflow", "overflow_in", "parse_overflow"]

_WINDOW = re.compile(r"maximum context length is (\d+)", re.IGNORECASE)
# vLLM: "your request has M input tokens", older vLLM: "(M in the messages, ...)",
# OpenAI: "your messages resulted in M tokens".
_TOKENS = re.compile(
    r"(\d+) input tokens|(\d+) in the messages|resulted in (\d+) tokens", re.IGNORECASE
)
# A model a listing did not name is looked up again after this long.
_UNLISTED_SECONDS = 300.0
# Model names come from clients: past this many remembered, the memory starts afresh.
_MOST_MODELS = 4096


@dataclass(frozen=True, slots=True)
class Overflow:
    """What a backend's context-overflow error says."""

    window: int
    tokens: int | None  # the rejected request's input tokens, when the message gives them


def parse_overflow(message: str) -> Overflow | None:
    """The window (and the request's size) from a backend's overflow message."""
    found = _WINDOW.search(message)
    if found is None:
        return None
    size = _TOKENS.search(message)
    tokens = next((int(g) for g in size.groups() if g), None) if size else None
    return Overflow(int(found.group(1)), tokens)


def overflow_in(status: int, body: bytes) -> Overflow | None:
    """The overflow a backend's error answer reports, if it reports one."""
    if status != 400:
        return None
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return parse_overflow(body.decode("utf-8", "replace"))
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        parsed = parsed["error"]
    message = parsed.get("message") if isinstance(parsed, dict) else None
    return parse_overflow(message) if isinstance(message, str) else None


class ContextWindows:
    """The windows learned so far, shared by every request of a sidecar."""

    def __init__(self, backend: BackendClient | None) -> None:
        self._backend = backend
        self._known: dict[str, int] = {}
        self._unlisted: dict[str, float] = {}  # model -> when a listing lacked it

    def get(self, model: str) -> int | None:
        return self._known.get(model)

    def learn(self, model: str, window: int | None) -> None:
        if window is not None and window > 0:
            if len(self._known) >= _MOST_MODELS:
                self._known.clear()
            self._known[model] = window

    async def lookup(self, model: str, authorization: str | None) -> int | None:
        """The model's window: remembered, else from the backend's model listing."""
        known = self._known.get(model)
        if known is not None or self._backend is None:
            return known
        unlisted = self._unlisted.get(model)
        if unlisted is not None and time.monotonic() - unlisted < _UNLISTED_SECONDS:
            return None
        status, answer = await self._backend.lookup("GET", "/models", None, authorization)
        data = answer.get("data") if status == 200 and isinstance(answer, dict) else None
        for entry in data if isinstance(data, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                size = entry.get("max_model_len")
                if isinstance(size, int) and not isinstance(size, bool):
                    self.learn(entry["id"], size)
        if model not in self._known:
            if len(self._unlisted) >= _MOST_MODELS:
                self._unlisted.clear()
            self._unlisted[model] = time.monotonic()
        return self._known.get(model)
