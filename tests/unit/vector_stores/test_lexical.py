"""Lexical sparse vectors: stable term hashes and BM25 term-frequency weights."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from core.vector_stores.ingestion.lexical import K1, sparse_document, sparse_query, terms


def _index(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "big")


def _weights(text: str) -> dict[int, float]:
    indices, values = sparse_document(text)
    return dict(zip(indices, values, strict=True))


def test_terms_lowercase_unicode_words() -> None:
    text = "The Gateway's vector-store, v2 API: Übergröße naïve_café x 42 日本語"
    assert terms(text) == [
        "gateway", "vector", "store", "v2", "api", "übergröße", "naïve", "café", "42", "日本語"
    ]  # fmt: skip


def test_stopwords_and_single_characters_dropped() -> None:
    assert terms("the and of a to is it I x 7") == []
    assert sparse_document("The cat and THE dog") == sparse_document("cat dog")
    assert sparse_query("what is the vector store") == sparse_query("vector store")


def test_indices_deterministic_across_processes() -> None:
    text = "Deterministic hashing of lexical terms, across processes"
    script = (
        "from core.vector_stores.ingestion.lexical import sparse_document;"
        f"print(sparse_document({text!r})[0])"
    )
    # A fresh interpreter has a different PYTHONHASHSEED: the indices must not change.
    other = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(__file__).parents[3])},
    )
    assert other.stdout.strip() == str(sparse_document(text)[0])
    assert set(sparse_document(text)[0]) == {_index(t) for t in terms(text)}


def test_indices_sorted_unique_32_bit() -> None:
    text = " ".join(f"word{i % 97} term{i % 13}" for i in range(2000))
    for indices, values in (sparse_document(text), sparse_query(text)):
        assert indices == sorted(set(indices))
        assert len(indices) == len(values) == 97 + 13
        assert all(0 <= i < 2**32 for i in indices)


def test_tf_saturates_monotonically() -> None:
    # Same document length each time, so only the term frequency changes.
    filler = [f"filler{i}" for i in range(60)]
    previous = 0.0
    for tf in range(1, 40):
        weights = _weights(" ".join(["needle"] * tf + filler[tf:]))
        weight = weights[_index("needle")]
        assert weight > previous
        assert weight < K1 + 1.0  # BM25's tf component is bounded by k1 + 1
        previous = weight
    increments = [
        _weights(" ".join(["needle"] * (tf + 1) + filler[tf + 1 :]))[_index("needle")]
        - _weights(" ".join(["needle"] * tf + filler[tf:]))[_index("needle")]
        for tf in range(1, 10)
    ]
    assert increments == sorted(increments, reverse=True)  # diminishing returns


def test_longer_documents_weigh_a_term_less() -> None:
    short = _weights("needle " + " ".join(f"w{i}" for i in range(10)))
    long = _weights("needle " + " ".join(f"w{i}" for i in range(1000)))
    assert long[_index("needle")] < short[_index("needle")]


def test_bm25_value() -> None:
    # Two terms, doc_len 2: norm = 1.2 * (0.25 + 0.75 * 2 / 256).
    weights = _weights("alpha alpha")
    norm = 1.2 * (0.25 + 0.75 * 2 / 256)
    assert abs(weights[_index("alpha")] - 2 * 2.2 / (2 + norm)) < 1e-12


def test_query_weights_are_one() -> None:
    indices, values = sparse_query("Vector vector STORE search search search")
    assert indices == sorted({_index("vector"), _index("store"), _index("search")})
    assert values == [1.0, 1.0, 1.0]
    assert sparse_query("the of and") == ([], [])
    assert sparse_document("") == ([], [])
