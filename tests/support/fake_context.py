"""The fake backend's context windows, enforced the way vLLM enforces them.

A model named ``ctx-<N>`` (optionally followed by ``-anything``, so a test can use a
name of its own) has a context window (``max_model_len``) of N tokens; every other model
has `DEFAULT_WINDOW`, which no test input comes near.

The fake's tokenizer is deliberately simple and documented so tests can compute counts:
**one token per whitespace-separated word** of the text the model reads: the
instructions, the text parts of messages, a function call's name and arguments, a
function call output, and a reasoning item's texts.

* ``POST /v1/responses`` whose input tokens plus ``max_output_tokens`` (when given) exceed
  the window gets vLLM's 400 (``{"object": "error", "message": "This model's maximum
  context length is N tokens. However, your request has M input tokens. ...",
  "type": "BadRequestError", "code": 400}``), or vLLM's other wording when only
  ``max_output_tokens`` makes it overflow.
* ``GET /v1/models`` lists `LISTED` models with their ``max_model_len``.
* ``POST /tokenize`` (vLLM's, on the server root) counts ``prompt`` (or the text of
  ``messages``) by the same rule: ``{"count", "max_model_len", "tokens"}``. A model whose
  name contains ``-notok`` is unknown to it (404), as for a backend without a tokenizer
  endpoint for that model.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "DEFAULT_WINDOW",
    "LISTED",
    "models_page",
    "overflow_error",
    "request_tokens",
    "tokenize_answer",
    "window_of",
    "words",
]

DEFAULT_WINDOW = 1_000_000
# Models GET /v1/models lists; other ctx-N names are enforced but not listed (a backend
# whose listing says nothing about them), so the gateway must learn them otherwise.
LISTED = {"fake-model": DEFAULT_WINDOW, "ctx-60": 60, "ctx-100": 100}

_CTX = re.compile(r"ctx-(\d+)(?:-|$)")


def window_of(model: str) -> int:
    found = _CTX.match(model)
    return int(found.group(1)) if found else DEFAULT_WINDOW


def words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _content_words(content: Any) -> int:
    if isinstance(content, str):
        return words(content)
    if isinstance(content, list):
        return sum(words(p.get("text")) for p in content if isinstance(p, dict))
    return 0


def _item_words(item: Any) -> int:
    if isinstance(item, str):
        return words(item)
    if not isinstance(item, dict):
        return 0
    kind = item.get("type")
    if kind == "function_call":
        return words(item.get("name")) + words(item.get("arguments"))
    if kind == "function_call_output":
        return _content_words(item.get("output"))
    if kind == "reasoning":
        return _content_words(item.get("content")) + _content_words(item.get("summary"))
    return _content_words(item.get("content"))


def request_tokens(body: dict[str, Any]) -> int:
    """The input tokens of a /v1/responses request, by the fake's rule."""
    inp = body.get("input")
    items = inp if isinstance(inp, list) else [inp]
    return words(body.get("instructions")) + sum(_item_words(item) for item in items)


def overflow_error(body: dict[str, Any]) -> dict[str, Any] | None:
    """vLLM's 400 body when the request does not fit its model's window, else None."""
    window = window_of(str(body.get("model") or ""))
    tokens = request_tokens(body)
    reserve = body.get("max_output_tokens")
    reserve = reserve if isinstance(reserve, int) else 0
    if tokens + reserve <= window:
        return None
    if tokens < window:
        message = (
            f"'max_tokens' or 'max_completion_tokens' is too large: {reserve}. This model's "
            f"maximum context length is {window} tokens and your request has {tokens} input "
            f"tokens ({reserve} > {window} - {tokens})."
        )
    else:
        message = (
            f"This model's maximum context length is {window} tokens. However, your request "
            f"has {tokens} input tokens. Please reduce the length of the input messages."
        )
    return {
        "object": "error",
        "message": message,
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }


def models_page(now: int) -> dict[str, Any]:
    data = [
        {"id": name, "object": "model", "created": now, "owned_by": "fake", "max_model_len": n}
        for name, n in LISTED.items()
    ]
    return {"object": "list", "data": data}


def tokenize_answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(status, body) of vLLM's ``POST /tokenize``."""
    model = str(body.get("model") or "")
    if "-notok" in model:
        message = f"The model `{model}` does not exist."
        return 404, {"object": "error", "message": message, "type": "NotFoundError", "code": 404}
    if "messages" in body:
        messages = body["messages"] if isinstance(body["messages"], list) else []
        count = sum(_item_words(m) for m in messages)
    else:
        count = words(body.get("prompt"))
    return 200, {"count": count, "max_model_len": window_of(model), "tokens": list(range(count))}
